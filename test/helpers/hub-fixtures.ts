// Small Hub repositories in the real shapes (our own questions), for the Hub double.
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { DoubleRepo, HubDouble } from '../doubles/hub-double.js';

export const COMMIT_4 = '0fb93dd23a7339b6dcd27e241cb9b5eca62d4d18'; // the catalog's pin for medqa-us-4
export const HEAD_MEDMCQA = 'a1'.repeat(20);
export const HEAD_MMLU = 'b2'.repeat(20);
export const HEAD_PUBMEDQA = 'c3'.repeat(20);
export const NEWER_4 = 'd4'.repeat(20);

/** MedQA US 4-option records in the original file's form (phrases_no_exclude_test.jsonl). */
export const MEDQA_ORIGINAL = [
  { question: 'A 30-year-old woman has fever and flank pain. Which of the following is the most likely diagnosis?', answer: 'Pyelonephritis',
    options: { A: 'Cystitis', B: 'Pyelonephritis', C: 'Appendicitis', D: 'Nephrolithiasis' }, meta_info: 'step2&3', answer_idx: 'B', metamap_phrases: ['fever'] },
  { question: 'A 50-year-old man takes a statin. Which of the following enzymes does the drug inhibit?', answer: 'HMG-CoA reductase',
    options: { A: 'HMG-CoA reductase', B: 'Lipoprotein lipase', C: 'Squalene epoxidase', D: 'Acetyl-CoA carboxylase' }, meta_info: 'step1', answer_idx: 'A', metamap_phrases: ['statin'] },
  { question: 'A 7-year-old boy has a sore throat. Which of the following is the most appropriate treatment?', answer: 'Penicillin V',
    options: { A: 'Azithromycin', B: 'Observation', C: 'Penicillin V', D: 'Ciprofloxacin' }, meta_info: 'stfep2&3', answer_idx: 'C', metamap_phrases: ['sore throat'] },
];

/** The same questions as the SWAG-style "-hf" copy: id, sent1, sent2, ending0..3, label (0-based). */
export const MEDQA_SWAG = MEDQA_ORIGINAL.map((r, i) => ({
  id: i, sent1: r.question, sent2: '', ending0: r.options.A, ending1: r.options.B, ending2: r.options.C, ending3: r.options.D, label: 'ABCD'.indexOf(r.answer_idx),
}));

/** The same questions with options as [{key, value}] (bigbio's source schema) and a Hub id. */
export const MEDQA_KV = MEDQA_ORIGINAL.map((r, i) => ({
  meta_info: r.meta_info, question: r.question, answer_idx: r.answer_idx, answer: r.answer, id: `hub-${i}`,
  options: Object.entries(r.options).map(([key, value]) => ({ key, value })),
}));

export const jsonl = (rows: unknown[]) => new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

export const MEDMCQA_ROWS = [
  { id: 'e9ad821a-0001', question: 'Nerve supply of the deltoid muscle is', opa: 'Axillary nerve', opb: 'Radial nerve', opc: 'Median nerve', opd: 'Ulnar nerve', cop: 0n, choice_type: 'single', exp: 'Our own explanation.', subject_name: 'Anatomy', topic_name: 'Upper limb' },
  { id: 'e9ad821a-0002', question: 'Drug of choice for absence seizures in children is', opa: 'Phenytoin', opb: 'Ethosuximide', opc: 'Carbamazepine', opd: 'Phenobarbital', cop: 1n, choice_type: 'single', exp: '', subject_name: 'Pharmacology', topic_name: 'Antiepileptics' },
];

function columns(rows: Array<Record<string, unknown>>, types: Record<string, string> = {}) {
  return Object.keys(rows[0]!).map((name) => ({ name, data: rows.map((r) => r[name]), ...(types[name] && { type: types[name] as 'INT64' }) }));
}

export const medmcqaParquet = (rows = MEDMCQA_ROWS) => new Uint8Array(parquetWriteBuffer({ columnData: columns(rows, { cop: 'INT64' }) }));

