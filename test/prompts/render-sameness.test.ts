// Sameness of the faster prompt path: classifyQuestion screens each rule with one combined regex, and
// fillTemplate fills a template cut at its placeholders once. Both must give exactly what the earlier code
// gave (kept below as the reference, verbatim): the same type, rule and matched text, the same prompt, over
// the bundled datasets, every loadable test fixture, the classifier's stem corpus, generated MedQA-shaped
// vignettes and generated text built from the rules' own phrases, with the bundled rules and templates and
// with hand-written ones (backreferences, named groups, anchors, a {{context}} slot).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatasetItem } from '../../src/core/types.js';
import { loadDataset } from '../../src/datasets/index.js';
import {
  classifyQuestion, DEFAULT_PROMPTS_DIR, fillTemplate, formatLetters, formatOptions, loadTemplates, loadTypeRules, parseTemplate, parseTypeRules,
  questionAsk, type Classification, type Placeholder, type PromptTemplate, type TemplateSet, type TypeRules,
} from '../../src/prompts/index.js';
import { vignette } from '../helpers/medqa-shaped.js';

// ---- The reference: the code before the change, verbatim ----
function normaliseBefore(text: string): string {
  return text.replace(/[\u2018\u2019\u02bc]/g, "'").replace(/[\u201c\u201d]/g, '"').replace(/\s+/g, ' ').trim();
}
function classifyBefore(question: string, rules: TypeRules): Classification {
  const whole = normaliseBefore(question);
  const ask = questionAsk(question);
  for (const rule of rules.rules) {
    const text = rule.in === 'ask' ? ask : whole;
    for (const pattern of rule.patterns) {
      const m = pattern.exec(text);
      if (m) return { type: rule.type, rule: rule.name, matched: m[0] };
    }
  }
  return { type: rules.fallback, rule: 'fallback', matched: null };
}
function fillBefore(template: PromptTemplate, item: DatasetItem): string {
  const raw = item.meta.extra?.context;
  const context = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : null;
  const contextBlock = context ? `Context:\n${context}` : '';
  const question = item.question.trim();
  const values: Record<Placeholder, string> = {
    question: context && !template.placeholders.has('context') ? `${contextBlock}\n\nQuestion: ${question}` : question,
    options: formatOptions(item.options),
    letters: formatLetters(Object.keys(item.options)),
    context: contextBlock,
  };
  const body = context ? template.body : template.body.replace(/^[ \t]*\{\{\s*context\s*\}\}[ \t]*(\n[ \t]*(?=\n))?\n?/gm, '');
  return body.replace(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g, (_, name: Placeholder) => values[name]).trim();
}

const REPO = resolve(import.meta.dirname, '../..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? [p, ...filesUnder(p)] : [p];
  });
}

/** Every item of the bundled datasets and of each test fixture that loads (bad records skipped). */
async function datasetItems(): Promise<DatasetItem[]> {
  const out: DatasetItem[] = [];
  const paths = [join(REPO, 'datasets/sample/usmle-sample.jsonl'), ...filesUnder(join(REPO, 'test/fixtures/datasets')).filter((p) => !p.endsWith('.yaml'))];
  for (const path of paths) {
    const groundTruthPath = /pubmedqa\/(ori|unsorted)_pqal\.json$/.test(path) ? join(path, '../test_ground_truth.json') : undefined;
    for (const spec of [{ format: 'auto', path, skipInvalid: true, groundTruthPath }, { format: 'auto', path, skipInvalid: true }]) {
      try {
        out.push(...(await loadDataset(spec)).items);
        break;
      } catch {
        // a fixture made to fail (broken JSON, a folder of the wrong shape): nothing to render
      }
    }
  }
  return out;
}

