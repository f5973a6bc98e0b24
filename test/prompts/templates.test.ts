import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { QUESTION_TYPES, type DatasetItem } from '../../src/core/types.js';
import {
  buildPromptSystem,
  DEFAULT_PROMPTS_DIR,
  formatLetters,
  formatOptions,
  loadTemplates,
  loadTypeRules,
  parseTemplate,
  renderPrompt,
  type TemplateSet,
  type TypeRules,
} from '../../src/prompts/index.js';

const TEMPLATES_DIR = join(DEFAULT_PROMPTS_DIR, 'templates');

function item(question: string, extra: Partial<DatasetItem['meta']> = {}, options: Record<string, string> = {
  A: 'Acute pericarditis', B: 'Aortic dissection', C: 'Inferior myocardial infarction', D: 'Pulmonary embolism', E: 'Costochondritis',
}): DatasetItem {
  return { id: 'q1', question, options, answer: 'C', meta: { source: { file: 'test.jsonl', line: 1 }, dataset: 'test', ...extra } };
}

const DIAGNOSIS_STEM = 'A 52-year-old man has crushing chest pain for 1 hour. An ECG shows ST elevations in II, III and aVF. Which of the following is the most likely diagnosis?';
const ANSWER_LINE = /^Give your final answer on the last line in the form "Answer: X" \(without quotes\), where X is one of [A-E](, [A-E])* or [A-E]\.$/;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'medeval-templates-'));
}

describe('bundled templates', () => {
  let set: TemplateSet;
  let rules: TypeRules;
  beforeAll(async () => {
    [set, rules] = await Promise.all([loadTemplates(TEMPLATES_DIR), loadTypeRules(join(DEFAULT_PROMPTS_DIR, 'question-types.yaml'))]);
  });

  it('has its own file for every type (no fallback warnings)', async () => {
    expect(set.warnings).toEqual([]);
    for (const type of QUESTION_TYPES) expect(set.byType[type].file).toBe(`${type}.md`);
    expect(await readdir(TEMPLATES_DIR)).toContain('default.md');
  });

  it.each(QUESTION_TYPES)('%s: every placeholder filled, no header, a single user turn ending with the answer instruction', (type) => {
    const rendered = renderPrompt(item(DIAGNOSIS_STEM, { questionType: type }), set, rules);
    expect(rendered).toMatchObject({ questionType: type, typeReason: 'dataset', template: `${type}.md` });
    const { prompt } = rendered;
    expect(prompt).not.toMatch(/\{\{|\}\}/);
    expect(prompt).not.toContain('<!--');
    expect(prompt).toContain(DIAGNOSIS_STEM);
    expect(prompt).toContain('A. Acute pericarditis\nB. Aortic dissection\nC. Inferior myocardial infarction\nD. Pulmonary embolism\nE. Costochondritis');
    // DeepSeek-R1 usage: no system prompt, no role markers, the chat template adds <think> itself.
    expect(prompt).not.toMatch(/<think>|<\|[a-z_]+\|>|^system:|^you are\b/im);
    const lines = prompt.split('\n');
    expect(lines[lines.length - 1]).toMatch(ANSWER_LINE);
    expect(lines[lines.length - 1]).toContain('A, B, C, D or E');
  });

  it('the templates differ by type (each guides its own reasoning)', () => {
    const bodies = new Set(QUESTION_TYPES.map((t) => set.byType[t].body));
    expect(bodies.size).toBe(QUESTION_TYPES.length);
    expect(set.byType.management.body).toMatch(/stable/);
    expect(set.byType.pharmacology.body).toMatch(/mechanism of action/);
    expect(set.byType.ethics.body).toMatch(/autonomy/);
    expect(set.byType.diagnosis.body).toMatch(/differential/);
  });

  it('classifies items without a stated type and records the rule', () => {
    expect(renderPrompt(item(DIAGNOSIS_STEM), set, rules)).toMatchObject({ questionType: 'diagnosis', typeReason: 'diagnosis-ask', template: 'diagnosis.md' });
  });

  it('keeps a type the dataset states, even when the rules would say otherwise', () => {
    expect(renderPrompt(item(DIAGNOSIS_STEM, { questionType: 'ethics' }), set, rules)).toMatchObject({ questionType: 'ethics', typeReason: 'dataset', template: 'ethics.md' });
  });

  it('puts a PubMedQA context before the question, with three letters', () => {
    const pubmed = item('Does early mobilisation shorten hospital stay after hip fracture surgery?',
      { extra: { context: 'BACKGROUND: Patients were mobilised early.\nRESULTS: Stays were shorter.' } }, { A: 'yes', B: 'no', C: 'maybe' });
    const { prompt } = renderPrompt(pubmed, set, rules);
    const contextAt = prompt.indexOf('Context:\nBACKGROUND: Patients were mobilised early.\nRESULTS: Stays were shorter.');
    expect(contextAt).toBeGreaterThanOrEqual(0);
    expect(prompt.indexOf('Question: Does early mobilisation')).toBeGreaterThan(contextAt);
    expect(prompt).toContain('A. yes\nB. no\nC. maybe');
    expect(prompt.split('\n').pop()).toContain('one of A, B or C.');
  });
});

