// Errors that say where (file:line, field) and what to do. The CLI maps them to exit codes:
// InputError -> 2 (bad input or config), anything else -> 1 after saving what was computed.

export interface Place {
  file?: string;
  line?: number;
  field?: string;
}

export function formatPlace(place: Place): string {
  const parts: string[] = [];
  if (place.file) parts.push(place.line != null ? `${place.file}:${place.line}` : place.file);
  if (place.field) parts.push(`field "${place.field}"`);
  return parts.join(' ');
}

/** Bad input or config: a dataset line, a YAML field, a model path. Exit code 2. */
export class InputError extends Error {
  readonly place: Place;
  readonly hint?: string;
  constructor(message: string, place: Place = {}, hint?: string) {
    const where = formatPlace(place);
    super(`${where ? where + ': ' : ''}${message}${hint ? `\n  hint: ${hint}` : ''}`);
    this.name = 'InputError';
    this.place = place;
    this.hint = hint;
  }
}

/** Several input problems found in one pass, reported together so a user fixes them all at once. */
export class InputErrors extends InputError {
  readonly problems: InputError[];
  constructor(problems: InputError[], summary: string) {
    const shown = problems.slice(0, 20).map((p) => '  - ' + p.message.replace(/\n/g, '\n    ')).join('\n');
    const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
    super(`${summary}\n${shown}${more}`);
    this.name = 'InputErrors';
    this.problems = problems;
  }
}
