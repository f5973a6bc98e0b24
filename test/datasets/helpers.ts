import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { InputErrors, type InputError } from '../../src/core/errors.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/datasets/', import.meta.url));
export const fixture = (name: string): string => FIXTURES + name;

/** Runs `load`, expects InputErrors, and returns its problems as { line, field, message }. */
export async function problemsOf(load: () => Promise<unknown>): Promise<{ file?: string; line?: number; field?: string; message: string }[]> {
  const error = await load().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputErrors);
  return (error as InputErrors).problems.map((p: InputError) => ({ ...p.place, message: p.message }));
}
