// Field checks for one record that collect every problem (with file:line and field) instead of
// stopping at the first, so a user can fix a whole file in one pass.
import { InputError } from '../core/errors.js';
import type { Letter } from '../core/types.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : `the string ${JSON.stringify(value)}`;
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export class RecordCheck {
  readonly problems: InputError[] = [];
  constructor(
    readonly file: string,
    readonly line: number,
  ) {}

  fail(field: string | undefined, message: string): void {
    this.problems.push(new InputError(message, { file: this.file, line: this.line, field }));
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /** A required non-empty string. */
  text(record: Record<string, unknown>, field: string): string | undefined {
    if (!(field in record) || record[field] === undefined) {
      this.fail(field, 'missing');
      return undefined;
    }
    return this.textValue(record[field], field);
  }

  /** An optional string: absent or null is fine, anything else but a string is not. */
  optionalText(record: Record<string, unknown>, field: string): string | undefined {
    const value = record[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.fail(field, `must be a string, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  textValue(value: unknown, field: string): string | undefined {
    if (typeof value !== 'string') {
      this.fail(field, `must be a string, got ${describeValue(value)}`);
      return undefined;
    }
    if (value.trim() === '') {
      this.fail(field, 'is empty');
      return undefined;
    }
    return value;
  }

  /** An optional array of strings. */
  optionalStrings(record: Record<string, unknown>, field: string): string[] | undefined {
    const value = record[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      this.fail(field, `must be an array of strings, got ${describeValue(value)}`);
      return undefined;
    }
    return value as string[];
  }

  /** An id given by the file: a non-empty string or an integer. */
  optionalId(record: Record<string, unknown>, field = 'id'): string | undefined {
    const value = record[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
    return this.textValue(value, field);
  }

  /**
   * An options object: keys are consecutive letters from "A", values non-empty strings.
   * Returns the options in letter order.
   */
  options(record: Record<string, unknown>, field = 'options'): Record<Letter, string> | undefined {
    const value = record[field];
    if (value === undefined) {
      this.fail(field, 'missing');
      return undefined;
    }
    if (!isPlainObject(value)) {
      this.fail(field, `must be an object of letter -> option text, got ${describeValue(value)}`);
      return undefined;
    }
    const keys = Object.keys(value).sort();
    if (keys.length < 2) {
      this.fail(field, `needs at least 2 options, got ${keys.length}`);
      return undefined;
    }
    const expected = LETTERS.slice(0, keys.length).split('');
    if (keys.join(',') !== expected.join(',')) {
      this.fail(field, `keys must be consecutive letters ${expected[0]}..${expected.at(-1)}, got ${keys.join(',')}`);
      return undefined;
    }
    const options: Record<Letter, string> = {};
    let good = true;
    for (const key of keys) {
      const text = this.textValue(value[key], `${field}.${key}`);
      if (text === undefined) good = false;
      else options[key] = text;
    }
    return good ? options : undefined;
  }
}

/** "A".."D" for n = 4. */
export function optionLetters(n: number): Letter[] {
  return LETTERS.slice(0, n).split('');
}