export const MMLU_ROWS: Record<string, Array<Record<string, unknown>>> = {
  anatomy: [{ question: 'Which bone forms the heel?', subject: 'anatomy', choices: ['Talus', 'Calcaneus', 'Navicular', 'Cuboid'], answer: 1n }],
  medical_genetics: [
    { question: 'Which pattern of inheritance skips generations, "often"?', subject: 'medical_genetics', choices: ['Autosomal dominant', 'Autosomal recessive', 'Mitochondrial', 'Y-linked'], answer: 1n },
    { question: 'A trisomy, with a comma, is caused by', subject: 'medical_genetics', choices: ['Nondisjunction', 'Deletion', 'Inversion', 'Translocation'], answer: 0n },
  ],
  astronomy: [{ question: 'Not a medical subject?', subject: 'astronomy', choices: ['a', 'b', 'c', 'd'], answer: 0n }],
};

export const mmluParquet = (rows: Array<Record<string, unknown>>) => new Uint8Array(parquetWriteBuffer({ columnData: columns(rows, { answer: 'INT64' }) }));

export const PUBMEDQA_ROWS = [
  { pubid: 10001n, question: 'Does early mobilisation shorten hospital stays?', context: { contexts: ['Our own background text.', 'Our own results text.'], labels: ['BACKGROUND', 'RESULTS'], meshes: ['Humans'] }, long_answer: 'It seems to.', final_decision: 'yes', reasoning_required_pred: 'yes', reasoning_free_pred: 'yes' },
  { pubid: 10002n, question: 'Is coffee harmful to the liver?', context: { contexts: ['Our own text.'], labels: ['METHODS'], meshes: [] }, long_answer: 'No.', final_decision: 'no', reasoning_required_pred: 'no', reasoning_free_pred: 'no' },
  { pubid: 10003n, question: 'Do naps help memory?', context: { contexts: ['Our own text again.'], labels: ['RESULTS'], meshes: ['Sleep'] }, long_answer: 'Unclear.', final_decision: 'maybe', reasoning_required_pred: 'maybe', reasoning_free_pred: 'yes' },
];

export const pubmedqaParquet = () => new Uint8Array(parquetWriteBuffer({ columnData: columns(PUBMEDQA_ROWS, { pubid: 'INT64' }) }));

/** The repositories of the known sets, as the double serves them. */
export function addKnownRepos(hub: HubDouble): void {
  const readme = { bytes: new TextEncoder().encode('# dataset card\n') };
  hub.repos.set('GBaker/MedQA-USMLE-4-options', {
    branches: { main: COMMIT_4 },
    commits: {
      [COMMIT_4]: { 'README.md': readme, 'phrases_no_exclude_test.jsonl': { bytes: jsonl(MEDQA_ORIGINAL), lfs: true }, 'phrases_no_exclude_train.jsonl': { bytes: jsonl([MEDQA_ORIGINAL[0]]), lfs: true } },
      [NEWER_4]: { 'phrases_no_exclude_test.jsonl': { bytes: jsonl(MEDQA_ORIGINAL.slice(0, 2)), lfs: true } },
    },
  } satisfies DoubleRepo);
  hub.repos.set('openlifescienceai/medmcqa', {
    branches: { main: HEAD_MEDMCQA },
    commits: { [HEAD_MEDMCQA]: { 'README.md': readme, 'data/validation-00000-of-00001.parquet': { bytes: medmcqaParquet(), lfs: true }, 'data/train-00000-of-00001.parquet': { bytes: medmcqaParquet(), lfs: true } } },
  });
  hub.repos.set('cais/mmlu', {
    branches: { main: HEAD_MMLU },
    commits: {
      [HEAD_MMLU]: Object.fromEntries([
        ...Object.entries(MMLU_ROWS).map(([s, rows]) => [`${s}/test-00000-of-00001.parquet`, { bytes: mmluParquet(rows), lfs: true }]),
        ['anatomy/dev-00000-of-00001.parquet', { bytes: mmluParquet(MMLU_ROWS.anatomy!), lfs: true }],
      ]),
    },
  });
  hub.repos.set('qiaojin/PubMedQA', {
    branches: { main: HEAD_PUBMEDQA },
    commits: { [HEAD_PUBMEDQA]: { 'pqa_labeled/train-00000-of-00001.parquet': { bytes: pubmedqaParquet(), lfs: true } } },
  });
}
