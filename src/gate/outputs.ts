// Where a gate result goes besides stdout: the GitHub Actions job summary (appended, as GitHub asks:
// other steps write to the same file), a JUnit XML file and a JSON file.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../core/errors.js';
import { appendRedacted, writeRedacted } from '../core/redact.js';
import type { GateResult } from './gate.js';
import { renderGateJUnit } from './junit.js';

/** Appends `markdown` to the file named by GITHUB_STEP_SUMMARY when set; returns that file or null. */
export function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return null;
  try {
    appendRedacted(file, markdown.endsWith('\n') ? markdown : markdown + '\n');
  } catch (e) {
    throw new InputError(`cannot append the job summary: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file, field: 'GITHUB_STEP_SUMMARY' });
  }
  return file;
}

function writeOut(file: string, text: string, what: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeRedacted(file, text);
  } catch (e) {
    throw new InputError(`cannot write the ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

export function writeGateJUnit(result: GateResult, file: string): void {
  writeOut(file, renderGateJUnit(result), 'JUnit XML');
}

export function writeGateJson(result: GateResult, file: string): void {
  writeOut(file, JSON.stringify(result, null, 2) + '\n', 'gate JSON');
}
