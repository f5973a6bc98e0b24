// The datasets medeval knows by name: where each lives on the Hugging Face Hub, which files make the
// evaluated split, how its rows map onto a loader, and what is pinned. A pin that could not be checked
// from here (no Hub access when this list was written) is marked unverified: its revision and file
// hashes are recorded on first fetch in the cache's lock file and enforced from then on.
import type { DatasetFormat } from '../formats.js';

/** How the Hub's rows become the original files a loader reads (so ids match the original files'). */
export type HubShape = 'medqa' | 'medmcqa' | 'pubmedqa' | 'mmlu';

export interface KnownDataset {
  name: string;
  title: string;
  repo: string;
  /** A commit found in the Hub's history for this repo, or null: the branch head on first fetch. */
  revision: string | null;
  /** Files of the evaluated split, chosen from the Hub's listing of the revision. */
  files: RegExp;
  /** What the listing should give, for the message when nothing matches. */
  expect: string;
  shape: HubShape;
  format: DatasetFormat;
  /** Options per question the set must have (MedQA 4 vs 5). */
  options?: number;
  split: string;
  licence: string;
  /** sha256 of each file by path, where known; none are known yet (see pinNote). */
  sha256: Record<string, string>;
  /** PubMedQA: the official test PMIDs are not on the Hub; the suite must give test_ground_truth.json. */
  needsGroundTruth?: boolean;
  note?: string;
}

export const MMLU_MEDICAL = ['anatomy', 'clinical_knowledge', 'college_biology', 'college_medicine', 'medical_genetics', 'professional_medicine'];

export const KNOWN_DATASETS: KnownDataset[] = ([
  {
    name: 'medqa-us-4',
    title: 'MedQA US test, 4 options',
    repo: 'GBaker/MedQA-USMLE-4-options',
    // "Update README.md", the head of main in the Hub's commit history (the data came one commit earlier);
    // file names and columns checked against the Hub's pages: docs/datasets-hub.md.
    revision: '0fb93dd23a7339b6dcd27e241cb9b5eca62d4d18',
    files: /(^|\/)phrases_no_exclude_test\.jsonl$/,
    expect: 'phrases_no_exclude_test.jsonl',
    shape: 'medqa',
    format: 'medqa',
    options: 4,
    split: 'test, 1,273 questions',
    licence: 'CC BY 4.0 (as the Hub card states); questions from Jin et al. 2020',
  },
  {
    name: 'medqa-us-5',
    title: 'MedQA US test, 5 options',
    repo: 'mkieffer/MedQA-USMLE',
    revision: null,
    files: /(^|\/)test[^/]*\.(jsonl|parquet)$/,
    expect: 'a test*.jsonl or test*.parquet file with options A..E',
    shape: 'medqa',
    format: 'medqa',
    options: 5,
    split: 'test, 1,273 questions',
    licence: 'see the Hub card; questions from Jin et al. 2020 (MIT per github jind11/MedQA)',
    // Layout from its uploader (github mkieffer1107/medqa-usmle_upload: push_to_hub writes data/test-00000-of-00001.parquet;
    // the letter is in `answer`, see convert.ts medqaRecord); no Hub commit could be read: docs/datasets-hub.md.
    note: 'revision not pinned; the test file is found by name on first fetch and its option count checked (docs/datasets-hub.md)',
  },
  {
    name: 'medmcqa',
    title: 'MedMCQA validation split',
    repo: 'openlifescienceai/medmcqa',
    revision: null,
    files: /^data\/validation-[^/]*\.parquet$/,
    expect: 'data/validation-00000-of-00001.parquet',
    shape: 'medmcqa',
    format: 'medmcqa',
    split: 'validation, 4,183 questions (the test split has no labels)',
    licence: 'Apache 2.0 (as the Hub card states)',
  },
  {
    name: 'pubmedqa',
    title: 'PubMedQA labelled, the official 500 test PMIDs',
    repo: 'qiaojin/PubMedQA',
    revision: null,
    files: /^pqa_labeled\/train-[^/]*\.parquet$/,
    expect: 'pqa_labeled/train-00000-of-00001.parquet',
    shape: 'pubmedqa',
    format: 'pubmedqa',
    split: 'pqa_labeled 1,000 -> the 500 test PMIDs of test_ground_truth.json',
    licence: 'MIT (as the Hub card states)',
    needsGroundTruth: true,
    note: 'the 500 test PMIDs are not on the Hub: give test_ground_truth.json (github pubmedqa/pubmedqa, data/) as dataset.groundTruth',
  },
  {
    name: 'mmlu-medical',
    title: 'MMLU, the six medical subjects, test split',
    repo: 'cais/mmlu',
    revision: null,
    files: new RegExp(`^(${MMLU_MEDICAL.join('|')})/test-[^/]*\\.parquet$`),
    expect: '<subject>/test-00000-of-00001.parquet for the six medical subjects',
    shape: 'mmlu',
    format: 'mmlu',
    split: 'test, 1,089 questions (anatomy 135, clinical_knowledge 265, college_biology 144, college_medicine 173, medical_genetics 100, professional_medicine 272)',
    licence: 'MIT (as the Hub card states)',
  },
] satisfies Array<Omit<KnownDataset, 'sha256'>>).map((d) => ({ sha256: {}, ...d }));

export function knownDataset(name: string): KnownDataset | undefined {
  return KNOWN_DATASETS.find((d) => d.name === name);
}

/** How the pin of a known set stands, in words for `datasets list` and errors. */
export function pinNote(d: KnownDataset): string {
  const rev = d.revision ? `revision ${d.revision.slice(0, 12)} (from the Hub's commit history)` : 'revision unverified: the branch head, recorded on first fetch';
  const hashes = Object.keys(d.sha256).length ? 'file sha256 pinned' : 'file sha256 unverified: recorded on first fetch, then enforced';
  return `${rev}; ${hashes}`;
}
