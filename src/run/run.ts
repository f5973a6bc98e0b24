// `runSuite`: dataset -> prompts -> runner -> journal -> summary. Everything is validated before the
// model is loaded; every record is journalled as it completes; a failed request is an error, never a
// wrong answer; an interrupted run keeps what it has and can be resumed.
import { createHash } from 'node:crypto';
import { sha256Bytes } from '../core/sha256.js';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDataset, skippedRecords, type LoadedDataset } from '../datasets/index.js';
import { buildPromptSystem, type KnownType } from '../prompts/index.js';
import type { RunnerProfile } from '../runners/registry.js';
import { extractAnswer } from '../scoring/extract.js';
import { InputError } from '../core/errors.js';
import { RunFolder } from '../core/run-folder.js';
import { itemIdsHash } from '../core/journal-check.js';
import { resolveSuiteDataset, samplingOverrides, suiteForRun, type LoadedSuite, type SuiteChoice } from './suite.js';
import type { DatasetItem, GenerateRequest, ItemResult, MemoryFigure, MemoryReport, Runner, RunManifest, SamplingParams, ServerReport, ShardRecord } from '../core/types.js';
import { ResponseCache } from './response-cache.js';
import { NO_ANSWER_KINDS, RunHealth } from './run-health.js';
import { runWithLoad, type LoadProfile, type LoadTaskList } from './load-profile.js';
import { MEDEVAL_VERSION } from '../core/version.js';
import { portablePath } from '../core/portable-path.js';
import { answeredRecord, emptyOutcome, itemBase, type RenderedPrompt } from './item-record.js';
import { checkLikelihoodSettings, likelihoodRunnerError, runLikelihoodItem } from './run-likelihood.js';
import { planItems, planPrompts, recountRefused, serverChecksContext, uncountedPlans, type PlanSummary, type PromptPlan } from './plan-budget.js';
import { fittedWarmupPromptFor, warmupPromptFor } from './warmup.js';
import { applyShard, type ShardSpec } from './shard.js';
import { createRunnerWithReplicas } from './replicas.js';
import type { RunnerSession } from './runner-session.js';
import { recentRss } from '../metrics/process-memory.js';
import { collectGarbage } from '../core/heap.js';
import type { RunReport } from '../report/model.js';
import { SummaryTally } from './summary-tally.js';

export interface RunOptions {
  /** A suite file, or a loaded suite; absent: `dataset` with the default suite settings (suiteForRun). */
  suite?: string | LoadedSuite;
  /** A dataset file or known Hub name replacing the suite's dataset (suite.ts suiteForRun), and its format. */
  dataset?: string;
  format?: LoadedSuite['dataset']['format'];
  answerConstraint?: LoadedSuite['answerConstraint'];
  /** Sampling settings overriding the suite's (maxTokens is above). */
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  stop?: string[];
  runner: { profile: RunnerProfile; file: string | null; source?: 'file' | 'flags' | 'file+flags' };
  out: string;
  limit?: number;
  seed?: number;
  samples?: number;
  skipInvalid?: boolean;
  resume?: boolean;
  /** Override the suite's max tokens (e.g. for quick smoke runs). */
  maxTokens?: number;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Response cache folder (greedy generations only); false turns it off. Default .cache/responses. */
  cacheDir?: string | false;
  /** Stop the run when more than this share of requests failed (checked after 10 requests). */
  maxErrorRate?: number;
  /** Stop after this many connection failures in a row: the server is gone (default 5). */
  maxConsecutiveConnectionErrors?: number;
  /** For tests: use this runner instead of creating one from the profile. */
  runnerInstance?: Runner;
  /** Run only this shard of the items (after --limit): shard.ts. */
  shard?: ShardSpec;
  /** Keep the runner open for the next run of this process (compare's workers): loaded and warmed up once. */
  session?: RunnerSession;
}

export type RunEvent =
  /** `resumed` records kept from the journal (all answered), `resumedCorrect` of them correct: live figures count them. */
  | { type: 'validated'; dataset: Omit<LoadedDataset, 'items'>; items: number; todo: number; resumed: number; resumedCorrect: number }
  | { type: 'loaded'; label: string; loadMs: number }
  /** The planning step: prompts counted and budgets capped to the runner's context (before any measured request). */
  | { type: 'planned'; summary: PlanSummary; runnerKind: string; runnerFile: string | null }
  | { type: 'warmup'; done: number; total: number }
  | { type: 'item'; done: number; total: number; result: ItemResult }
  | { type: 'stopped'; reason: string }
  | { type: 'notice'; text: string }
  /** `errors`: records that ended in error (not scored; `--resume` re-runs exactly those) of `records` written, of `total` asked. */
  | { type: 'finished'; status: RunManifest['status']; dir: string; errors: number; records: number; total: number };

