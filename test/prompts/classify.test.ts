import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { QuestionType } from '../../src/core/types.js';
import { loadSampleDataset } from '../../src/datasets/index.js';
import { classifyQuestion, loadTypeRules, parseTypeRules, phraseToRegExp, questionAsk, type TypeRules } from '../../src/prompts/classify.js';

const RULES_FILE = new URL('../../suites/prompts/question-types.yaml', import.meta.url).pathname;

// Stems written for these tests (no exam or dataset text). Vignettes deliberately mention drugs,
// tests and treatments so that a rule reading the whole vignette instead of the ask would fail.
const CASES: Array<{ stem: string; type: QuestionType; rule: string }> = [
  {
    stem: 'A 52-year-old man comes to the emergency department because of crushing chest pain for 1 hour. He takes atorvastatin and lisinopril. An ECG shows ST elevations in leads II, III and aVF. Which of the following is the most likely diagnosis?',
    type: 'diagnosis', rule: 'diagnosis-ask',
  },
  {
    stem: 'A 7-year-old boy has had fever, sore throat and tender cervical nodes for 3 days. Amoxicillin was started yesterday. Which of the following is the most likely causal organism?',
    type: 'diagnosis', rule: 'diagnosis-cause-ask',
  },
  {
    stem: 'A 29-year-old woman has had palpitations, weight loss and heat intolerance for 2 months. Her pulse is 112/min. Which of the following is the most likely cause of this patient’s symptoms?',
    type: 'diagnosis', rule: 'diagnosis-cause-ask',
  },
  {
    stem: 'A 64-year-old woman with type 2 diabetes mellitus treated with metformin has an HbA1c of 9.1%. Which of the following is the most appropriate next step in management?',
    type: 'management', rule: 'management-ask',
  },
  {
    stem: 'A 47-year-old man has a blood pressure of 168/102 mm Hg on three visits. Which of the following is the most appropriate pharmacotherapy?',
    type: 'pharmacology', rule: 'pharmacology-ask',
  },
  {
    stem: 'A 35-year-old woman with a painless thyroid nodule found on examination is euthyroid. Which of the following is the most appropriate next step in diagnosis?',
    type: 'diagnosis', rule: 'diagnostic-workup-ask',
  },
  {
    stem: 'A 40-year-old man has recurrent episodes of headache, sweating and palpitations. Which of the following is the most accurate test to confirm the diagnosis?',
    type: 'diagnosis', rule: 'diagnostic-workup-ask',
  },
  {
    stem: 'A 58-year-old man is started on an ACE inhibitor for hypertension. Two weeks later he develops a dry cough. Which of the following is the most likely mechanism of this adverse effect?',
    type: 'pharmacology', rule: 'pharmacology-ask',
  },
  {
    stem: 'A 23-year-old woman with generalized tonic-clonic seizures is given a new medication. Which of the following is the mechanism of action of the drug most likely prescribed?',
    type: 'pharmacology', rule: 'pharmacology-ask',
  },
  {
    stem: 'A 71-year-old woman becomes confused a week after several new prescriptions. Which of the following drugs is most likely responsible for her confusion?',
    type: 'pharmacology', rule: 'pharmacology-drug-ask',
  },
  {
    stem: 'A 36-year-old man with chronic kidney disease needs analgesia after a fracture. Which of the following medications should be avoided in this patient?',
    type: 'pharmacology', rule: 'pharmacology-drug-ask',
  },
  {
    stem: 'A 4-month-old girl has hypoglycemia and hepatomegaly after short fasts. Which of the following enzymes is most likely deficient in this patient?',
    type: 'basic_science', rule: 'basic-science-ask',
  },
  {
    stem: 'A newborn has a midline neck mass that moves with swallowing. The mass is derived from which of the following embryologic structures?',
    type: 'basic_science', rule: 'basic-science-ask',
  },
  {
    stem: 'A 30-year-old man cannot abduct his arm beyond 15 degrees after a fracture of the surgical neck of the humerus. Which of the following nerves is most likely injured?',
    type: 'basic_science', rule: 'basic-science-ask',
  },
  {
    stem: 'A 22-year-old man has recurrent pneumonias and infertility; an electron micrograph of his sperm is abnormal. Which of the following is the most likely cause of these findings?',
    type: 'basic_science', rule: 'basic-science-ask',
  },
  {
    stem: 'A 40-year-old woman has had a cough for months. Which of the following is the most likely underlying mechanism of this patient’s condition?',
    type: 'basic_science', rule: 'basic-science-ask',
  },
  {
    stem: 'A 3-year-old boy has developmental delay and a long face. Which of the following genetic disorders is the most likely diagnosis?',
    type: 'diagnosis', rule: 'diagnosis-ask',
  },
  {
    stem: 'A 26-year-old woman has polyuria after a head injury; her urine osmolality is low. Which of the following laboratory values is most likely increased in this patient?',
    type: 'basic_science', rule: 'findings-ask',
  },
  {
    stem: 'A 62-year-old smoker has painless hematuria. A biopsy of the bladder lesion would most likely show which of the following?',
    type: 'basic_science', rule: 'findings-ask',
  },
  {
    stem: 'A 45-year-old man is told that he has metastatic pancreatic cancer. He asks whether he will live to see his daughter graduate. Which of the following is the most appropriate response by the physician?',
    type: 'ethics', rule: 'ethics-ask',
  },
  {
    stem: 'A 16-year-old girl requests oral contraceptives and asks that her parents not be told. Which of the following is the most appropriate response?',
    type: 'ethics', rule: 'ethics-ask',
  },
  {
    stem: 'A surgeon plans an elective hernia repair in a patient who speaks only Portuguese. Which of the following is required before informed consent can be obtained?',
    type: 'ethics', rule: 'ethics-ask',
  },
  {
    stem: 'An 80-year-old woman is found to have advanced ovarian cancer. Her son asks the physician not to tell her the diagnosis. Which of the following is the most appropriate action?',
    type: 'ethics', rule: 'ethics-vignette',
  },
  {
    stem: 'A 76-year-old man with severe COPD has an advance directive declining intubation. His wife asks that everything be done. Which of the following is the most appropriate course of action?',
    type: 'ethics', rule: 'ethics-vignette',
  },
  {
    stem: 'A 60-year-old man who smokes has a 2-cm spiculated nodule in the right upper lobe on CT. Which of the following is the most appropriate course of action?',
    type: 'management', rule: 'management-generic-ask',
  },
  {
    stem: 'A 68-year-old man with a ruptured abdominal aortic aneurysm is hypotensive despite two liters of saline. Which of the following is the most appropriate next step?',
    type: 'management', rule: 'management-generic-ask',
  },
  {
    stem: 'A 31-year-old woman who speaks only Tagalog is told she needs surgery; her 10-year-old daughter offers to translate and a telephone interpreter is available. Which of the following is the most appropriate next step?',
    type: 'ethics', rule: 'ethics-vignette',
  },
  {
    stem: 'A new rapid test for influenza is positive in 45 of 50 infected children and in 10 of 150 uninfected children. Which of the following is the sensitivity of the test?',
    type: 'other', rule: 'biostatistics-ask',
  },
  {
    stem: 'In a trial, 12% of patients given placebo and 8% of patients given a new anticoagulant have a stroke. How many patients need to be treated to prevent one stroke?',
    type: 'other', rule: 'biostatistics-ask',
  },
  {
    stem: 'A randomized trial of a new antihypertensive reports a relative risk of stroke of 0.85 with a 95% confidence interval of 0.70 to 1.05. Which of the following is the most appropriate conclusion?',
    type: 'other', rule: 'biostatistics-vignette',
  },
  {
    stem: 'A 52-year-old woman comes for a health maintenance examination. She has never had a colonoscopy. Which of the following screening tests is recommended?',
    type: 'other', rule: 'prevention-ask',
  },
  {
    stem: 'A 20-year-old college student asks which vaccinations she needs before moving into a dormitory. Which of the following vaccines should she receive?',
    type: 'other', rule: 'prevention-ask',
  },
  {
    stem: 'A 44-year-old man with an ulcer refuses a blood transfusion for religious reasons. Which of the following is the most appropriate next step?',
    type: 'ethics', rule: 'ethics-vignette',
  },
  {
    stem: 'A surgical intern sees an attending surgeon who appears intoxicated before an operation. Which of the following is the most appropriate action by the intern?',
    type: 'ethics', rule: 'ethics-ask',
  },
  {
    stem: 'A 58-year-old woman develops a dry cough three weeks after starting a new antihypertensive; her physician suspects an adverse effect. Which of the following best explains the cough?',
    type: 'pharmacology', rule: 'pharmacology-vignette',
  },
  {
    stem: 'A 25-year-old man treated for latent tuberculosis develops numbness in both feet. Which of the following would most likely have prevented this complication?',
    type: 'management', rule: 'management-ask',
  },
  {
    stem: 'A 33-year-old woman on an oral contraceptive starts rifampin and becomes pregnant. Which of the following best describes this drug interaction?',
    type: 'pharmacology', rule: 'pharmacology-ask',
  },
  {
    stem: 'A 33-year-old woman and her brother both have early-onset colon cancer. Which of the following best describes the mode of inheritance of this disorder?',
    type: 'basic_science', rule: 'basic-science-ask',
  },
  {
    stem: 'A 50-year-old woman with atrial fibrillation has a stroke risk score of 4. Which of the following drugs is the most appropriate next step in management?',
    type: 'management', rule: 'management-ask',
  },
  {
    stem: 'A 19-year-old woman with acne is about to start a new medication. Which of the following is the most likely adverse effect of the most appropriate treatment?',
    type: 'pharmacology', rule: 'pharmacology-ask',
  },
  {
    stem: 'A 41-year-old man had informed consent obtained for a colonoscopy; during the procedure a sessile polyp with a villous pattern is removed. Which of the following is the most likely diagnosis?',
    type: 'diagnosis', rule: 'diagnosis-ask',
  },
  // The asking forms of the real MedQA US test that the first rules missed (issue 14).
  {
    stem: 'A nurse tells a resident that an attending physician documented an examination that was never done. Which of the following is the correct next action for the resident to take?',
    type: 'ethics', rule: 'ethics-ask',
  },
  {
    stem: 'A 50-year-old man has had fatigue and a serum ferritin of 1,500 ng/mL. Which of the following is the most likely underlying cause of his fatigue?',
    type: 'diagnosis', rule: 'diagnosis-cause-ask',
  },
  {
    stem: 'A 61-year-old woman has painless jaundice and a CT is planned. Which of the following is the next best diagnostic step?',
    type: 'diagnosis', rule: 'diagnostic-workup-ask',
  },
  {
    stem: 'A 30-year-old man has a fever and a new murmur after dental work. Which of the following is most likely to be found on examination of his hands?',
    type: 'diagnosis', rule: 'clinical-findings-ask',
  },
  {
    stem: 'A 66-year-old woman with a recent stroke has slurred speech. Which of the following is most likely responsible for this patient\'s symptoms?',
    type: 'diagnosis', rule: 'diagnosis-cause-ask',
  },
  {
    stem: 'A 47-year-old woman has had diffuse bone pain for months. Which of the following best explains these findings?',
    type: 'diagnosis', rule: 'diagnosis-generic-ask',
  },
  {
    stem: 'A 70-year-old man has a newly diagnosed pancreatic adenocarcinoma invading the superior mesenteric artery. Which of the following is the most likely prognosis?',
    type: 'other', rule: 'prognosis-ask',
  },
  {
    stem: 'A 12-year-old boy has impetigo treated with cephalexin and now has dark urine. Which of the following is the most likely causal agent of his skin infection?',
    type: 'diagnosis', rule: 'diagnosis-cause-ask',
  },
  // Short MedMCQA / MMLU-style stems with no question mark: the last sentence is the ask.
  { stem: 'Drug of choice for absence seizures in children is:', type: 'pharmacology', rule: 'pharmacology-ask' },
  { stem: 'Treatment of choice for stage I seminoma is', type: 'management', rule: 'treatment-ask' },
  { stem: 'Which of the following drugs is used to treat hypertension in pregnancy?', type: 'pharmacology', rule: 'pharmacology-drug-ask' },
  {
    stem: 'A 27-year-old woman has had bloody diarrhea and crampy abdominal pain for 6 weeks; colonoscopy shows continuous inflammation from the rectum. Which of the following conditions is this patient at greatest risk of developing?',
    type: 'diagnosis', rule: 'diagnosis-cause-ask',
  },
  { stem: 'Investigation of choice for acute subarachnoid haemorrhage is:', type: 'diagnosis', rule: 'diagnostic-workup-ask' },
  { stem: 'Nerve supply of the deltoid muscle is', type: 'basic_science', rule: 'basic-science-ask' },
  { stem: 'Most common site of carcinoid tumour is:', type: 'other', rule: 'fallback' },
  { stem: 'Is early mobilisation after hip fracture surgery associated with shorter hospital stays?', type: 'other', rule: 'fallback' },
];

