// Shared set-up for the reliability tests: a suite over the bundled sample and an attached llama-server
// profile pointing at a protocol double, written into a temporary folder, and the double's deterministic
// answers (a letter derived from a hash of the prompt, a few unparseable replies).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemResult } from '../../src/core/types.js';
import { unitHash } from '../doubles/fault-schedule.js';
import type { Script } from '../doubles/scripted-sse.js';
import { REPO, SAMPLE } from '../helpers/tiny-run.js';

export { tempDir } from '../helpers/tiny-run.js';

export function writeSampleSuite(dir: string, opts: { samples?: number; load?: string[]; limit?: number } = {}): string {
  const file = join(dir, 'suite.yaml');
  writeFileSync(file, [
    'name: reliability-sample',
    'smokeTest: true',
    'dataset:',
    '  format: medqa',
    `  path: ${SAMPLE}`,
    `prompts: ${join(REPO, 'suites/prompts')}`,
    'sampling:',
    '  temperature: 0.6',
    '  topP: 0.95',
    '  maxTokens: 64',
    `samples: ${opts.samples ?? 1}`,
    ...(opts.limit ? [`limit: ${opts.limit}`] : []),
    'load:',
    ...(opts.load ?? ['  profile: sequential', '  warmup: 0']),
    '',
  ].join('\n'));
  return file;
}

export function writeServerProfile(dir: string, baseUrl: string, fields: Record<string, string | number | boolean> = {}): string {
  const file = join(dir, 'double.yaml');
  const lines = ['kind: llama-server', 'label: double', 'mode: attached', `baseUrl: ${baseUrl}`];
  for (const [k, v] of Object.entries(fields)) lines.push(`${k}: ${v}`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** The prompt of a chat request (the run loop sends one user message). */
export function promptOf(body: Record<string, unknown>): string {
  return (body.messages as Array<{ content: string }>).map((m) => m.content).join('\n');
}

/** The double's reply to a prompt: always the same for the same prompt; about 1 in 10 cannot be scored. */
export function answerScript(body: Record<string, unknown>): Script {
  const prompt = promptOf(body);
  if (unitHash(`unparseable:${prompt}`) < 0.1) {
    return { chunks: [{ delayMs: 0, content: 'I am not able to choose' }, { delayMs: 0, content: ' between these.' }], finishReason: 'stop' };
  }
  const letter = 'ABCDE'[Math.floor(unitHash(`answer:${prompt}`) * 5)]!;
  return { chunks: [{ delayMs: 0, content: 'Answer' }, { delayMs: 0, content: ': ' }, { delayMs: 0, content: letter }], finishReason: 'stop' };
}

export function readJournal(dir: string): ItemResult[] {
  return readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ItemResult);
}

export const resultKey = (r: Pick<ItemResult, 'itemId' | 'sample'>) => `${r.itemId}#${r.sample}`;