describe('parseTemplate', () => {
  const header = '<!--\n  {{question}} explained here, {{unknown}} too: the header is not checked\n-->\n';

  it('an unknown placeholder is an InputError naming file:line and the placeholder', () => {
    const text = `${header}Question:\n{{question}}\n\n{{options}}\n\nPick one of {{leters}}.\n`;
    const err = (() => { try { parseTemplate(text, 'templates/diagnosis.md'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^templates\/diagnosis\.md:9 field "leters": unknown placeholder \{\{leters\}\}/);
    expect((err as Error).message).toContain('{{letters}}');
  });

  it('a stray "{{" and a missing required placeholder are reported together', () => {
    const text = '{{question}}\nSee {{ this\n';
    expect(() => parseTemplate(text, 't.md')).toThrow(/t\.md:2: "\{\{" does not open a placeholder[\s\S]*never uses \{\{options\}\}/);
  });

  it('an unclosed header comment is an error at its line', () => {
    expect(() => parseTemplate('\n<!-- about\n{{question}} {{options}}\n', 't.md')).toThrow(/t\.md:2: the header comment/);
  });

  it('strips only the header and allows spaces inside braces', () => {
    const t = parseTemplate(`${header}\n{{ question }}\n{{options}}\nAnswer: <letter>\r\n`, 't.md');
    expect(t.body).toBe('{{ question }}\n{{options}}\nAnswer: <letter>');
    expect([...t.placeholders].sort()).toEqual(['options', 'question']);
  });

  it('inserts values once: braces inside a question are not placeholders', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'default.md'), '{{question}}\n{{options}}\nAnswer with one of {{letters}}: "Answer: X".\n');
    const set = await loadTemplates(dir);
    const rules = await loadTypeRules(join(DEFAULT_PROMPTS_DIR, 'question-types.yaml'));
    const { prompt } = renderPrompt(item('What does {{options}} mean here?', {}, { A: '{{letters}}', B: 'none' }), set, rules);
    expect(prompt).toBe('What does {{options}} mean here?\nA. {{letters}}\nB. none\nAnswer with one of A or B: "Answer: X".');
    await rm(dir, { recursive: true });
  });

  it('a {{context}} slot takes the context block, and disappears with its blank line when there is none', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'default.md'), 'Read this.\n\n{{context}}\n\n{{question}}\n\n{{options}}\n\nAnswer: <letter>\n');
    const set = await loadTemplates(dir);
    const rules = await loadTypeRules(join(DEFAULT_PROMPTS_DIR, 'question-types.yaml'));
    const withContext = renderPrompt(item('Is it?', { extra: { context: 'Some abstract.' } }, { A: 'yes', B: 'no' }), set, rules).prompt;
    expect(withContext).toBe('Read this.\n\nContext:\nSome abstract.\n\nIs it?\n\nA. yes\nB. no\n\nAnswer: <letter>');
    const without = renderPrompt(item('Is it?', {}, { A: 'yes', B: 'no' }), set, rules).prompt;
    expect(without).toBe('Read this.\n\nIs it?\n\nA. yes\nB. no\n\nAnswer: <letter>');
    await rm(dir, { recursive: true });
  });
});

describe('loadTemplates', () => {
  it('falls back to default.md for missing types, with a warning naming them', async () => {
    const dir = await tempDir();
    await cp(TEMPLATES_DIR, dir, { recursive: true });
    await rm(join(dir, 'ethics.md'));
    await rm(join(dir, 'other.md'));
    await writeFile(join(dir, 'diagnsis.md'), '{{question}} {{options}}');
    const set = await loadTemplates(dir);
    expect(set.byType.ethics.file).toBe('default.md');
    expect(set.byType.other.file).toBe('default.md');
    expect(set.byType.diagnosis.file).toBe('diagnosis.md');
    expect(set.warnings.join('\n')).toMatch(/no template for ethics, other .*default\.md/);
    expect(set.warnings.join('\n')).toMatch(/diagnsis\.md is not a question type's template/);
    await rm(dir, { recursive: true });
  });

  it('a missing type without default.md is an InputError', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'diagnosis.md'), '{{question}}\n{{options}}\nAnswer: X');
    await expect(loadTemplates(dir)).rejects.toThrow(/no template for "management" questions and no default\.md/);
    await rm(dir, { recursive: true });
  });

  it('warns when a template does not end by asking for "Answer:"', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'default.md'), 'Answer: <letter> at the end.\n{{question}}\n{{options}}\n');
    const set = await loadTemplates(dir);
    expect(set.warnings.some((w) => w.includes('default.md: the last line does not ask for "Answer: <letter>"'))).toBe(true);
    await rm(dir, { recursive: true });
  });

  it('a missing folder is an InputError naming it', async () => {
    await expect(loadTemplates('/nonexistent/medeval-templates')).rejects.toThrow(/\/nonexistent\/medeval-templates: cannot read the prompt template folder/);
  });
});

