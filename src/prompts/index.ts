// The prompt system: question-type rules + one template per type -> the user message for each item.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTypeRules } from './classify.js';
import { loadTemplates, renderPrompt, type PromptRenderer } from './templates.js';

export * from './classify.js';
export * from './templates.js';
export * from './distribution.js';

/** The bundled suites/prompts folder (same relative place from src/ and from dist/). */
export const DEFAULT_PROMPTS_DIR = fileURLToPath(new URL('../../suites/prompts/', import.meta.url));
export const RULES_FILE = 'question-types.yaml';
export const TEMPLATES_FOLDER = 'templates';

export interface PromptSystemOptions {
  /** Where loading warnings go (a type using default.md...); stderr by default. */
  onWarning?: (message: string) => void;
}

/**
 * Loads <dir>/question-types.yaml and <dir>/templates/, validating both before any model is loaded,
 * and returns the renderer: item (and what an earlier render of it found) -> { prompt, questionType, typeReason, template }.
 */
export async function buildPromptSystem(
  dir: string = DEFAULT_PROMPTS_DIR,
  options: PromptSystemOptions = {},
): Promise<PromptRenderer> {
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`medeval: warning: ${message}\n`));
  const [rules, templates] = await Promise.all([loadTypeRules(join(dir, RULES_FILE)), loadTemplates(join(dir, TEMPLATES_FOLDER))]);
  for (const message of templates.warnings) warn(message);
  return (item, known) => renderPrompt(item, templates, rules, known);
}
