// A suite = dataset + prompt templates + sampling + scoring settings, kept in a YAML file under suites/.
// Paths inside a suite file are relative to that file, so suites travel with their data.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { fieldMappingSchema } from '../datasets/field-mapping.js';
import { DATASET_FORMAT_NAMES } from '../datasets/formats.js';
import type { DatasetSpec } from '../datasets/types.js';
import { readYamlFile } from '../core/yaml-config.js';
import { InputError } from '../core/errors.js';
import { didYouMean } from '../core/nearest-name.js';
import { PACKAGE_ROOT } from '../core/package-root.js';
import type { HubDatasetRecord, SamplingParams } from '../core/types.js';
import { KNOWN_DATASETS, knownDataset } from '../datasets/hub/catalog.js';
// The Hub cache, client and converters load only for a suite that names a Hub dataset (start-up).
import type { DownloadProgress } from '../datasets/hub/index.js';

export const samplingSchema = z.strictObject({
  temperature: z.number().min(0).max(5).default(0.6),
  topP: z.number().gt(0).max(1).default(0.95),
  topK: z.number().int().nonnegative().optional(),
  minP: z.number().min(0).max(1).optional(),
  maxTokens: z.number().int().positive().default(1024),
  stop: z.array(z.string()).optional(),
});

export const loadSchema = z.strictObject({
  profile: z.enum(['sequential', 'concurrency', 'rate']).default('sequential'),
  concurrency: z.number().int().positive().optional(),
  ratePerSecond: z.number().positive().optional(),
  /** Warm-up requests, run first and excluded from every figure. */
  warmup: z.number().int().nonnegative().default(1),
}).superRefine((l, ctx) => {
  if (l.profile === 'concurrency' && l.concurrency === undefined) {
    ctx.addIssue({ code: 'custom', path: ['concurrency'], message: 'profile "concurrency" needs concurrency: N (requests in flight)' });
  }
  if (l.profile === 'rate' && l.ratePerSecond === undefined) {
    ctx.addIssue({ code: 'custom', path: ['ratePerSecond'], message: 'profile "rate" needs ratePerSecond: R (Poisson arrivals); concurrency caps requests in flight' });
  }
});

export const suiteSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  dataset: z.strictObject({
    format: z.enum([...DATASET_FORMAT_NAMES, 'auto']).default('auto'),
    /** A file (or, for MMLU, a folder of CSVs), relative to the suite file. */
    path: z.string().min(1).optional(),
    /** A dataset medeval knows by name (medeval datasets list): fetched on first use, then read from the cache. */
    hub: z.string().min(1).optional(),
    /** With hub: another revision than the pinned one, on purpose (recorded in the lock file and manifest). */
    revision: z.string().min(1).optional(),
    name: z.string().optional(),
    /** MedMCQA: `cop` is 0-based (Hugging Face copy) or 1-based (original dev.json); auto detects and reports. */
    copBase: z.union([z.literal(0), z.literal(1), z.literal('auto')]).optional(),
    /** PubMedQA: test_ground_truth.json (relative to the suite file) to keep only the official test PMIDs. */
    groundTruth: z.string().optional(),
    /** MMLU folder: only these subjects (file name prefixes, e.g. anatomy). */
    subjects: z.array(z.string().min(1)).optional(),
    /** format mapped: the fields holding question, options, answer (and id, metadata); see README. */
    fields: fieldMappingSchema.optional(),
  }).superRefine((d, ctx) => {
    if (!d.path === !d.hub) ctx.addIssue({ code: 'custom', path: ['path'], message: 'give either path (a file of yours) or hub (a known dataset name), not both or neither' });
    if (d.revision && !d.hub) ctx.addIssue({ code: 'custom', path: ['revision'], message: 'revision goes with hub' });
    if (d.hub && (d.format !== 'auto' || d.fields)) ctx.addIssue({ code: 'custom', path: ['format'], message: 'a hub dataset brings its own format: remove format and fields' });
    if (d.format === 'mapped' && !d.fields) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'format "mapped" needs fields: {question, options, answer}' });
    if (d.fields && d.format !== 'mapped') ctx.addIssue({ code: 'custom', path: ['format'], message: 'fields is set: use format: mapped' });
  }),
  /** Folder with question-types.yaml and templates/ (relative to the suite file). */
  prompts: z.string().default('prompts'),
  sampling: samplingSchema.prefault({}),
  /** Samples per question; above 1, accuracy is pass@1 over samples (DeepSeek's recommendation). */
  samples: z.number().int().positive().default(1),
  limit: z.number().int().positive().optional(),
  load: loadSchema.prefault({}),
  /**
   * "letter": constrain the reply to "Answer: <letter>" (a grammar), for models that cannot follow the
   * answer format, such as the tiny random demo models; "none": free generation (reasoning models).
   */
  answerConstraint: z.enum(['none', 'letter']).default('none'),
  /**
   * "generate": the model writes a reply and the answer is extracted from it. "likelihood": nothing is
   * generated; the answer is the option letter the model finds most likely after the prompt and
   * `likelihoodPrefix` (lm-evaluation-harness's multiple_choice). In-process runners only; reports then
   * compare the models' letter distributions too (KL divergence, top-1 agreement).
   */
  scoring: z.enum(['generate', 'likelihood']).default('generate'),
  /** The assistant text each letter follows in likelihood scoring; letters are scored as " A", " B", ... */
  likelihoodPrefix: z.string().min(1).default('Answer:'),
  /** Marks a suite for smoke tests only, so reports never present its numbers as a benchmark. */
  smokeTest: z.boolean().default(false),
});
export type SuiteConfig = z.infer<typeof suiteSchema>;

