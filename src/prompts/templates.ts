// Prompt templates: one plain-text file per question type (suites/prompts/templates/<type>.md) with
// {{placeholders}}, rendered into the single user turn DeepSeek-R1 models expect (no system prompt).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, InputErrors } from '../core/errors.js';
import { QUESTION_TYPES, type DatasetItem, type QuestionType } from '../core/types.js';
import { classifyQuestion, type TypeRules } from './classify.js';

export const PLACEHOLDERS = ['question', 'options', 'letters', 'context'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
const REQUIRED_PLACEHOLDERS: Placeholder[] = ['question', 'options'];
export const DEFAULT_TEMPLATE_FILE = 'default.md';

export interface PromptTemplate {
  /** File name, e.g. "diagnosis.md": recorded per item as ItemResult.template. */
  file: string;
  path: string;
  /** The text after the header comment. */
  body: string;
  placeholders: Set<Placeholder>;
}

export interface TemplateSet {
  dir: string;
  /** The template each type uses (default.md for types without their own file). */
  byType: Record<QuestionType, PromptTemplate>;
  /** Things a user should know (a type using default.md, an ignored file), already worded. */
  warnings: string[];
}

export interface RenderedPrompt {
  /** The whole user message. */
  prompt: string;
  questionType: QuestionType;
  /** The classifier rule that chose the type, "fallback", or "dataset" when the item carried it. */
  typeReason: string;
  /** Template file name, e.g. "diagnosis.md". */
  template: string;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const PLACEHOLDER_AT = /\{\{\s*([A-Za-z_]\w*)\s*\}\}/y;

/**
 * Parses one template: strips a leading <!-- header comment --> and checks every "{{" opens a known
 * placeholder, so a typo such as {{qestion}} is an error naming file:line rather than text sent to a model.
 */
export function parseTemplate(text: string, path: string): PromptTemplate {
  const src = text.replace(/\r\n?/g, '\n');
  let bodyStart = 0;
  const lead = /^\s*<!--/.exec(src);
  if (lead) {
    const close = src.indexOf('-->', lead[0].length);
    if (close < 0) {
      throw new InputError('the header comment "<!--" is never closed with "-->"', { file: path, line: lineAt(src, lead[0].length) },
        'end the header comment with --> on its own line');
    }
    bodyStart = close + 3;
    while (src[bodyStart] === '\n' || src[bodyStart] === ' ' || src[bodyStart] === '\t') bodyStart++;
  }
  const body = src.slice(bodyStart).trimEnd();
  const file = path.split(/[\\/]/).pop()!;
  if (body.trim() === '') throw new InputError('the template is empty', { file: path }, 'write the prompt text below the header comment');

  const problems: InputError[] = [];
  const placeholders = new Set<Placeholder>();
  for (let i = body.indexOf('{{'); i >= 0; i = body.indexOf('{{', i + 2)) {
    PLACEHOLDER_AT.lastIndex = i;
    const m = PLACEHOLDER_AT.exec(body);
    const line = lineAt(src, bodyStart + i);
    const known = `known placeholders: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`;
    if (!m) {
      problems.push(new InputError(`"{{" does not open a placeholder: ${JSON.stringify(body.slice(i, i + 20))}`, { file: path, line }, known));
    } else if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) {
      problems.push(new InputError(`unknown placeholder {{${m[1]}}}`, { file: path, line, field: m[1] }, known));
    } else {
      placeholders.add(m[1] as Placeholder);
      i += m[0].length - 2;
    }
  }
  for (const p of REQUIRED_PLACEHOLDERS) {
    if (!placeholders.has(p)) problems.push(new InputError(`the template never uses {{${p}}}`, { file: path, field: p }, `add {{${p}}} where it belongs`));
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new InputErrors(problems, `${path}: the prompt template has ${problems.length} problem(s)`);
  return { file, path, body, placeholders };
}

async function readTemplate(path: string): Promise<PromptTemplate> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the prompt template: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
  return parseTemplate(text, path);
}

/** Loads templates/<type>.md for every type; a type without its file uses default.md (with a warning). */
export async function loadTemplates(dir: string): Promise<TemplateSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.md')).sort();
  } catch (e) {
    throw new InputError(`cannot read the prompt template folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: dir },
      'point the suite\'s "prompts" at a folder holding question-types.yaml and templates/');
  }
  const warnings: string[] = [];
  const known = new Set<string>([...QUESTION_TYPES.map((t) => `${t}.md`), DEFAULT_TEMPLATE_FILE]);
  for (const n of names) {
    if (!known.has(n)) warnings.push(`${join(dir, n)} is not a question type's template and is ignored (types: ${QUESTION_TYPES.join(', ')})`);
  }
  const fallback = names.includes(DEFAULT_TEMPLATE_FILE) ? await readTemplate(join(dir, DEFAULT_TEMPLATE_FILE)) : null;
  const byType = {} as Record<QuestionType, PromptTemplate>;
  const missing: QuestionType[] = [];
  for (const type of QUESTION_TYPES) {
    if (names.includes(`${type}.md`)) {
      byType[type] = await readTemplate(join(dir, `${type}.md`));
    } else if (fallback) {
      byType[type] = fallback;
      missing.push(type);
    } else {
      throw new InputError(`no template for "${type}" questions and no ${DEFAULT_TEMPLATE_FILE} to fall back on`, { file: join(dir, `${type}.md`) },
        `write ${type}.md or ${DEFAULT_TEMPLATE_FILE} in ${dir}`);
    }
  }
  if (missing.length > 0) warnings.push(`no template for ${missing.join(', ')} in ${dir}: those questions use ${DEFAULT_TEMPLATE_FILE}`);
  for (const t of new Set(Object.values(byType))) {
    const lastLine = t.body.split('\n').pop()!;
    if (!/answer:/i.test(lastLine)) {
      warnings.push(`${t.path}: the last line does not ask for "Answer: <letter>"; answer extraction may miss the model's answer`);
    }
  }
  return { dir, byType, warnings };
}

