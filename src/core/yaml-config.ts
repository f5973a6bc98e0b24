// Reads a YAML file and validates it with a zod schema, turning every problem into an InputError
// that names file:line and the field, so a user can fix a profile without guessing.
import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InputError, InputErrors } from './errors.js';

export async function readYamlFile<S extends z.ZodType>(file: string, schema: S, what: string): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file },
      'check the path');
  }
  return parseYamlText(text, file, schema, what);
}

export function parseYamlText<S extends z.ZodType>(text: string, file: string, schema: S, what: string): z.infer<S> {
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
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.map(String);
    // Point at the deepest node that exists: for a missing field, its parent mapping.
    let line: number | undefined;
    for (let n = path.length; n >= 0 && line === undefined; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
    }
    return new InputError(issue.message, { file, line, field: path.join('.') || '(top level)' });
  });
  throw new InputErrors(problems, `${file}: the ${what} has ${problems.length} problem(s)`);
}
