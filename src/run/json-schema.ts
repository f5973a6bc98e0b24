// JSON Schemas of medeval's YAML files (runner profiles, suites, experiments), made from the same zod
// schemas that validate them, for editors: with `# yaml-language-server: $schema=<file>` at the top of a
// YAML file, VS Code (Red Hat YAML) and other LSP editors complete field names and flag mistakes as you
// type. zod still has the last word: refinements (e.g. "attached mode needs baseUrl") are not in the schema.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RUNNER_DEFINITIONS, runnerProfileSchema } from '../runners/registry.js';
import { experimentSchema } from './experiment.js';
import { suiteSchema } from './suite.js';
import { CONFIG_SCHEMA_FILES } from './schema-files.js';

export interface ConfigSchema {
  /** File name under schemas/, e.g. "suite.schema.json". */
  file: string;
  title: string;
  description: string;
  schema: z.ZodType;
}

export const CONFIG_SCHEMAS: readonly ConfigSchema[] = [
  {
    file: CONFIG_SCHEMA_FILES.runnerProfile,
    title: 'medeval runner profile',
    description: `How to run one model (runners/*.yaml): its kind (${RUNNER_DEFINITIONS.map((d) => `${d.kind}: ${d.description}`).join('; ')}) and its settings.`,
    schema: runnerProfileSchema,
  },
  {
    file: CONFIG_SCHEMA_FILES.suite,
    title: 'medeval suite',
    description: 'A dataset, prompt templates, sampling, load and scoring settings (suites/*.yaml).',
    schema: suiteSchema,
  },
  {
    file: CONFIG_SCHEMA_FILES.experiment,
    title: 'medeval experiment',
    description: 'A suite, a baseline and a compressed runner profile, and the claims to check (suites/paper.yaml).',
    schema: experimentSchema,
  },
];

/**
 * The JSON Schema of one config file: what a user may write (zod's input side, so fields with defaults
 * are optional), draft-07, which the YAML language server and most editors read.
 */
export function configJsonSchema(c: ConfigSchema): Record<string, unknown> {
  const body = z.toJSONSchema(c.schema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = body;
  return { $schema, title: c.title, description: c.description, ...rest };
}

/** Every schema file's name and text (pretty JSON, trailing newline), in a stable order. */
export function renderConfigSchemas(): Array<{ file: string; text: string }> {
  return CONFIG_SCHEMAS.map((c) => ({ file: c.file, text: JSON.stringify(configJsonSchema(c), null, 2) + '\n' }));
}

/** Writes every schema file into `dir` (created if needed); returns the paths written. */
export function writeConfigSchemas(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return renderConfigSchemas().map(({ file, text }) => {
    const path = join(dir, file);
    writeFileSync(path, text);
    return path;
  });
}

/** The first line to put in a YAML file so editors validate it, given the path from that file to the schema. */
export function yamlSchemaHint(schemaPathFromYaml: string): string {
  return `# yaml-language-server: $schema=${schemaPathFromYaml}`;
}