/** What a run wrote, counted as it went: the run keeps no record once it is journalled. */
export interface RunCounts {
  /** Records in the journal (those kept from earlier sessions included). */
  records: number;
  /** Of them, ended in error (not scored). */
  errors: number;
  /** Of them, answered correctly. */
  correct: number;
}

export interface RunOutcome {
  dir: string;
  manifest: RunManifest;
  counts: RunCounts;
  /**
   * The run's report as summary.json has it, when it was built from the totals the run kept as it went
   * (summary-tally.ts): the console table is made from it. Absent when the summary was read back from the
   * journal (resumed runs, several samples, ...): read the folder back for the table too.
   */
  talliedRun?: RunReport;
  /** The journal's records, read from results.jsonl when asked for (the run itself holds none of them). */
  readonly results: ItemResult[];
}

function outcomeOf(folder: RunFolder, manifest: RunManifest, counts: RunCounts, talliedRun?: RunReport): RunOutcome {
  return {
    dir: folder.dir,
    manifest,
    counts,
    ...(talliedRun ? { talliedRun } : {}),
    get results() {
      return folder.readJournal().results;
    },
  };
}

/** Heap in use above which the start-up's garbage is collected before the first request (a small run's is not worth the pause). */
const START_UP_GC_BYTES = 48 << 20;