/** "A. text" lines in the options' display order. */
export function formatOptions(options: Record<string, string>): string {
  return Object.entries(options)
    .map(([letter, text]) => `${letter}. ${text.trim()}`)
    .join('\n');
}

/** The options shown in a prompt (the inverse of formatOptions): one reader for rescore, the viewer and the run-folder reader (core). */
export { optionsFromPrompt } from '../core/prompt-options.js';

/** "A, B, C, D or E"; "A or B"; "A". */
export function formatLetters(letters: string[]): string {
  if (letters.length <= 1) return letters.join('');
  return `${letters.slice(0, -1).join(', ')} or ${letters[letters.length - 1]}`;
}

function contextOf(item: DatasetItem): string | null {
  const context = item.meta.extra?.context;
  return typeof context === 'string' && context.trim() !== '' ? context.trim() : null;
}

/** Fills a template for one item; placeholder values are inserted once, never re-scanned. */
export function fillTemplate(template: PromptTemplate, item: DatasetItem): string {
  const context = contextOf(item);
  const contextBlock = context ? `Context:\n${context}` : '';
  const question = item.question.trim();
  const values: Record<Placeholder, string> = {
    // Without a {{context}} slot the abstract goes right before the question.
    question: context && !template.placeholders.has('context') ? `${contextBlock}\n\nQuestion: ${question}` : question,
    options: formatOptions(item.options),
    letters: formatLetters(Object.keys(item.options)),
    context: contextBlock,
  };
  const parts = piecesOf(template, context !== null);
  let out = parts[0] as string;
  for (let i = 1; i < parts.length; i += 2) out += values[parts[i] as Placeholder] + (parts[i + 1] as string);
  return out.trim();
}

/**
 * A template's body cut at its placeholders: text, name, text, name, ..., text (always odd in length).
 * Cut once per template and per context (with or without one), not at every render.
 */
function cut(body: string): string[] {
  const parts: string[] = [];
  let last = 0;
  for (const m of body.matchAll(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g)) {
    parts.push(body.slice(last, m.index), m[1]!);
    last = m.index + m[0].length;
  }
  parts.push(body.slice(last));
  return parts;
}

interface Pieces { body: string; withContext: string[] | null; withoutContext: string[] | null }
const pieces = new WeakMap<PromptTemplate, Pieces>();

function piecesOf(template: PromptTemplate, hasContext: boolean): string[] {
  let p = pieces.get(template);
  // Keyed by the template object; a body changed since (a hand-edited template) is cut again.
  if (!p || p.body !== template.body) pieces.set(template, (p = { body: template.body, withContext: null, withoutContext: null }));
  if (hasContext) return (p.withContext ??= cut(template.body));
  // An empty {{context}} on a line of its own takes its line and one following blank line with it.
  return (p.withoutContext ??= cut(template.body.replace(/^[ \t]*\{\{\s*context\s*\}\}[ \t]*(\n[ \t]*(?=\n))?\n?/gm, '')));
}

/**
 * An item's type and the reason for it, as an earlier render of the same item found them (a run's first
 * pass): rendering with it gives the same prompt without classifying the question again (most of a render).
 */
export interface KnownType {
  type: QuestionType;
  /** RenderedPrompt.typeReason. */
  rule: string;
}

/** What renderPrompt is given by a caller that has rendered the item before; absent, the type is found. */
export type PromptRenderer = (item: DatasetItem, known?: KnownType) => RenderedPrompt;

/**
 * The user message for one item. An item whose dataset states its type keeps it (reason "dataset");
 * otherwise the rules decide (reason: the rule's name). `known`: what an earlier render of this item found.
 */
export function renderPrompt(item: DatasetItem, set: TemplateSet, rules: TypeRules, known?: KnownType): RenderedPrompt {
  const stated = item.meta.questionType;
  const { type, rule } = known
    ?? (stated && (QUESTION_TYPES as readonly string[]).includes(stated)
      ? { type: stated, rule: 'dataset' }
      : classifyQuestion(item.question, rules));
  const template = set.byType[type];
  return { prompt: fillTemplate(template, item), questionType: type, typeReason: rule, template: template.file };
}
