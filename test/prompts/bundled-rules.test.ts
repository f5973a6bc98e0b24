// The bundled rule file is read from a generated data copy when the file is byte for byte the bundled one
// (start-up): the copy must be the YAML's data, and the rules, errors and edited files the YAML path's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sha256Hex } from '../../src/core/sha256.js';
import { parseYamlText } from '../../src/core/yaml-config.js';
import { parseTypeRules, type TypeRules } from '../../src/prompts/classify.js';
import { BUNDLED_RULES } from '../../src/prompts/question-types.bundled.js';

const RULES_FILE = new URL('../../suites/prompts/question-types.yaml', import.meta.url).pathname;
const text = readFileSync(RULES_FILE, 'utf8');
const STALE = 'stale: run `npx tsx scripts/write-bundled-rules.ts`';

/** Rules as comparable data: every pattern by its source and flags. */
const plain = (r: TypeRules) => ({
  file: r.file, fallback: r.fallback,
  rules: r.rules.map((x) => ({ name: x.name, type: x.type, in: x.in, patterns: x.patterns.map((p) => `/${p.source}/${p.flags}`) })),
});

describe('bundled question-type rules', () => {
  it('the generated copy is the YAML file: same text digest and length, same data', () => {
    expect(BUNDLED_RULES.sha256, STALE).toBe(sha256Hex(text));
    expect(BUNDLED_RULES.length, STALE).toBe(text.length);
    expect(BUNDLED_RULES.data, STALE).toStrictEqual(parseYamlText(text, RULES_FILE, z.unknown(), 'question-type rules'));
  });

  it('gives the same rules as the YAML path (the file with one more comment line is parsed as YAML)', () => {
    const viaCopy = parseTypeRules(text, RULES_FILE);
    const viaYaml = parseTypeRules(`${text}\n# edited\n`, RULES_FILE);
    expect(plain(viaCopy)).toStrictEqual(plain(viaYaml));
    expect(viaCopy.rules.length).toBeGreaterThan(10);
  });

  it('an edited file is parsed as YAML: its errors name file:line', () => {
    const edited = text.replace('type: ethics', 'type: ethicz');
    expect(edited).not.toBe(text);
    let err: unknown;
    try { parseTypeRules(edited, RULES_FILE); } catch (e) { err = e; }
    expect(String((err as Error).message)).toContain('question-type rules has 1 problem(s)');
    const line = text.split('\n').findIndex((l) => l.includes('type: ethics')) + 1;
    expect(String((err as Error).message)).toContain(`question-types.yaml:${line} field "rules.0.type"`);
  });
});