function corpusItems(): DatasetItem[] {
  const lines = readFileSync(join(REPO, 'test/fixtures/prompts/medqa-style-stems.tsv'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  return lines.map((l, i) => ({ id: `s${i}`, question: l.split('\t').slice(1).join('\t'), options: { A: 'one', B: 'two' }, answer: 'A', meta: { source: { file: 'stems', line: i + 1 }, dataset: 'stems' } }));
}

const HAND_RULES = `version: 1
fallback: other
rules:
  - name: backref
    type: diagnosis
    in: ask
    regex: ['\\b(\\w+) \\1\\b', 'most likely']
  - name: named
    type: pharmacology
    in: question
    regex: ['(?<drug>\\w+mab)\\b', '(?<=\\s)statin']
  - name: anchored
    type: ethics
    in: ask
    regex: ['^which', 'why\\?$']
    phrases: [next step]
  - name: plain
    type: management
    in: question
    phrases: [chest pain, fever, "e.g."]
    regex: ['ST (elevation|depression)s?', '[0-9]+/min']
`;

const TEMPLATES = [
  'Q: {{question}}\n\n{{options}}\n\nAnswer with {{letters}}.\nAnswer:',
  'Read this.\n\n{{context}}\n\n{{question}}\n\n{{options}}\n\nAnswer: <letter>',
  '  {{ context }}  \n{{question}}{{options}}{{letters}}{{question}}\nAnswer:',
  '{{options}}\n{{context}}\n\n\n{{question}} (one of {{ letters }})\nAnswer:',
];

describe('old and new prompt paths give identical output', () => {
  let items: DatasetItem[];
  let ruleSets: TypeRules[];
  let templateSets: TemplateSet[];
  beforeAll(async () => {
    items = [...(await datasetItems()), ...corpusItems(),
      ...Array.from({ length: 300 }, (_, i): DatasetItem => ({ id: `v${i}`, question: vignette(i, 30 + (i % 200)), options: { A: 'a', B: 'b', C: 'c', D: 'd', E: 'e' }, answer: 'A',
        meta: { source: { file: 'shaped', line: i + 1 }, dataset: 'shaped', ...(i % 3 === 0 ? { extra: { context: i % 6 ? `Abstract ${i}.` : '   ' } } : {}) } }))];
    ruleSets = [await loadTypeRules(join(DEFAULT_PROMPTS_DIR, 'question-types.yaml')), parseTypeRules(HAND_RULES, 'hand.yaml')];
    templateSets = [await loadTemplates(join(DEFAULT_PROMPTS_DIR, 'templates'))];
  });

  it('covers the datasets it says it does', () => {
    expect(items.length).toBeGreaterThan(600);
    expect(items.some((i) => typeof i.meta.extra?.context === 'string')).toBe(true);
    expect(new Set(items.map((i) => i.meta.dataset)).size).toBeGreaterThanOrEqual(5);
  });

  it('classifyQuestion: same type, rule and matched text', () => {
    for (const rules of ruleSets) {
      const rulesSeen = new Set<string>();
      for (const item of items) {
        const now = classifyQuestion(item.question, rules);
        expect(now, item.id).toEqual(classifyBefore(item.question, rules));
        rulesSeen.add(now.rule);
      }
      // More than one rule wins, so matched texts of many rules are compared.
      expect(rulesSeen.size).toBeGreaterThan(3);
    }
  });

  it('classifyQuestion: same result on text made of the rules\' own phrases', () => {
    const rules = ruleSets[0]!;
    const words = [...new Set(rules.rules.flatMap((r) => r.patterns.map((p) => p.source.replace(/\\[bs]\+?|\\/g, ' ').trim())))].filter((w) => /^[\w' -]+$/.test(w));
    const piece = fc.oneof(fc.constantFrom(...words), fc.constantFrom('A 40-year-old man', 'the drug', 'e.g. this', '37.5 C', '?', '.', '. ', ' ', '\u2019s', 'WHICH', 'next  step'), fc.string({ maxLength: 6 }));
    fc.assert(fc.property(fc.array(piece, { maxLength: 25 }), (parts) => {
      const q = parts.join(' ');
      for (const r of ruleSets) expect(classifyQuestion(q, r)).toEqual(classifyBefore(q, r));
    }), { numRuns: 3000, seed: 16 });
  });

  it('fillTemplate: the same prompt for every item and template', () => {
    const templates = [...templateSets.flatMap((s) => [...new Set(Object.values(s.byType))]), ...TEMPLATES.map((t, i) => parseTemplate(t, `t${i}.md`))];
    for (const template of templates) for (const item of items) expect(fillTemplate(template, item), `${template.file} ${item.id}`).toBe(fillBefore(template, item));
  });

  it('fillTemplate: a template whose body changed after its first render is cut again', () => {
    const t = parseTemplate(TEMPLATES[0]!, 'edit.md');
    const item = items[0]!;
    expect(fillTemplate(t, item)).toBe(fillBefore(t, item));
    t.body = `Changed. ${t.body}`;
    expect(fillTemplate(t, item)).toBe(fillBefore(t, item));
  });
});
