// Reads a YAML file and validates it with a zod schema, turning every problem into an InputError
// that names file:line and the field, so a user can fix a profile without guessing.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { InputError, InputErrors } from './errors.js';
import { didYouMean } from './nearest-name.js';
import { keysAt } from './schema-keys.js';

// The yaml package (CommonJS, a few dozen files) loads on the first YAML read, not with every module that
// can read YAML (the report and the gate import the claims reader but rarely read a claims file): start-up.
type YamlModule = typeof import('yaml');
const require = createRequire(import.meta.url);
let yamlModule: YamlModule | undefined;
const yaml = (): YamlModule => (yamlModule ??= require('yaml') as YamlModule);

export async function readYamlFile<S extends z.ZodType>(file: string, schema: S, what: string): Promise<z.infer<S>> {
  return parseYamlText(await readConfigText(file, what), file, schema, what);
}

/** A config file's text, or the InputError readYamlFile gives for a file it cannot read. */
export async function readConfigText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file },
      'check the path');
  }
}

export function parseYamlText<S extends z.ZodType>(text: string, file: string, schema: S, what: string): z.infer<S> {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => {
      const line = lineCounter.linePos(err.pos[0]).line;
      return new InputError(`YAML syntax: ${err.message.split('\n')[0]}`, { file, line });
    });
    throw new InputErrors(problems, `${file}: the ${what} is not valid YAML`);
  }
  let data: unknown;
  try {
    // Aliases to missing anchors and alias bombs fail here, not in the parser.
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new InputError(`YAML: ${(e as Error).message.split('\n')[0]}`, { file }, 'check anchors (&name) and aliases (*name)');
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const place = (path: readonly PropertyKey[], field: string) => ({ file, line: lineOf(doc, lineCounter, path), field: field || '(top level)' });
  const problems = parsed.error.issues.flatMap((issue): InputError[] => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const field = path.join('.');
    if (issue.code === 'unrecognized_keys') {
      // One error per unknown key, at the key's own line, with the nearest valid key when one is close.
      const valid = keysAt(schema, path, data);
      return issue.keys.map((key) => {
        const near = didYouMean(key, valid);
        return new InputError(`unknown key "${key}"${near}`, place([...path, key], field ? `${field}.${key}` : key),
          !near && valid.length > 0 ? `valid keys here: ${valid.join(', ')}` : undefined);
      });
    }
    const given = valueAt(data, path);
    const choices = issue.code === 'invalid_value' ? issue.values : issue.code === 'invalid_union' ? (issue as { options?: unknown[] }).options : undefined;
    const suggestion = typeof given === 'string' && choices ? didYouMean(given, choices.filter((c): c is string => typeof c === 'string')) : '';
    return [new InputError(issue.message + suggestion, place(path, field))];
  });
  problems.sort((a, b) => (a.place.line ?? 0) - (b.place.line ?? 0));
  throw new InputErrors(problems, `${file}: the ${what} has ${problems.length} problem(s)`);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let here = data;
  for (const seg of path) here = here && typeof here === 'object' ? (here as Record<PropertyKey, unknown>)[seg as string] : undefined;
  return here;
}

/**
 * The line of the key at `path` (for a list element, the element's line); for a key that is missing, the
 * line of the deepest key above it that exists (a missing top-level key: the mapping's first line).
 */
function lineOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  const { isAlias, isMap, isNode, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  let at: number | undefined = isNode(node) && node.range ? node.range[0] : undefined;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      if (isNode(pair.key) && pair.key.range) at = pair.key.range[0];
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
      const item: unknown = node.items[Number(seg)];
      if (!isNode(item)) break;
      if (item.range) at = item.range[0];
      node = item;
    } else break;
  }
  return at === undefined ? undefined : lineCounter.linePos(at).line;
}