describe('classifyQuestion with the bundled rules', () => {
  let rules: TypeRules;
  beforeAll(async () => {
    rules = await loadTypeRules(RULES_FILE);
  });

  it.each(CASES)('$type by $rule: $stem', ({ stem, type, rule }) => {
    const got = classifyQuestion(stem, rules);
    expect({ type: got.type, rule: got.rule }).toEqual({ type, rule });
    if (rule === 'fallback') expect(got.matched).toBeNull();
    else expect(stem).toContain(got.matched);
  });

  it('covers every rule in the file with at least one case, so no rule is dead', () => {
    const used = new Set(CASES.map((c) => c.rule));
    expect(rules.rules.map((r) => r.name).filter((n) => !used.has(n))).toEqual([]);
  });

  // The bundled sample set states each item's type (written by people, not by these rules): the rules
  // should agree on most of it. They agreed on 52 of 60 when written; the misses are conventions
  // (e.g. "most appropriate treatment" labelled pharmacology) and vignettes with no ethics keyword.
  it('agrees with the types the bundled sample set states on at least 80% of its items', async () => {
    const { items } = await loadSampleDataset();
    const labelled = items.filter((i) => i.meta.questionType);
    expect(labelled.length).toBeGreaterThanOrEqual(30);
    const agree = labelled.filter((i) => classifyQuestion(i.question, rules).type === i.meta.questionType).length;
    expect(agree / labelled.length).toBeGreaterThanOrEqual(0.8);
  });

  it('is case-insensitive and tolerant of whitespace', () => {
    const got = classifyQuestion('A man has a cough.   WHICH of the following is the MOST LIKELY\n diagnosis?', rules);
    expect(got).toMatchObject({ type: 'diagnosis', rule: 'diagnosis-ask' });
  });
});