export function hashJson(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** A per-(item, sample) seed: repeats are distinct and the whole run is reproducible from one seed. */
export function itemSeed(seed: number, itemId: string, sample: number): number {
  return sha256Bytes(`${seed}:${itemId}:${sample}`).readUInt32LE(0) & 0x7fffffff;
}

/** sha256 of the question-type rules and every template file: what decides every prompt. */
function hashPromptFiles(dir: string): string {
  const h = createHash('sha256');
  const files = [join(dir, 'question-types.yaml'), ...readdirSync(join(dir, 'templates')).sort().map((f) => join(dir, 'templates', f))];
  for (const f of files) h.update(f.slice(dir.length)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

/**
 * The checkout's commit, for the manifest. `git rev-parse` runs beside the run's start-up (dataset, runner,
 * planning) rather than blocking it: it is started early and awaited when the manifest is written.
 */
function gitCommit(): Promise<string | null> {
  return new Promise((resolve) => {
    try {
      execFile('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }, (err, stdout) => resolve(err ? null : stdout.trim() || null)).stdin?.end();
    } catch {
      resolve(null);
    }
  });
}

export async function runSuite(opts: RunOptions): Promise<RunOutcome> {
  const suite = typeof opts.suite === 'object' ? opts.suite : await suiteForRun(opts as SuiteChoice);
  const seed = opts.seed ?? 1234;
  const samples = opts.samples ?? suite.samples;
  const limit = opts.limit ?? suite.limit;

  // 1. Validate everything a model would need before loading one.
  // --limit first, then the shard: the shards of one --limit run merge into exactly that run.
  const { spec: datasetSpecOfSuite, hub } = await resolveSuiteDataset(suite, { skipInvalid: opts.skipInvalid, limit });
  const render = await buildPromptSystem(suite.promptsDir);
  // Validated whole in one streamed pass that keeps the items' ids; the items are read from the file again
  // when their turn comes (a cursor), so a 100,000-item split is never held. Each prompt is rendered once
  // in that pass too, for its first character and length (the warm-up's shape: warmup.ts), so a server
  // that needs no counts (vLLM) has nothing to read again before the first request.
  // Its question type is kept too (a small code per item), so rendering it again does not classify it again.
  const firstCodes: number[] = [];
  const promptLengths: number[] = [];
  const typeCodes: number[] = [];
  const knownTypes: KnownType[] = [];
  const typeCodeOf = new Map<string, number>();
  const { dataset, record: shardRecord, kept: shardKept } = applyShard(await openDataset(datasetSpecOfSuite, {
    visit: (k, item) => {
      const rendered = render(item);
      const prompt = rendered.prompt;
      firstCodes[k] = prompt.charCodeAt(0) || 0;
      promptLengths[k] = prompt.length;
      const key = `${rendered.questionType}\0${rendered.typeReason}`;
      let code = typeCodeOf.get(key);
      if (code === undefined) {
        code = knownTypes.push({ type: rendered.questionType, rule: rendered.typeReason }) - 1;
        typeCodeOf.set(key, code);
      }
      typeCodes[k] = code;
    },
  }), opts.shard, itemIdsHash);
  /** The type the first pass found for the run's item at `index` (a shard's positions map to the whole run's). */
  const knownType = (index: number): KnownType => knownTypes[typeCodes[shardKept ? shardKept[index]! : index]!]!;
  // Items and prompts are read and rendered when they are needed (planning, then each request) and not
  // kept. Samples of one item run one after the other, so the last item and its prompt are kept for its
  // next sample. Requests are made in file order, so the cursor reads the file once, forward.
  // The validating pass's garbage (every record parsed, hashed and rendered once) is collected before the
  // planning pass makes its own (see START_UP_GC_BYTES).
  collectGarbage(START_UP_GC_BYTES);
  const items = dataset.cursor();
  let lastRendered: Promise<{ index: number; item: DatasetItem; prompt: RenderedPrompt }> | null = null;
  let lastIndex = -1;
  const itemAt = (index: number): Promise<{ item: DatasetItem; prompt: RenderedPrompt }> => {
    if (lastRendered === null || lastIndex !== index) {
      lastIndex = index;
      lastRendered = items.at(index).then((item) => ({ index, item, prompt: render(item, knownType(index)) }));
    }
    return lastRendered;
  };
  const sampling: SamplingParams = { ...suite.sampling, ...samplingOverrides(opts) };

  const configHash = hashJson({
    suite: {
      name: suite.name,
      dataset: suite.dataset,
      // The prompt system's files, not the rendered prompts: those depend on --limit, which may grow on resume.
      prompts: hashPromptFiles(suite.promptsDir),
      load: suite.load,
      answerConstraint: suite.answerConstraint,
      // Only when set, so runs made before likelihood scoring existed keep their hash (and can resume).
      ...(suite.scoring === 'likelihood' ? { scoring: suite.scoring, likelihoodPrefix: suite.likelihoodPrefix } : {}),
    },
    runner: opts.runner.profile,
    sampling,
    samples,
    seed,
    // The limit is left out on purpose: resuming with a larger --limit extends a run (medeval compare
    // alternates models this way); items are always taken in file order.
  });

  // 2. The run folder: fresh, or resumed when nothing that matters changed.
  const folder = new RunFolder(opts.out);
  // Kept from earlier sessions: which (item, sample) are done, and running counts; not the records.
  let doneKeys = new Set<string>();
  const counts: RunCounts = { records: 0, errors: 0, correct: 0 };
  let prev: RunManifest | null = null;
  let doneIds = new Set<string>();
  const folderExisted = existsSync(folder.dir);
  if (opts.resume && folder.notStarted()) {
    // Killed (or failed) while connecting or loading the model, before any manifest: nothing to keep.
    opts.onEvent?.({ type: 'notice', text: `--resume: ${folder.dir} holds no started run (no manifest.json yet); starting the run from the beginning` });
  } else if (opts.resume) {
    const assumed: string[] = [];
    prev = folder.readManifest(assumed);
    for (const text of assumed) opts.onEvent?.({ type: 'notice', text });
    if (prev.configHash !== configHash) {
      throw new InputError('cannot resume: the suite, prompts, runner profile, sampling, samples or seed changed since this run started',
        { file: folder.path('manifest.json'), field: 'configHash' }, 'resume with the same settings, or start a new run with another --out');
    }
    if (prev.suite.datasetHash !== dataset.sha256) {
      throw new InputError('cannot resume: the dataset file changed since this run started', { file: folder.path('manifest.json'), field: 'suite.datasetHash' },
        'restore the dataset or start a new run');
    }
    checkSameShard(prev, shardRecord, folder.path('manifest.json'));
    const journal = folder.readJournal({ repair: true });
    // Errors are retried on resume; answered records are kept once each.
    const seen = new Set<string>();
    const done = journal.results.filter((r) => {
      const key = `${r.itemId}#${r.sample}`;
      if (r.error || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (done.length !== journal.results.length || journal.tornLine) {
      folder.writeJournal(done);
    }
    doneKeys = seen;
    counts.records = done.length;
    counts.correct = done.reduce((n, r) => n + (r.correct ? 1 : 0), 0);
    doneIds = new Set(done.map((r) => r.itemId));
  } else if (folder.exists()) {
    throw new InputError('the output folder already holds a run', { file: folder.dir },
      'pass --resume to continue it, or choose another --out');
  }
  folder.create();

  // What is left to run, as positions item * samples + sample, in file order: a number per request, not an object.
  const todo = todoPositions(dataset.ids, samples, doneKeys);
  const resumed = counts.records;
  opts.onEvent?.({ type: 'validated', dataset, items: dataset.ids.length, todo: todo.length, resumed, resumedCorrect: counts.correct });

  if (prev && todo.length === 0) {
    // Nothing left to run: do not load the model (its load alone would overwrite the peak memory).
    // Every record is in and answered (errors are never in `done`), so the run is finished, whatever
    // the manifest says: a run killed after its last record but before its final manifest ends here.
    const finished: RunManifest = { ...prev, status: 'finished', finishedAt: prev.status === 'finished' ? prev.finishedAt : new Date().toISOString() };
    if (prev.status !== 'finished') {
      delete finished.stopReason;
      // The killed session never wrote its duration: reports fall back to the journal's first start to last end.
      delete finished.durationMs;
      opts.onEvent?.({ type: 'notice', text: `all ${counts.records} records were already in the journal (the run was stopped before its final manifest, status "${prev.status}"); finishing it without loading the model` });
      folder.writeManifest(finished);
    }
    (await import('./summary.js')).writeRunSummaryFromJournal(folder, finished);
    opts.onEvent?.({ type: 'finished', status: finished.status, dir: folder.dir, errors: 0, records: counts.records, total: counts.records });
    return outcomeOf(folder, finished, counts);
  }

  // 3. The model (likelihood scoring is checked first: it needs an in-process runner).
  const commit = gitCommit();
  const t0 = performance.now();
  let runner: Runner;
  let model: Awaited<ReturnType<Runner['describe']>>;
  let created = true;
  try {
    checkLikelihoodSettings(suite, samples, opts.runner.profile.kind);
    const create = () => createRunnerWithReplicas(opts.runner.profile);
    if (opts.runnerInstance) runner = opts.runnerInstance;
    else if (opts.session) ({ runner, created } = await opts.session.open(create));
    else runner = await create();
    if (suite.scoring === 'likelihood' && !runner.letterLogprobs) {
      await runner.close().catch(() => {});
      opts.session?.released();
      throw likelihoodRunnerError(runner.kind);
    }
    model = await runner.describe();
  } catch (e) {
    // A start that fails before its manifest leaves no empty run folder behind (a kill here leaves
    // one, which --resume starts from the beginning).
    if (!folderExisted) folder.removeIfNotStarted();
    throw e;
  }
  // The runner's own notices (a wait before a retry) reach the terminal as run notices.
  runner.setNoticeListener?.((notice) => opts.onEvent?.({ type: 'notice', text: notice.text }));
  // A kept runner (compare's next turn) was loaded before: no new load to report.
  if (created) opts.onEvent?.({ type: 'loaded', label: model.label, loadMs: performance.now() - t0 });

  const runIds = new Set([...dataset.ids, ...doneIds]);
  doneIds = new Set();
  const manifest: RunManifest = {
    schema: 1,
    medevalVersion: MEDEVAL_VERSION,
    createdAt: prev?.createdAt ?? new Date().toISOString(),
    gitCommit: await commit,
    label: model.label,
    suite: {
      name: suite.name,
      file: suite.file === null ? null : portablePath(suite.file),
      ...(suite.source && suite.source !== 'file' ? { source: suite.source } : {}),
      dataset: dataset.name,
      datasetFiles: dataset.files.map((f) => portablePath(f)),
      datasetHash: dataset.sha256,
      // The questions in the journal once this session ends: a resume with a smaller --limit keeps the
      // records it already had, and the journal check (report, gate) counts them.
      items: runIds.size,
      datasetItems: dataset.valid,
      itemIdsSha256: itemIdsHash(runIds),
      smokeTest: suite.smokeTest,
      answerConstraint: suite.answerConstraint,
      ...(suite.scoring === 'likelihood' ? { scoring: 'likelihood' as const } : {}),
      ...(dataset.skipped.length > 0 ? { skipped: skippedRecords(dataset, portablePath) } : {}),
      ...(hub ? { hub } : {}),
    },
    runner: {
      kind: runner.kind,
      profileFile: opts.runner.file === null ? null : portablePath(opts.runner.file),
      ...(opts.runner.source && opts.runner.source !== 'file' ? { source: opts.runner.source, profile: opts.runner.profile as Record<string, unknown> } : {}),
    },
    model: model.modelPath ? { ...model, modelPath: portablePath(model.modelPath) } : model,
    sampling,
    samples,
    seed,
    configHash,
    load: { profile: suite.load.profile, concurrency: suite.load.concurrency, ratePerSecond: suite.load.ratePerSecond, warmup: suite.load.warmup },
    ...(shardRecord ? { shard: shardRecord } : {}),
    status: 'running',
  };
  folder.writeManifest(manifest);
  // The summary's figures, kept as records are journalled, so the summary needs no read-back (summary-tally.ts).
  const tally = new SummaryTally({ resumedRecords: resumed, samples, uniqueItems: runIds.size === dataset.ids.length, likelihood: suite.scoring === 'likelihood' });

  const cache = opts.cacheDir === false ? null
    : new ResponseCache(opts.cacheDir ?? '.cache/responses', { runner: runner.kind, model, profile: opts.runner.profile });
  const health = new RunHealth(opts.maxErrorRate, opts.maxConsecutiveConnectionErrors ?? 5);
  let status: RunManifest['status'] = 'finished';
  // Health stops (error rate, dead server) and Ctrl-C both end the run through this one signal.
  const stopper = new AbortController();
  const onUserAbort = () => stopper.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onUserAbort, { once: true });
  if (opts.signal?.aborted) stopper.abort(opts.signal.reason);
  const constrain = suite.answerConstraint === 'letter';
  const likelihood = suite.scoring === 'likelihood' ? { prefix: suite.likelihoodPrefix } : null;
  let measuredMs = 0;
  let serverGone = false;
  // The server refused a prompt and budget over its context (serverChecksContext): said once.
  let refusalTold = false;
  const onRefused = (plan: PromptPlan) => {
    if (refusalTold) return;
    refusalTold = true;
    opts.onEvent?.({ type: 'notice', text: `the server refused a prompt of ${plan.budget.promptTokens} tokens with a budget of ${plan.budget.requested} (its context holds ${plan.budget.contextSize}): ` +
      'prompts it refuses are counted as they come and their budget capped to fit, or recorded as prompt-too-long (not sent again, never scored) when the prompt alone fills the context' });
  };
  // A forced exit (a second Ctrl-C, the stop's grace period running out) ends the process mid-stop: no
  // promise below settles, so the manifest is written here, synchronously, with how the server ended
  // (managed-process.ts's exit hook has just SIGKILLed it and recorded that).
  let manifestFinal = false;
  const onForcedExit = () => {
    if (manifestFinal) return;
    try {
      const st: RunManifest['status'] = status !== 'finished' ? status : opts.signal?.aborted || stopper.signal.aborted ? 'interrupted' : 'failed';
      const last: RunManifest = { ...manifest, status: st };
      recordManagedEnd(last, runner);
      folder.writeManifest(last);
    } catch {
      // exiting anyway: the journal has every finished item
    }
  };
  process.on('exit', onForcedExit);
  try {
    // 4. Warm-up requests (first calls pay for page faults, allocation, compilation) run first, one at a
    //    time, and are thrown away; their prompt shares no prefix with any measured one (warmup.ts), so a
    //    prompt cache cannot flatter the first item. 5. Then the measured items under the suite's load profile.
    // 3b. Planning (before the measured clock): each item's prompt counted once, its budget capped to the context.
    //     What is kept per item is its token count (a typed array), and the prompts' shape for the warm-up.
    //     A server that refuses over-long prompts itself (vLLM) is asked nothing up front: runItem counts a prompt
    //     it refused and plans it then (the same budget, the same prompt-too-long), so start-up does not grow with N.
    const todoItems = itemsOf(todo, samples);
    const serverChecks = !likelihood && serverChecksContext(runner.kind);
    let planned: Awaited<ReturnType<typeof planItems>>;
    if (serverChecks) {
      // The shape from the first pass, over the items with something to run (of this shard).
      const firsts = new Uint16Array(dataset.ids.length);
      const lengths = new Float64Array(dataset.ids.length).fill(-1);
      for (let i = 0; i < dataset.ids.length; i++) {
        if (!todoItems[i]) continue;
        const k = shardKept ? shardKept[i]! : i;
        firsts[i] = firstCodes[k]!;
        lengths[i] = promptLengths[k]!;
      }
      planned = uncountedPlans(runner.kind, model.contextSize ?? null, sampling.maxTokens, firsts, lengths);
    } else {
      // The planning pass reads the file on a cursor of its own: the run's cursor stays at the start.
      const planCursor = dataset.cursor();
      planned = await planItems(runner, likelihood ? null : model.contextSize ?? null, dataset.ids.length,
        async (i) => (todoItems[i] ? render(await planCursor.at(i), knownType(i)).prompt : null),
        sampling.maxTokens, { signal: stopper.signal, count: !likelihood }).finally(() => planCursor.close());
    }
    if (!likelihood && todo.length > 0) opts.onEvent?.({ type: 'planned', summary: planned.summary, runnerKind: runner.kind, runnerFile: opts.runner.file });
    const plans = planned.plans;
    // The warm-up must fit the context too: its letters come from the first item whose prompt does (planned),
    // its length from the prompts that fit.
    const warmIndex = plans.firstFitting();
    const warmItem = todo.length > 0 ? (await itemAt(warmIndex ?? 0)).item : null;
    // A kept runner is warmed up once, on its first run.
    const warmup = todo.length > 0 && !opts.session?.warmedUp ? suite.load.warmup : 0;
    const shape = planned.shape;
    const warmBudget = Math.min(sampling.maxTokens, 16);
    const warmText = likelihood || warmup === 0 ? warmupPromptFor(shape)
      : await fittedWarmupPromptFor(shape, async (p) => {
        const plan = (await planPrompts(runner, model.contextSize ?? null, [p], warmBudget, { signal: stopper.signal })).plans.get(p);
        return !plan || (plan.tooLong === null && plan.budget.maxTokens >= warmBudget);
      });
    // The server's "before" figures (/metrics) are read once the warm-up is over, so they cover measured requests only.
    if (warmup === 0) await runner.afterWarmup?.();
    const warmTask = (w: number) => async (signal: AbortSignal): Promise<ItemResult | null> => {
      const messages = [{ role: 'user' as const, content: warmText }];
      if (likelihood) await runner.letterLogprobs!({ messages, prefix: likelihood.prefix, letters: Object.keys(warmItem!.options), signal });
      else {
        await runner.generate({
          messages,
          sampling: { ...sampling, maxTokens: warmBudget, seed: itemSeed(seed, 'warmup', w) },
          signal,
          ...(constrain ? { constrain: { letters: Object.keys(warmItem!.options), prefix: 'Answer: ' } } : {}),
        });
      }
      if (w === warmup - 1) await runner.afterWarmup?.();
      opts.onEvent?.({ type: 'warmup', done: w + 1, total: warmup });
      return null;
    };
    // After a request that got no answer (timeout, no connection), is the server there at all? A frozen
    // or wedged server still accepts connections but answers nothing: the run stops instead of timing
    // every remaining item out in turn.
    const unanswered = new WeakMap<ItemResult, string>();
    const itemTask = (position: number) => async (signal: AbortSignal): Promise<ItemResult> => {
      const index = Math.floor(position / samples);
      const sample = position % samples;
      const { item, prompt: rendered } = await itemAt(index);
      const r = await (likelihood
        ? runLikelihoodItem(runner, item, sample, rendered, likelihood.prefix, dataset.name, signal)
        : runItem(runner, cache, item, sample, rendered, sampling, seed, dataset.name, signal, constrain, plans.at(index), serverChecks ? onRefused : undefined));
      if (r.error && NO_ANSWER_KINDS.has(r.error.kind) && runner.probe && !signal.aborted) {
        const why = await runner.probe(signal);
        if (why) unanswered.set(r, why);
      }
      return r;
    };
    // Each task is made when its turn comes (load-profile.ts asks for them one at a time).
    const tasks: LoadTaskList<ItemResult | null> = {
      length: warmup + todo.length,
      at: (i) => (i < warmup ? warmTask(i) : i < warmup + todo.length ? itemTask(todo[i - warmup]!) : undefined),
    };
    let journalled = 0;
    // Validating and planning a large dataset left its garbage in the old generation, and V8 sets its next
    // full collection at a multiple of the heap's size: collected now, the run's heap grows from what is
    // live (about 30 MB) instead of from the start-up's heap.
    collectGarbage(START_UP_GC_BYTES);
    const load = await runWithLoad(tasks, loadProfileOf(suite, seed), {
      warmup,
      signal: stopper.signal,
      keepResults: false,
      onSettled: (t) => {
        // A task that threw (a config error, a warm-up that failed) ends the run; it is rethrown below.
        if (t.status === 'error') stopper.abort(t.error);
        if (t.warmup || t.status !== 'ok') return;
        const result = t.value as ItemResult;
        // An aborted request is not a result: it is run again on --resume.
        if (result.error?.kind === 'aborted') return;
        // Waiting for a client slot, plus any wait inside the task before the request was sent.
        if (result.timings) result.timings.queueMs = t.queueMs + (result.timings.queueMs ?? 0);
        tally.add(result, folder.append(result));
        journalled++;
        counts.records++;
        if (result.error) counts.errors++;
        else if (result.correct) counts.correct++;
        opts.onEvent?.({ type: 'item', done: counts.records, total: dataset.ids.length * samples, result });
        const stop = manifest.stopReason ? null : health.record(result, unanswered.get(result) ?? null);
        if (stop && result.error && NO_ANSWER_KINDS.has(result.error.kind)) serverGone = true;
        if (stop) {
          manifest.stopReason = stop;
          opts.onEvent?.({ type: 'stopped', reason: stop });
          stopper.abort(new Error(stop));
        }
      },
    });
    measuredMs = load.durationMs;
    const warmFailure = load.warmupResults.find((t) => t.status === 'error');
    if (warmFailure) {
      const err = warmFailure.error as Error;
      if (err instanceof InputError) throw err;
      throw new Error(`the warm-up request failed, so the model cannot answer: ${err?.message ?? String(err)}`, { cause: err });
    }
    if (load.firstError) throw load.firstError.error;
    if (opts.session && warmup > 0 && load.warmupResults.length === warmup && load.warmupResults.every((t) => t.status === 'ok')) opts.session.warmedUp = true;
    if (manifest.stopReason) status = 'failed';
    else if (opts.signal?.aborted || load.aborted || journalled < todo.length) status = 'interrupted';
    // A run that went through but left items in error did not do what it says: never "finished".
    else if (counts.errors > 0) status = 'incomplete';
  } catch (e) {
    status = 'failed';
    manifest.status = status;
    await items.close().catch(() => {});
    await runner.close().catch(() => {});
    opts.session?.released();
    recordManagedEnd(manifest, runner);
    folder.writeManifest(manifest);
    manifestFinal = true;
    process.off('exit', onForcedExit);
    throw e;
  }

  await items.close();
  // A stopped run says so before the slower parts (server figures, stopping a server), in case the process
  // is made to exit before they end (Ctrl-C's grace period).
  if (status !== 'finished') folder.writeManifest({ ...manifest, status, durationMs: (prev?.durationMs ?? 0) + measuredMs });
  manifest.memory = mergeMemory(prev?.memory, await runner.memory());
  // A server that stopped answering is not asked for its /metrics again (one more timeout, nothing to learn).
  if (runner.serverReport) {
    manifest.server = serverGone ? { metrics: null, metricsNote: 'not read after the run: the server had stopped answering' } : await serverReportOf(runner, Boolean(prev));
  }
  opts.signal?.removeEventListener('abort', onUserAbort);
  // A resumed run's duration adds up its sessions (model loading and warm-up excluded in each).
  manifest.durationMs = (prev?.durationMs ?? 0) + measuredMs;
  manifest.finishedAt = new Date().toISOString();
  manifest.status = status;
  // A kept runner stays open for the next turn unless this run was stopped (interrupted, failed).
  if (opts.session?.keepOpen && (status === 'finished' || status === 'incomplete')) {
    // kept: its owner closes it
  } else {
    await runner.close();
    opts.session?.released();
    recordManagedEnd(manifest, runner);
  }
  folder.writeManifest(manifest);
  manifestFinal = true;
  process.off('exit', onForcedExit);
  // The summary is the report's view of the journal, from the totals kept as it was written, or read back
  // from disk where they cannot give it exactly (the report layer is loaded only now: it is no part of a
  // run's start-up).
  const { summary, tallied } = (await import('./summary.js')).writeRunSummaryOfRun(folder, manifest, tally);
  opts.onEvent?.({ type: 'finished', status, dir: folder.dir, errors: counts.errors, records: counts.records, total: dataset.ids.length * samples });
  return outcomeOf(folder, manifest, counts, tallied ? summary.run : undefined);
}

/** A shard run resumes as the same shard only. */
function checkSameShard(prev: RunManifest, now: ShardRecord | null, file: string): void {
  const was = prev.shard ? `shard ${prev.shard.index}/${prev.shard.count}` : 'not sharded';
  const is = now ? `shard ${now.index}/${now.count}` : 'not sharded';
  if (was !== is) {
    throw new InputError(`cannot resume: this run is ${was}, the command asks for ${is}`, { file, field: 'shard' },
      prev.shard ? `resume with --shard ${prev.shard.index}/${prev.shard.count}` : 'resume without --shard');
  }
}

/** Records that ended in error (not scored). */
export function errorCount(results: ItemResult[]): number {
  return results.reduce((n, r) => n + (r.error ? 1 : 0), 0);
}

/** How a server medeval started ended (clean exit, the known abort on SIGTERM, killed, died during the run). */
function recordManagedEnd(manifest: RunManifest, runner: Runner): void {
  const end = runner.managedServer?.();
  if (end) manifest.server = { ...(manifest.server ?? { metrics: null }), managed: end };
  // Requests in flight cut after capacity errors: the run was throttled, and says so.
  const throttle = runner.throttle?.();
  if (throttle) manifest.load = { ...manifest.load, throttle };
}

/** Positions (item index * samples + sample) not yet in the journal, in file order. */
function todoPositions(ids: readonly string[], samples: number, done: ReadonlySet<string>): Float64Array {
  const out = new Float64Array(ids.length * samples);
  let n = 0;
  ids.forEach((id, i) => {
    for (let s = 0; s < samples; s++) if (done.size === 0 || !done.has(`${id}#${s}`)) out[n++] = i * samples + s;
  });
  return out.subarray(0, n);
}

/** Which items have a request still to run (1) among `todo`'s positions. */
function itemsOf(todo: Float64Array, samples: number): Uint8Array {
  const out = new Uint8Array(todo.length === 0 ? 0 : Math.floor(todo[todo.length - 1]! / samples) + 1);
  for (const p of todo) out[Math.floor(p / samples)] = 1;
  return out;
}

/** The server's own figures; a /metrics that fails now is a note, never a failed run. */
async function serverReportOf(runner: Runner, resumed: boolean): Promise<ServerReport> {
  try {
    const r = await runner.serverReport!();
    return resumed && r.metrics ? { ...r, metricsNote: 'before/after cover the last session of this resumed run only' } : r;
  } catch (e) {
    return { metrics: null, metricsNote: `could not read the server's figures after the run: ${(e as Error).message}` };
  }
}

function loadProfileOf(suite: LoadedSuite, seed: number): LoadProfile {
  const l = suite.load;
  if (l.profile === 'concurrency') return { kind: 'concurrency', n: l.concurrency ?? 1 };
  if (l.profile === 'rate') {
    return { kind: 'rate', perSecond: l.ratePerSecond ?? Infinity, seed, ...(l.concurrency ? { maxConcurrency: l.concurrency } : {}) };
  }
  return { kind: 'sequential' };
}

/** Across the sessions of a resumed run, a peak is the highest peak of any session. */
function mergeMemory(prev: MemoryReport | undefined, now: MemoryReport): MemoryReport {
  if (!prev) return now;
  const higher = (a: MemoryFigure | undefined, b: MemoryFigure | undefined): MemoryFigure | undefined =>
    a?.bytes != null && (b?.bytes == null || a.bytes > b.bytes) ? { ...a, note: `${a.note ? a.note + '; ' : ''}highest of the resumed sessions` } : b;
  return {
    ...now,
    processPeak: higher(prev.processPeak, now.processPeak)!,
    ...(now.gpuProcessPeak || prev.gpuProcessPeak ? { gpuProcessPeak: higher(prev.gpuProcessPeak, now.gpuProcessPeak) } : {}),
  };
}

async function runItem(
  runner: Runner,
  cache: ResponseCache | null,
  item: DatasetItem,
  sample: number,
  rendered: RenderedPrompt,
  sampling: SamplingParams,
  seed: number,
  dataset: string,
  signal: AbortSignal | undefined,
  constrain: boolean,
  plan: PromptPlan | undefined,
  /** The server checks the context itself (serverChecksContext): a refused prompt is counted and planned now, and told here. */
  onRefused?: (plan: PromptPlan) => void,
  taskStart = performance.now(),
): Promise<ItemResult> {
  const base: ReturnType<typeof itemBase> & { budget?: ItemResult['budget'] } = itemBase(item, sample, rendered, dataset);
  if (plan) base.budget = plan.budget;
  // The prompt alone fills the context: nothing is sent (the engine would cut or shift it), never scored.
  if (plan?.tooLong) return { ...base, ...emptyOutcome(), error: { kind: 'prompt-too-long', message: plan.tooLong } };
  let sentAt: number | null = null;
  try {
    const req: GenerateRequest = {
      messages: [{ role: 'user', content: rendered.prompt }],
      sampling: { ...sampling, seed: itemSeed(seed, item.id, sample), ...(plan ? { maxTokens: plan.budget.maxTokens } : {}) },
      signal,
      itemId: item.id,
      ...(constrain ? { constrain: { letters: Object.keys(item.options), prefix: 'Answer: ' } } : {}),
      ...(plan ? { promptTokens: plan.budget.promptTokens } : {}),
      onStart: (t0) => {
        sentAt ??= t0;
      },
    };
    const useCache = cache !== null && ResponseCache.cacheable(req, sample);
    const hit = useCache ? cache.get(req) : null;
    const gen = hit ?? (await runner.generate(req));
    if (useCache && !hit && gen.finishReason !== 'abort' && gen.finishReason !== 'error') cache.put(req, gen);
    if (gen.finishReason === 'abort') {
      return { ...base, ...emptyOutcome(), error: { kind: 'aborted', message: 'stopped by the user' } };
    }
    const extracted = extractAnswer(gen.rawText, item.options, { reasoning: gen.reasoning, finishReason: gen.finishReason });
    // The wait inside this task before the runner's clock started counts as queueing (the run adds the slot wait).
    return answeredRecord(base, gen, extracted, extracted.status === 'answered' && extracted.letter === item.answer,
      sentAt !== null ? Math.max(0, sentAt - taskStart) : 0, recentRss(), hit !== null);
  } catch (e) {
    // A configuration problem (e.g. a runner that cannot do what the suite asks) stops the run: exit 2.
    if (e instanceof InputError) throw e;
    const err = e as Error & { kind?: string; retries?: number; replica?: string; retryReasons?: string[] };
    const kind = signal?.aborted ? 'aborted' : (err.kind ?? err.name ?? 'error');
    if (kind === 'prompt-too-long' && onRefused && plan) {
      // Planned now as the planning step would have: capped and sent again, or prompt-too-long (never scored).
      const replanned = await recountRefused(runner, rendered.prompt, plan, signal);
      if (replanned) {
        onRefused(replanned);
        return runItem(runner, cache, item, sample, rendered, sampling, seed, dataset, signal, constrain, replanned, undefined, taskStart);
      }
    }
    return {
      ...base,
      ...emptyOutcome(),
      ...(err.replica ? { replica: err.replica } : {}),
      error: { kind, message: err.message, ...(err.retries !== undefined ? { retries: err.retries } : {}), ...(err.retryReasons?.length ? { retryReasons: err.retryReasons } : {}) },
    };
  }
}