export interface LoadedSuite extends SuiteConfig {
  /** The suite file; null for a suite made from flags alone (`--dataset`). */
  file: string | null;
  /** "flags": made from --dataset with the default settings; "file+flags": a file whose dataset a flag replaced. */
  source?: 'file' | 'flags' | 'file+flags';
  /** The dataset file or folder; "hub:<name>" for `dataset.hub` (resolved by resolveSuiteDataset). */
  datasetPath: string;
  promptsDir: string;
}

/** Reads and validates a suite file; a `dataset.hub` is not fetched here but when the dataset is used. */
export async function loadSuite(file: string): Promise<LoadedSuite> {
  const cfg = await readYamlFile(file, suiteSchema, 'suite file');
  const base = dirname(resolve(file));
  return {
    ...cfg,
    file,
    source: 'file',
    datasetPath: cfg.dataset.hub ? `hub:${cfg.dataset.hub}` : resolve(base, cfg.dataset.path!),
    promptsDir: resolve(base, cfg.prompts),
  };
}

export interface SuiteDatasetOptions {
  skipInvalid?: boolean;
  limit?: number;
  /** Lines about a `dataset.hub` fetch on first use (stderr by default). */
  onHubLine?: (line: string) => void;
  onHubProgress?: (p: DownloadProgress) => void;
}

/**
 * The loader's spec for a suite's dataset; for `dataset.hub` the cached copy (fetched on first use,
 * hashes checked), with where it came from for the run manifest.
 */
export async function resolveSuiteDataset(suite: LoadedSuite, o: SuiteDatasetOptions = {}): Promise<{ spec: DatasetSpec; hub?: HubDatasetRecord }> {
  const name = suite.dataset.hub;
  if (!name) return { spec: datasetSpec(suite, o) };
  const say = o.onHubLine ?? ((line: string) => void process.stderr.write(`medeval: dataset ${name}: ${line}\n`));
  let hub;
  try {
    const { useHubDataset } = await import('../datasets/hub/index.js');
    hub = await useHubDataset(name, { ...(suite.dataset.revision && { revision: suite.dataset.revision }), onLine: say, onProgress: o.onHubProgress });
  } catch (e) {
    // The problem belongs to this suite's dataset.hub field.
    if (e instanceof InputError && !e.place.file) throw new InputError(e.message, { file: suite.file ?? undefined, field: suite.file ? 'dataset.hub' : '--dataset' });
    throw e;
  }
  if (hub.fetched) say(`fetched ${hub.locked.repo} at ${hub.locked.revision} into the cache`);
  if (hub.known.needsGroundTruth && !suite.dataset.groundTruth) {
    throw new InputError(`${name} needs the official test PMIDs: ${hub.known.note ?? ''}`, { file: suite.file ?? undefined, field: 'dataset.groundTruth' },
      'set dataset.groundTruth: path/to/test_ground_truth.json');
  }
  const resolved: LoadedSuite = {
    ...suite,
    dataset: { ...suite.dataset, format: hub.spec.format, ...(hub.spec.copBase !== undefined && { copBase: hub.spec.copBase }), name: suite.dataset.name ?? name },
    datasetPath: hub.spec.path,
  };
  return {
    spec: datasetSpec(resolved, o),
    hub: {
      name, repo: hub.locked.repo, revision: hub.locked.revision, requested: hub.locked.requested, chosenOnPurpose: hub.locked.chosenOnPurpose,
      files: hub.locked.files.map((f) => ({ path: f.path, sha256: f.sha256 })),
    },
  };
}

