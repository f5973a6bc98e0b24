// The editor schemas (schemas/*.schema.json) are generated from the zod schemas: the committed files
// must be what the generator writes now, and every bundled YAML file must fit them (kind, required
// fields, known field names, enum values). zod remains the real validator; this is the editor's view.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMAS, renderConfigSchemas, yamlSchemaHint } from '../../src/run/json-schema.js';
import { runnerProfileSchema } from '../../src/runners/registry.js';
import { registerSchema } from '../../src/cli/commands/schema.js';
import { REPO } from '../helpers/tiny-run.js';
import { tempDir } from './helpers.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
}

const committed = (file: string) => JSON.parse(readFileSync(join(REPO, 'schemas', file), 'utf8')) as JsonSchema;
const yamlIn = (dir: string) => readdirSync(join(REPO, dir)).filter((f) => f.endsWith('.yaml')).map((f) => join(REPO, dir, f));

/** Problems of `value` against an object schema, one level deep (what an editor flags while typing). */
function topLevelProblems(value: Record<string, unknown>, schema: JsonSchema, strictKeys: boolean): string[] {
  const problems: string[] = [];
  for (const key of schema.required ?? []) if (!(key in value)) problems.push(`missing ${key}`);
  for (const [key, v] of Object.entries(value)) {
    const prop = schema.properties?.[key];
    if (!prop) {
      if (strictKeys || schema.additionalProperties === false) problems.push(`unknown field ${key}`);
      continue;
    }
    if (prop.enum && !prop.enum.includes(v)) problems.push(`${key}: ${String(v)} not in ${prop.enum.join(', ')}`);
    if (prop.const !== undefined && prop.const !== v) problems.push(`${key}: expected ${String(prop.const)}`);
  }
  return problems;
}

describe('JSON Schemas for editors', () => {
  it('the committed schemas/ files are up to date (run `npx tsx scripts/write-schemas.ts` after a schema change)', () => {
    const fresh = renderConfigSchemas();
    expect(fresh.map((f) => f.file)).toEqual(['runner-profile.schema.json', 'suite.schema.json', 'experiment.schema.json']);
    for (const { file, text } of fresh) expect(readFileSync(join(REPO, 'schemas', file), 'utf8'), file).toBe(text);
  });

  it('the runner profile schema offers exactly the kinds the registry knows, one branch each', () => {
    const schema = committed('runner-profile.schema.json');
    const kinds = schema.oneOf!.map((b) => b.properties!.kind!.const);
    expect(kinds.sort()).toEqual(runnerProfileSchema.options.map((o) => o.shape.kind.value).sort());
    expect(kinds).toEqual(expect.arrayContaining(['llama-cpp-embedded', 'onnx', 'llama-server', 'vllm']));
    for (const b of schema.oneOf!) expect(b.required).toEqual(expect.arrayContaining(['kind', 'label']));
    // Input side: fields with defaults are optional for the user.
    const server = schema.oneOf!.find((b) => b.properties!.kind!.const === 'llama-server')!;
    expect(server.required).not.toContain('requestTimeoutMs');
    expect(server.properties!.mode!.enum).toEqual(['attached', 'managed']);
  });

  it('every bundled runner profile fits its kind\'s branch (no unknown or misspelt field)', () => {
    const schema = committed('runner-profile.schema.json');
    const files = yamlIn('runners');
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const value = parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      const branch = schema.oneOf!.find((b) => b.properties!.kind!.const === value.kind);
      expect(branch, `${f}: kind ${String(value.kind)}`).toBeDefined();
      // Strict keys: zod drops unknown runner-profile fields silently, so a typo would go unnoticed.
      expect(topLevelProblems(value, branch!, true), f).toEqual([]);
    }
  });

  it('every bundled suite and experiment file fits its schema', () => {
    const suite = committed('suite.schema.json');
    const experiment = committed('experiment.schema.json');
    expect(suite.additionalProperties).toBe(false);
    expect(suite.properties!.answerConstraint!.enum).toEqual(['none', 'letter']);
    for (const f of yamlIn('suites')) {
      const value = parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      const schema = 'baseline' in value ? experiment : suite;
      expect(topLevelProblems(value, schema, false), f).toEqual([]);
    }
  });

  it('a misspelt field is flagged by the editor schema of suites', () => {
    expect(topLevelProblems({ name: 'x', dataset: { path: 'a' }, sampels: 2 }, committed('suite.schema.json'), false)).toEqual(['unknown field sampels']);
  });

  // KNOWN GAP: runner profiles are z.object, which drops unknown keys, so `requestTimeoutMS: 5` (a typo)
  // is accepted and silently ignored. Fix: z.strictObject in the four runner schemas (llama-embedded.ts,
  // onnx.ts, llama-server.ts, vllm.ts); then this test fails: drop `.fails`, and regenerate schemas/.
  it('zod rejects an unknown runner-profile field', () => {
    const r = runnerProfileSchema.safeParse({ kind: 'llama-server', label: 'x', baseUrl: 'http://127.0.0.1:8080', requestTimeoutMS: 5 });
    expect(r.success).toBe(false);
  });

  it('`medeval schema --out DIR` writes the three files and prints the yaml-language-server line', async () => {
    const dir = tempDir('medeval-schema-');
    const program = new Command().exitOverride();
    registerSchema(program);
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'medeval', 'schema', '--out', dir]);
    } finally {
      process.stdout.write = write;
    }
    for (const c of CONFIG_SCHEMAS) {
      expect(readFileSync(join(dir, c.file), 'utf8')).toBe(readFileSync(join(REPO, 'schemas', c.file), 'utf8'));
    }
    expect(printed.join('')).toContain('# yaml-language-server: $schema=');
    expect(yamlSchemaHint('../schemas/suite.schema.json')).toBe('# yaml-language-server: $schema=../schemas/suite.schema.json');
  });
});