describe('rendering with the type an earlier render found (a run keeps it from its first pass)', () => {
  it('gives the same prompt, type, reason and template as classifying again: every corpus stem, stated types, the fallback', async () => {
    const render = await buildPromptSystem();
    const stems = readFileSync(new URL('../fixtures/prompts/medqa-style-stems.tsv', import.meta.url), 'utf8').split('\n')
      .filter((l) => l.trim() && !l.startsWith('#')).map((l) => l.split('\t')[1]!.trim());
    const items = [
      ...stems.map((s) => item(s)),
      item(DIAGNOSIS_STEM, { questionType: 'ethics' }),
      item('Is it?', { extra: { context: 'Some abstract.' } }, { A: 'yes', B: 'no' }),
      item('Zzz qqq.'),
    ];
    const reasons = new Set<string>();
    for (const it of items) {
      const first = render(it);
      reasons.add(first.typeReason);
      expect(render(it, { type: first.questionType, rule: first.typeReason })).toEqual(first);
    }
    // The sample covers the rules' own reasons, a stated type and the fallback.
    expect(reasons.has('dataset')).toBe(true);
    expect(reasons.has('fallback')).toBe(true);
    expect(reasons.size).toBeGreaterThan(10);
  });

  it('uses the known type as given (it is not classified again)', async () => {
    const render = await buildPromptSystem();
    const r = render(item(DIAGNOSIS_STEM), { type: 'ethics', rule: 'x' });
    expect(r).toMatchObject({ questionType: 'ethics', typeReason: 'x', template: 'ethics.md' });
  });
});

describe('buildPromptSystem', () => {
  it('loads the bundled folder by default and renders items', async () => {
    const warnings: string[] = [];
    const render = await buildPromptSystem(undefined, { onWarning: (m) => warnings.push(m) });
    const rendered = render(item(DIAGNOSIS_STEM));
    expect(rendered).toMatchObject({ questionType: 'diagnosis', typeReason: 'diagnosis-ask', template: 'diagnosis.md' });
    expect(rendered.prompt).toBe(await expectedDiagnosisPrompt());
    expect(warnings).toEqual([]);
  });

  it('passes loading warnings on and rejects a broken rules file before rendering anything', async () => {
    const dir = await tempDir();
    await cp(DEFAULT_PROMPTS_DIR, dir, { recursive: true });
    await rm(join(dir, 'templates', 'other.md'));
    const warnings: string[] = [];
    const render = await buildPromptSystem(dir, { onWarning: (m) => warnings.push(m) });
    expect(render(item('Most common site of carcinoid tumour is:')).template).toBe('default.md');
    expect(warnings).toHaveLength(1);

    await writeFile(join(dir, 'question-types.yaml'), 'rules:\n  - { name: x, type: surgery, in: ask, phrases: [y] }\n');
    await expect(buildPromptSystem(dir)).rejects.toThrow(/question-types\.yaml:2 field "rules\.0\.type"/);
    await rm(dir, { recursive: true });
  });
});

/** The diagnosis template's body with the placeholders filled by hand, independently of the renderer. */
async function expectedDiagnosisPrompt(): Promise<string> {
  const raw = await readFile(join(TEMPLATES_DIR, 'diagnosis.md'), 'utf8');
  const body = raw.slice(raw.indexOf('-->') + 3).trim();
  const it = item(DIAGNOSIS_STEM);
  return body
    .split('{{question}}').join(DIAGNOSIS_STEM)
    .split('{{options}}').join(Object.entries(it.options).map(([k, v]) => `${k}. ${v}`).join('\n'))
    .split('{{letters}}').join('A, B, C, D or E');
}

describe('formatting helpers', () => {
  it('letters read naturally', () => {
    expect(formatLetters(['A'])).toBe('A');
    expect(formatLetters(['A', 'B'])).toBe('A or B');
    expect(formatLetters(['A', 'B', 'C', 'D'])).toBe('A, B, C or D');
  });
  it('options keep display order and trim text', () => {
    expect(formatOptions({ B: ' second ', A: 'first' })).toBe('B. second\nA. first');
  });
});