/** The loader's spec for a suite's dataset (format-specific options included). */
export function datasetSpec(suite: LoadedSuite, o: { skipInvalid?: boolean; limit?: number }): DatasetSpec {
  const d = suite.dataset;
  return {
    format: d.format,
    path: suite.datasetPath,
    name: d.name ?? suite.name,
    ...(o.skipInvalid !== undefined ? { skipInvalid: o.skipInvalid } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(d.copBase !== undefined ? { copBase: d.copBase } : {}),
    ...(d.groundTruth ? { groundTruthPath: resolve(suite.file ? dirname(resolve(suite.file)) : '.', d.groundTruth) } : {}),
    ...(d.subjects ? { subjects: d.subjects } : {}),
    ...(d.fields ? { fields: d.fields } : {}),
  };
}

/** The bundled smoke-test questions: a suite made from flags over them is a smoke test, as usmle-sample.yaml is. */
const SMOKE_TEST_DATASETS = [resolve(PACKAGE_ROOT, 'datasets/sample/usmle-sample.jsonl')];

export interface SuiteChoice {
  /** A suite file. */
  suite?: string;
  /** A dataset file or a known Hub name: replaces the suite's dataset, or makes a suite with the default settings. */
  dataset?: string;
  format?: SuiteConfig['dataset']['format'];
  /** Replaces the suite's answerConstraint. */
  answerConstraint?: SuiteConfig['answerConstraint'];
}

/**
 * The suite a run uses: the suite file; `dataset` (and `format`) replace its dataset; with no file, a
 * suite of the default settings (suiteSchema's defaults, the bundled prompt templates) over `dataset`.
 */
export async function suiteForRun(o: SuiteChoice): Promise<LoadedSuite> {
  const suite = await suiteOf(o);
  return o.answerConstraint ? { ...suite, answerConstraint: o.answerConstraint } : suite;
}

async function suiteOf(o: SuiteChoice): Promise<LoadedSuite> {
  if (!o.suite && !o.dataset) {
    throw new InputError('no suite and no dataset', { field: '--suite / --dataset' },
      'pass --suite FILE (e.g. suites/usmle-sample.yaml), or --dataset PATH|NAME (a file, or a name from `medeval datasets list`)');
  }
  if (o.format && !o.dataset) throw new InputError('--format goes with --dataset', { field: '--format' }, 'a suite file sets its own dataset.format');
  const base = o.suite ? await loadSuite(o.suite) : null;
  if (!o.dataset) return base!;
  const { dataset, datasetPath, name } = datasetFromFlag(o.dataset, o.format);
  const defaults = suiteSchema.parse({ name, dataset });
  return {
    ...(base ?? { ...defaults, file: null, promptsDir: resolve(PACKAGE_ROOT, 'suites/prompts') }),
    dataset: defaults.dataset,
    datasetPath,
    // Another dataset is no smoke test because the file's was: only the bundled sample questions are.
    smokeTest: SMOKE_TEST_DATASETS.includes(datasetPath),
    source: base ? 'file+flags' : 'flags',
  };
}

/** `--dataset`: an existing file or folder, else a known Hub name; the dataset block a suite file would hold. */
function datasetFromFlag(given: string, format: SuiteChoice['format']): { dataset: Record<string, unknown>; datasetPath: string; name: string } {
  const path = resolve(given);
  let dataset: Record<string, unknown>;
  let datasetPath: string;
  let name: string;
  if (existsSync(path)) {
    dataset = { path, ...(format ? { format } : {}) };
    datasetPath = path;
    name = basename(path).replace(/\.(jsonl|json|csv|parquet)$/i, '');
  } else if (knownDataset(given)) {
    if (format && format !== 'auto') throw new InputError(`${given} is a Hub dataset, which brings its own format`, { field: '--format' }, 'remove --format');
    dataset = { hub: given };
    datasetPath = `hub:${given}`;
    name = given;
  } else {
    const names = KNOWN_DATASETS.map((d) => d.name);
    throw new InputError(`no file or folder "${given}" and no known dataset of that name${didYouMean(given, names)}`, { field: '--dataset' },
      `give a dataset file, or one of ${names.join(', ')} (medeval datasets list)`);
  }
  const checked = suiteSchema.shape.dataset.safeParse(dataset);
  if (!checked.success) throw new InputError(checked.error.issues[0]!.message, { field: format ? '--format' : '--dataset' });
  return { dataset, datasetPath, name };
}

/** The sampling settings given (maxTokens, temperature, ...): each replaces the suite's value. */
export function samplingOverrides(s: Partial<SamplingParams>): Partial<SamplingParams> {
  const out: Partial<SamplingParams> = {};
  for (const k of ['maxTokens', 'temperature', 'topP', 'topK', 'minP', 'stop'] as const) if (s[k] !== undefined) (out as Record<string, unknown>)[k] = s[k];
  return out;
}
