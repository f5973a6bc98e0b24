// Property tests of the YAML config loader (runner profiles, suites, experiments): random text, random
// YAML documents and mutated bundled profiles either load or fail with an InputError naming the file,
// never with a raw exception (which the CLI would report as a crash, exit 1, with no file:line).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '../../src/core/errors.js';
import { experimentSchema } from '../../src/run/experiment.js';
import { suiteSchema } from '../../src/run/suite.js';
import { parseYamlText } from '../../src/core/yaml-config.js';
import { loadRunnerProfile, runnerProfileSchema } from '../../src/runners/registry.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';

const FILE = 'fuzz.yaml';
const KINDS = runnerProfileSchema.options.map((o) => o.shape.kind.value as string);

/** Throws unless `fn` returns or throws an InputError whose problems all name `file`. */
function onlyInputErrors<T>(fn: () => T, file: string): T | null {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw new Error(`not an InputError: ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
    const problems = e instanceof InputErrors ? e.problems : [e];
    for (const p of problems) expect(p.place.file ?? e.message, p.message).toContain(file);
    return null;
  }
}

/** Text made of YAML's structural characters, words and whitespace: reaches the parser's corners fast. */
const yamlish = fc
  .array(
    fc.constantFrom(
      ':', ': ', '-', '- ', ' ', '  ', '\n', '\t', '{', '}', '[', ']', ',', '"', "'", '#', '&a ', '!', '!!str ', '!!int ', '!!map ', '|', '>', '%', '@', '`', '?', '<<: ',
      '---', '...', 'kind', 'label', 'llama-server', 'vllm', 'onnx', 'baseUrl', 'http://127.0.0.1:1', 'mode', 'managed', 'retries', '3', '-1', '1e999', 'null', '~', 'true', '\\', '\u00e9', '\uFEFF',
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** A bundled runner profile with one field replaced, removed, or added. */
const profiles = readdirSync(join(REPO, 'runners')).filter((f) => f.endsWith('.yaml')).map((f) => parse(readFileSync(join(REPO, 'runners', f), 'utf8')) as Record<string, unknown>);
const mutatedProfile = fc
  .tuple(fc.constantFrom(...profiles), fc.string({ maxLength: 16 }), fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })), fc.boolean())
  .map(([p, key, value, existing]) => {
    const keys = Object.keys(p);
    const field = existing ? keys[key.length % keys.length]! : key;
    const out: Record<string, unknown> = { ...p };
    if (value === undefined) delete out[field];
    else out[field] = value;
    return out;
  });

describe('YAML config loading on random input', () => {
  it('random YAML-like text: a runner profile, or an InputError naming the file', () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        const p = onlyInputErrors(() => parseYamlText(text, FILE, runnerProfileSchema, 'runner profile'), FILE);
        if (p) expect(KINDS).toContain(p.kind);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes as text, for suites and experiment files too', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), fc.constantFrom(runnerProfileSchema, suiteSchema, experimentSchema), (text, schema) => {
        onlyInputErrors(() => parseYamlText(text, FILE, schema as typeof suiteSchema, 'config'), FILE);
      }),
      { numRuns: 300 },
    );
  });

  it('random YAML documents (any JSON value, stringified): a config or an InputError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(runnerProfileSchema, suiteSchema, experimentSchema), (value, schema) => {
        onlyInputErrors(() => parseYamlText(stringify(value), FILE, schema as typeof suiteSchema, 'config'), FILE);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated bundled runner profiles, loaded from a file: a valid profile or InputErrors with file:line', async () => {
    const dir = tempDir('medeval-fuzz-yaml-');
    let i = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutatedProfile, async (profile) => {
        const file = join(dir, `p${i++}.yaml`);
        writeFileSync(file, stringify(profile));
        try {
          const { profile: p } = await loadRunnerProfile(file);
          expect(KINDS).toContain(p.kind);
          expect(typeof p.label).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(InputErrors);
          for (const p of (e as InputErrors).problems) {
            expect(p.place.file).toBe(file);
            expect(p.place.line).toBeGreaterThanOrEqual(1);
          }
          refused++;
        }
      }),
      { numRuns: 150 },
    );
    expect(refused).toBeGreaterThan(10);
  });

  // KNOWN BUGS (src/core/yaml-config.ts parseYamlText): `doc.toJS()` throws a ReferenceError, outside the
  // try, for an alias to an anchor that does not exist and for an alias bomb ("billion laughs"), so the
  // CLI reports a crash (exit 1) with no file:line. Fix: wrap doc.toJS() and turn its error into an
  // InputError({ file, line of the alias }). Then these fail: drop `.fails` and the noAlias filter above.
  it('an alias to a missing anchor is an InputError', () => {
    expect(() => parseYamlText('kind: vllm\nlabel: *nope\n', FILE, runnerProfileSchema, 'runner profile')).toThrow(InputError);
  });
  it('an alias bomb is an InputError', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    expect(() => parseYamlText(rows.join('\n') + '\nkind: vllm\n', FILE, runnerProfileSchema, 'runner profile')).toThrow(InputError);
  });
});