describe('questionAsk', () => {
  it('takes the sentence ending with the last question mark', () => {
    expect(questionAsk('A 30-year-old man has a fever. His temperature is 38.5°C. Which of the following is the most likely diagnosis?'))
      .toBe('Which of the following is the most likely diagnosis?');
  });
  it('does not split at abbreviations or decimals', () => {
    expect(questionAsk('He takes drugs, e.g. aspirin 81 mg daily. Which drug, e.g. the one he takes at 7.30 a.m., caused this?'))
      .toBe('Which drug, e.g. the one he takes at 7.30 a.m., caused this?');
  });
  it('ignores text after the last question mark', () => {
    expect(questionAsk('A woman has pain. What is the diagnosis? (Choose one.)')).toBe('What is the diagnosis?');
  });
  it('takes the last sentence when there is no question mark', () => {
    expect(questionAsk('A child has a rash. Drug of choice for this condition is:')).toBe('Drug of choice for this condition is:');
  });
});

describe('rules file validation', () => {
  const place = async (text: string) => {
    const dir = await mkdtemp(join(tmpdir(), 'medeval-rules-'));
    const file = join(dir, 'question-types.yaml');
    await writeFile(file, text);
    return { dir, file };
  };

  it('a broken regex is an InputError naming file:line and the field', async () => {
    const { file } = await place(
      ['fallback: other', 'rules:', '  - name: ok', '    type: diagnosis', '    in: ask', '    phrases: [diagnosis]',
        '  - name: broken', '    type: management', '    in: ask', '    regex:', "      - 'next (step'", ''].join('\n'));
    const err = await loadTypeRules(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(`${file}:11`);
    expect((err as Error).message).toContain('rules.1.regex.0');
    expect((err as Error).message).toMatch(/not a valid regular expression/);
  });

  it('an unknown type names its line and lists the valid types', () => {
    const text = ['rules:', '  - name: x', '    type: surgery', '    in: ask', '    phrases: [operation]', ''].join('\n');
    expect(() => parseTypeRules(text, 'r.yaml')).toThrow(/r\.yaml:3 field "rules\.0\.type"[\s\S]*diagnosis/);
  });

  it('rejects duplicate rule names at the second one', () => {
    const text = ['rules:', '  - { name: a, type: ethics, in: ask, phrases: [consent] }', '  - { name: a, type: ethics, in: ask, phrases: [consent] }'].join('\n');
    expect(() => parseTypeRules(text, 'r.yaml')).toThrow(/r\.yaml:3 field "rules\.1\.name": duplicate rule name "a"/);
  });

  it('reports empty rules, unknown scopes and unknown keys together', () => {
    const text = [
      'rules:',
      '  - { name: a, type: ethics, in: ask, phrases: [consent] }',
      '  - { name: a2, type: ethics, in: ask, phrases: [consent] }',
      '  - { name: b, type: ethics, in: ask }',
      '  - { name: c, type: ethics, in: vignette, phrases: [x] }',
      '  - { name: d, type: ethics, in: ask, phrase: [x] }',
    ].join('\n');
    let message = '';
    try {
      parseTypeRules(text, 'r.yaml');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/r\.yaml:4 .*at least one phrase or regex/);
    expect(message).toMatch(/r\.yaml:5 field "rules\.3\.in"/);
    expect(message).toMatch(/r\.yaml:6 .*unknown key "phrase" \(did you mean "phrases"\?\)/);
  });

  it('reserved rule names are refused', () => {
    expect(() => parseTypeRules('rules:\n  - { name: dataset, type: other, in: ask, phrases: [x] }\n', 'r.yaml')).toThrow(/reserved/);
  });

  it('first match wins in file order and the fallback is configurable', () => {
    const rules = parseTypeRules(
      ['fallback: basic_science', 'rules:',
        '  - { name: first, type: ethics, in: question, phrases: [cough] }',
        '  - { name: second, type: diagnosis, in: ask, phrases: [diagnosis] }', ''].join('\n'),
      'r.yaml');
    expect(classifyQuestion('A man has a cough. What is the diagnosis?', rules)).toMatchObject({ type: 'ethics', rule: 'first' });
    expect(classifyQuestion('A man has a rash. What is the diagnosis?', rules)).toMatchObject({ type: 'diagnosis', rule: 'second' });
    expect(classifyQuestion('A man has a rash. What now?', rules)).toEqual({ type: 'basic_science', rule: 'fallback', matched: null });
  });
});

describe('phraseToRegExp', () => {
  it('matches whole words literally, whatever the spacing', () => {
    expect(phraseToRegExp('side effect').test('Which SIDE\n effect?')).toBe(true);
    expect(phraseToRegExp('side effect').test('side effects')).toBe(false);
    expect(phraseToRegExp('drug').test('drugstore')).toBe(false);
    expect(phraseToRegExp('half-life (t1/2)').test('its half-life (t1/2) is')).toBe(true);
  });
});
