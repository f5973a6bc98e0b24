// The run record, defined once: zod schemas of a run folder's manifest.json and of one line of
// results.jsonl, and the TypeScript types inferred from them (re-exported by types.ts). run-folder.ts
// validates every record it writes with the strict form (a field the schema does not know is a bug
// caught at write time) and every record it reads with the tolerant form (fields a newer medeval added
// are dropped, never an error). Documented field by field in docs/report-schema.md.
import { z } from 'zod';
import { LATENCY_METRICS, LATENCY_TABLE, type LatencyDefinition, type LatencyMetric } from './metric-table.js';

/** The record version this medeval writes and reads: `schema` in the manifest and in every journal line. */
export const RECORD_VERSION = 1;

/** An option letter: "A".."E" for MedQA, "A".."D" for MedMCQA / MMLU. */
export type Letter = string;

export const QUESTION_TYPES = ['diagnosis', 'management', 'pharmacology', 'basic_science', 'ethics', 'other'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const ANSWER_STATUSES = ['answered', 'unparseable', 'truncated'] as const;
export type AnswerStatus = (typeof ANSWER_STATUSES)[number];
export const FINISH_REASONS = ['stop', 'length', 'abort', 'error'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];
export const TOKEN_COUNT_SOURCES = ['engine', 'server-usage', 'tokenizer', 'chunks', 'unknown'] as const;
export type TokenCountSource = (typeof TOKEN_COUNT_SOURCES)[number];
export const RUN_STATUSES = ['running', 'finished', 'incomplete', 'interrupted', 'failed'] as const;
export const MANAGED_END_KINDS = ['clean-exit', 'stopped', 'aborted-on-sigterm', 'killed-after-grace', 'killed-on-exit', 'died-during-run'] as const;

type LatencyField<D> = D extends { per: 'gap' } ? z.ZodDefault<z.ZodArray<z.ZodNumber>>
  : D extends { always: true } ? z.ZodNumber : z.ZodDefault<z.ZodNullable<z.ZodNumber>>;

/**
 * The `timings` fields of the metric table: a number (metrics every request has), a number or null
 * (null: no figure), or a list of gaps. A record written before a metric existed reads as no figure
 * (null, or no gaps), so old run folders still read.
 */
function latencyFields(): { [K in LatencyMetric]: LatencyField<(typeof LATENCY_TABLE)[K]> } {
  const shape: Record<string, z.ZodType> = {};
  for (const k of LATENCY_METRICS) {
    const d = LATENCY_TABLE[k] as LatencyDefinition;
    shape[k] = d.per === 'gap' ? z.array(z.number()).default([]) : d.always ? z.number() : z.number().nullable().default(null);
  }
  return shape as { [K in LatencyMetric]: LatencyField<(typeof LATENCY_TABLE)[K]> };
}

/** z.object for reading (unknown keys dropped), z.strictObject for writing (unknown keys refused). */
type ObjectOf = <Shape extends z.core.$ZodLooseShape>(shape: Shape) => z.ZodObject<Shape, z.core.$strip>;

/** Every record schema, built with one object constructor. */
function recordSchemas(object: ObjectOf) {
  const nullableNumber = z.number().nullable();
  const count = z.number().int().nonnegative();
  const numberMap = z.record(z.string(), z.number());

  /** One memory figure and how it was had. bytes null means "not available", with the reason in note. */
  const memoryFigure = object({ bytes: nullableNumber, source: z.string(), note: z.string().optional() });

  const memoryReport = object({
    /** Bytes of the model's tensors (files on disk). */
    weights: memoryFigure,
    /**
     * The model buffers the engine says it allocated for the weights (llama.cpp's "model buffer size" lines,
     * all buffers: e.g. CPU_Mapped + CPU_AARCH64 when Q4_0 is repacked on x86): can exceed the file.
     */
    residentWeights: memoryFigure.optional(),
    /** Current resident memory of the process that holds the model. */
    processRss: memoryFigure,
    /** Peak resident memory of that process since it started. */
    processPeak: memoryFigure,
    /** Peak GPU memory of that process tree (sampled), where there is a GPU. */
    gpuProcessPeak: memoryFigure.optional(),
    /** Device-wide GPU memory, for context only. */
    gpuDevice: memoryFigure.optional(),
    /** Fixed context/KV size from the run's settings, where known. */
    context: memoryFigure.optional(),
    /**
     * A server on several GPUs (vLLM tensor/pipeline/data parallel, Ray): gpuProcessPeak is attributed by
     * device (metrics/gpu-attribution.ts); each GPU it was given, with its own peak.
     */
    gpuDevices: object({
      attribution: z.literal('devices'),
      how: z.string(),
      devices: z.array(object({ index: count, peakBytes: nullableNumber, totalBytes: nullableNumber })),
    }).optional(),
  });

  const modelDescription = object({
    /** Runner kind: "llama-cpp-embedded", "llama-server", "vllm", "onnx", "scripted". */
    runner: z.string(),
    /** A human name for reports (profile label). */
    label: z.string(),
    modelPath: z.string().optional(),
    /** Architecture from the model's metadata, e.g. "llama". */
    architecture: z.string().optional(),
    parameters: nullableNumber,
    /** Bytes of the model file(s). */
    fileBytes: nullableNumber,
    /** Count of tensors by type, e.g. { F32: 20, Q4_0: 14 }. */
    tensorTypes: numberMap.optional(),
    /** The dominant weight format, e.g. "Q4_0" / "F32" / "AWQ". */
    quantization: z.string().optional(),
    contextSize: z.number().optional(),
    threads: z.number().optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
  });

  /** Sampling parameters, named the way OpenAI-compatible servers name them. */
  const samplingParams = object({
    temperature: z.number(),
    topP: z.number(),
    topK: z.number().optional(),
    minP: z.number().optional(),
    maxTokens: z.number(),
    seed: z.number().optional(),
    stop: z.array(z.string()).optional(),
  });

  /** Records a run left out; `records` lists at most the first 100 of `total`. */
  const skippedRecords = object({ total: count, records: z.array(object({ place: z.string(), reason: z.string() })) });

  /** Where a dataset named by a suite's `dataset.hub` came from (the cache's lock entry). */
  const hubDatasetRecord = object({
    name: z.string(),
    repo: z.string(),
    /** The commit the files came from. */
    revision: z.string(),
    /** "catalog pin", "main (unverified pin: first fetch)" or "--revision R". */
    requested: z.string(),
    chosenOnPurpose: z.boolean(),
    files: z.array(object({ path: z.string(), sha256: z.string() })),
  });

  /** The server's own view of a run: its /metrics before and after, and prompts it cut to fit. */
  const serverReport = object({
    /** Gauges and counters under the server's own metric names, and after - before (histograms as _sum/_count). */
    metrics: object({ before: numberMap, after: numberMap, delta: numberMap }).nullable(),
    /** Why `metrics` is null, or what limits it (a resumed run: the last session only). */
    metricsNote: z.string().optional(),
    /** Prompts flagged as silently truncated by the server, and "input truncated" lines in a managed server's log. */
    truncation: object({ flagged: count, logLines: count }).optional(),
  });

  /** What the manifest keeps of each replica (manifest.server.replicas). */
  const replicaReport = object({
    /** The replica's base URL. */
    replica: z.string(),
    /** Requests it answered, and requests that failed on it (a failed-over request counts here and where it was answered). */
    answered: count,
    failed: count,
    /** Set when it was taken out of rotation: after how many requests sent to it, and why. */
    outOfRotation: object({ afterRequests: count, reason: z.string() }).optional(),
    metrics: serverReport.shape.metrics,
    metricsNote: z.string().optional(),
  });
  /** The server report with, for several replicas (run/replicas.ts), each one's figures; `metrics` sums their counters. */
  const serverReportWithReplicas = serverReport.extend({ replicas: z.array(replicaReport).optional() });

  /** What a shard run records in its manifest (manifest.shard). */
  const shardRecord = object({
    index: count,
    count: z.number().int().positive(),
    source: z.string(),
    /** How items are assigned: always this rule (recorded so a later change cannot pass unnoticed). */
    rule: z.string(),
    /** Items of the whole (unsharded) run: the valid items cut to --limit, before the split. */
    itemsBeforeShard: count,
    /** sha256 of those items' sorted ids (journal-check itemIdsHash): every shard of one run has the same. */
    itemIdsBeforeShardSha256: z.string(),
  }).refine((s) => s.index < s.count, { message: 'shard index must be below the shard count', path: ['index'] });

  /** manifest.load.throttle: how requests in flight were cut after capacity errors (src/runners/capacity-window.ts). */
  const throttleReport = object({
    /** Capacity episodes (each one halved the window). */
    cuts: count,
    /** Requests in flight before the first cut, the lowest window and the window at the end. */
    before: count,
    lowest: count,
    atEnd: count,
    /** The first 200 changes, in order (atMs: since the session started); `changesTotal` counts them all. */
    changes: z.array(object({ atMs: z.number(), from: count, to: count, why: z.enum(['capacity', 'recovered']) })),
    changesTotal: count,
  });

  /** How a server medeval started and stopped ended (manifest.server.managed). */
  const managedServerEnd = object({
    pid: z.number().int().nullable(),
    /**
     * clean-exit: it exited 0 when asked to stop; stopped: it ended on SIGTERM (or exited non-zero when
     * asked); aborted-on-sigterm: llama-server's known abort on SIGTERM (SIGABRT / 134), not a crash;
     * killed-after-grace: it did not stop within stopGraceMs and was SIGKILLed; killed-on-exit: medeval was
     * made to exit before the stop ended (second Ctrl-C, the stop's grace period) and SIGKILLed it on the
     * way out (the manifest is then written synchronously); died-during-run: it ended
     * before medeval asked it to stop.
     */
    ended: z.enum(MANAGED_END_KINDS),
    code: z.number().int().nullable(),
    signal: z.string().nullable(),
    description: z.string(),
    /** Whether the child was started to die with medeval (Linux: setpriv --pdeathsig KILL). */
    diesWithParent: z.boolean(),
  });

  /** manifest.rescoredFrom: the run a `medeval rescore` folder was re-extracted from, and what changed. */
  const rescoredFrom = object({
    /** The source run folder as given. */
    dir: z.string(),
    configHash: z.string(),
    /** The medeval version (and time) that wrote the source run. */
    medevalVersion: z.string(),
    createdAt: z.string(),
    /** When the rescore ran. */
    at: z.string(),
    records: count,
    /** Records in error: passed through, never scored. */
    errorsKept: count,
    /** Records whose extraction (letter, status, method) or verdict changed. */
    changed: count,
    rightToWrong: count,
    wrongToRight: count,
  });

  /** One shard as the merged manifest keeps it: its own clock, its own machine. */
  const mergedShard = object({
    index: count,
    /** The shard's folder as given to merge. */
    dir: z.string(),
    status: z.enum(RUN_STATUSES),
    stopReason: z.string().optional(),
    records: count,
    errors: count,
    medevalVersion: z.string(),
    gitCommit: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().optional(),
    /** The shard's measured duration on its own clock (manifest.durationMs, else its own first start to last end). */
    durationMs: nullableNumber,
    durationSource: z.enum(['manifest', 'timings']).nullable(),
    /** Measured requests (completed, not cached) and their output tokens, per second of the shard's own duration. */
    requestsPerS: nullableNumber,
    outputTokensPerS: nullableNumber,
    /** This shard's machine's memory, as its run recorded it. */
    memory: memoryReport.optional(),
    /** What the server said over this shard (its /metrics before/after). */
    server: serverReportWithReplicas.optional(),
  });

  const mergeRecord = object({
    count: z.number().int().positive(),
    rule: z.string(),
    mergedAt: z.string(),
    shards: z.array(mergedShard).min(1),
    /** Shard indexes that were not given (only with --allow-partial). */
    missing: z.array(count),
    /** Whether --allow-partial let missing or unfinished shards through. */
    partial: z.boolean(),
    /** The merged run's throughput, and how it was had. */
    throughput: object({ requestsPerS: nullableNumber, outputTokensPerS: nullableNumber, method: z.string() }),
  });

  /**
   * manifest.json of a run folder. A run folder holds manifest.json, results.jsonl (one ItemResult per
   * line, append-only journal), summary.json and summary.md. Everything after the journal (scores,
   * statistics, reports, gates) is computed from these files alone.
   */
  const manifest = object({
    schema: z.literal(RECORD_VERSION),
    medevalVersion: z.string(),
    createdAt: z.string(),
    gitCommit: z.string().nullable(),
    /** The runner profile's label, e.g. "baseline-f32". */
    label: z.string().min(1),
    suite: object({
      name: z.string(),
      file: z.string().nullable(),
      /** "flags": made by --dataset with the default suite settings (file null); "file+flags": the file's dataset replaced by --dataset. */
      source: z.enum(['file', 'flags', 'file+flags']).optional(),
      dataset: z.string(),
      datasetFiles: z.array(z.string()),
      datasetHash: z.string(),
      /** Questions the run was started on (the valid items, cut to --limit). */
      items: count,
      /** Valid questions in the dataset before --limit (absent in runs made before it was recorded). */
      datasetItems: count.optional(),
      /** sha256 of the sorted question ids (journal-check.ts): `report` checks the journal against it. */
      itemIdsSha256: z.string().optional(),
      /** A smoke-test suite (e.g. the bundled sample set): its numbers are never a benchmark. */
      smokeTest: z.boolean().optional(),
      /** "letter" when replies were constrained to "Answer: <letter>" by a grammar. */
      answerConstraint: z.enum(['none', 'letter']).optional(),
      /** Set for likelihood scoring (absent: generated replies). */
      scoring: z.literal('likelihood').optional(),
      /** Invalid dataset records left out by --skip-invalid: how many, and the first ones (file:line, why). */
      skipped: skippedRecords.optional(),
      /** A suite's `dataset.hub`: the Hub repository, the commit used and each file's sha256. */
      hub: hubDatasetRecord.optional(),
    }),
    runner: object({
      kind: z.string(),
      profileFile: z.string().nullable(),
      /** "flags": the profile was made by run/compare flags (--model, --base-url); "file+flags": a file with flags over it. */
      source: z.enum(['file', 'flags', 'file+flags']).optional(),
      /** With flags: the runner profile they made, as a profile file would hold it (no file to read it back from). */
      profile: z.record(z.string(), z.unknown()).optional(),
    }),
    model: modelDescription,
    sampling: samplingParams,
    /** Samples per question (repeats for pass@1). */
    samples: z.number().int().positive(),
    seed: z.number(),
    /** Hash of everything that must match for --resume (suite, runner profile, sampling, seed, limit). */
    configHash: z.string(),
    load: object({
      profile: z.enum(['sequential', 'concurrency', 'rate']),
      concurrency: z.number().optional(),
      ratePerSecond: z.number().optional(),
      warmup: z.number(),
      /** Set when the server ran out of room and medeval cut the requests in flight (the run was throttled). */
      throttle: throttleReport.optional(),
    }),
    /** Memory at the end of the run (peak figures cover the whole run). */
    memory: memoryReport.optional(),
    /** Wall time of the measured part of the run. */
    durationMs: z.number().nonnegative().optional(),
    finishedAt: z.string().optional(),
    /**
     * finished: every item answered; incomplete: the run went through but some items ended in error (not
     * scored; `--resume` re-runs exactly those); interrupted: stopped by the user; failed: stopped early
     * (dead or hung server, error rate) or crashed.
     */
    status: z.enum(RUN_STATUSES),
    /** Why a run stopped early (error rate, dead server), when it did. */
    stopReason: z.string().optional(),
    /** What the server itself said about the run (server runners only), and how a managed server ended. */
    server: serverReportWithReplicas.extend({ managed: managedServerEnd.optional() }).optional(),
    /** Set by `medeval rescore`: this folder re-extracts another run's stored replies. */
    rescoredFrom: rescoredFrom.optional(),
    /** Set by `medeval run --shard`: this run holds one slice of the items (run/shard.ts). */
    shard: shardRecord.optional(),
    /** Set by `medeval merge`: this run is the union of shard runs, each with its own clock and machine (run/merge.ts). */
    merged: mergeRecord.optional(),
  });

  /**
   * Latency of one generation, all in milliseconds on a monotonic client clock: one field per metric of
   * the metric table (core/metric-table.ts, which says how each is computed from the stream's marks).
   */
  const generationTimings = object({
    /** Wall-clock start (epoch ms) for timelines; not used for durations. */
    startedAtEpochMs: z.number(),
    ...latencyFields(),
    /** Time waiting for a client-side slot before the request started (not part of latency). */
    queueMs: z.number().optional(),
    /** The engine's own figures where it gives them (llama.cpp timings, ...). */
    engine: numberMap.optional(),
  });

  const extractedAnswer = object({
    letter: z.string().nullable(),
    status: z.enum(ANSWER_STATUSES),
    /** How the letter was found, e.g. "answer-colon", "boxed", "option-text"; or why not. */
    method: z.string(),
    /** The text after reasoning was removed, which extraction looked at. */
    answerText: z.string(),
  });

  const itemError = object({
    /**
     * What failed, e.g. timeout, http-5xx, connection, aborted, prompt-too-long (the prompt alone fills the
     * context: nothing sent), context-shift / prompt-truncated (the engine cut or shifted the prompt).
     */
    kind: z.string().min(1),
    message: z.string(),
    retries: count.optional(),
    /** Why each retried attempt failed, oldest first. */
    retryReasons: z.array(z.string()).optional(),
  });

  const itemBudget = object({
    /** max_tokens sent for this item. */
    maxTokens: z.number(),
    /** The suite's (or --max-tokens) value before capping. */
    requested: z.number(),
    promptTokens: nullableNumber,
    /** Usable context per request (llama.cpp context or slot, vLLM max_model_len, ONNX max positions). */
    contextSize: nullableNumber,
  });

  /** One line of results.jsonl. */
  const itemResult = object({
    schema: z.literal(RECORD_VERSION),
    itemId: z.string().min(1),
    /** 0-based repeat index (several samples per question for pass@1). */
    sample: count,
    dataset: z.string(),
    step: z.string().optional(),
    /** The item's subject when its dataset has one (MMLU, MedMCQA). */
    subject: z.string().optional(),
    questionType: z.enum(QUESTION_TYPES),
    /** Why the classifier chose the type (rule name), or "dataset" when the item carried it. */
    typeReason: z.string(),
    template: z.string(),
    prompt: z.string(),
    /** The question stem, whitespace collapsed, cut at 300 characters: for flip lists and tables. */
    question: z.string().optional(),
    /** The whole question stem as the dataset gives it (options apart): results.csv's `question` column. Absent in records written before it was kept. */
    questionText: z.string().optional(),
    gold: z.string().min(1),
    /** How many answer options the prompt showed: the chance level of a guess is 1/optionCount. */
    optionCount: count.optional(),
    rawOutput: z.string(),
    reasoning: z.string().nullable(),
    extracted: extractedAnswer,
    /** False for wrong, unparseable and truncated answers; null when the request failed (not scored). */
    correct: z.boolean().nullable(),
    promptTokens: nullableNumber,
    outputTokens: nullableNumber,
    tokenSource: z.enum(TOKEN_COUNT_SOURCES),
    finishReason: z.enum(FINISH_REASONS),
    timings: generationTimings.nullable(),
    error: itemError.optional(),
    /** Memory sampled right after this item (process RSS), for timelines. */
    rssBytes: z.number().optional(),
    /** Served from the response cache (greedy only): scored, but left out of latency figures. */
    cached: z.boolean().optional(),
    /** Failed attempts retried before this answer came (server runners); failures carry error.retries. */
    retries: count.optional(),
    /** Why each retried attempt failed ("timeout: ...", "capacity: ..."), oldest first; failures carry error.retryReasons. */
    retryReasons: z.array(z.string()).optional(),
    /**
     * The generation budget this item really had: the suite's maxTokens capped to the runner's context minus
     * the prompt's tokens (planning step), with the figures it came from (null: not known).
     */
    budget: itemBudget.optional(),
    /** Likelihood scoring: natural-log probability of each option letter after the prompt (not renormalised). */
    letterLogprobs: numberMap.optional(),
    /** Likelihood scoring on a top-N server: letters with no figure (outside the top N), each with an upper bound of its log-probability. */
    letterNoFigure: numberMap.optional(),
    /** Likelihood scoring on a server: the prompt text it scored after (its chat template applied, then the prefix). */
    likelihoodPrompt: z.string().optional(),
    /** `medeval merge`: the shard (machine) this record was run on. */
    shard: count.optional(),
    /** Runners with several replicas: the replica (base URL) that served this request. */
    replica: z.string().optional(),
    /** `medeval rescore`: set where the current extractor read the reply differently; the earlier extraction. */
    rescored: object({
      previous: object({ letter: z.string().nullable(), status: z.enum(ANSWER_STATUSES), method: z.string(), correct: z.boolean().nullable() }),
    }).optional(),
  });

  return {
    memoryFigure, memoryReport, modelDescription, samplingParams, skippedRecords, hubDatasetRecord, serverReport: serverReportWithReplicas, replicaReport,
    managedServerEnd, throttleReport, rescoredFrom, shardRecord, mergedShard, mergeRecord,
    manifest, generationTimings, extractedAnswer, itemError, itemBudget, itemResult,
  };
}

type S = ReturnType<typeof recordSchemas>;

/**
 * A set of record schemas built on its first use, once: a command that writes a manifest but reads no
 * journal (a run before its first record) builds only the writer's set, and a module importing the types
 * or the constants builds neither (the two sets are about 20 zod schemas each, a start-up cost).
 */
function builtOnFirstUse(build: () => S): S {
  let built: S | undefined;
  const get = () => (built ??= build());
  return new Proxy({} as S, {
    get: (_, key) => get()[key as keyof S],
    has: (_, key) => key in get(),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(get(), key),
  });
}

// Same shapes, same inferred types: strictObject only refuses unknown keys instead of dropping them.
const strictObject: ObjectOf = z.strictObject;
/** The schemas every reader validates with: unknown keys (a newer medeval's fields) are dropped. */
export const readSchemas: S = builtOnFirstUse(() => recordSchemas(z.object));
/** The schemas the writer validates with: a key the schema does not know is refused. */
export const writeSchemas: S = builtOnFirstUse(() => recordSchemas(strictObject));

export type MemoryFigure = z.infer<S['memoryFigure']>;
export type MemoryReport = z.infer<S['memoryReport']>;
export type ModelDescription = z.infer<S['modelDescription']>;
export type SamplingParams = z.infer<S['samplingParams']>;
export type SkippedRecords = z.infer<S['skippedRecords']>;
export type HubDatasetRecord = z.infer<S['hubDatasetRecord']>;
export type ServerReport = z.infer<S['serverReport']>;
export type ReplicaReport = z.infer<S['replicaReport']>;
export type ShardRecord = z.infer<S['shardRecord']>;
export type MergedShard = z.infer<S['mergedShard']>;
export type MergeRecord = z.infer<S['mergeRecord']>;
export type ManagedServerEnd = z.infer<S['managedServerEnd']>;
export type ThrottleReport = z.infer<S['throttleReport']>;
export type WindowChange = ThrottleReport['changes'][number];
export type RescoredFrom = z.infer<S['rescoredFrom']>;
export type RunManifest = z.infer<S['manifest']>;
export type GenerationTimings = z.infer<S['generationTimings']>;
export type ExtractedAnswer = z.infer<S['extractedAnswer']>;
export type ItemError = z.infer<S['itemError']>;
export type ItemBudget = z.infer<S['itemBudget']>;
export type ItemResult = z.infer<S['itemResult']>;
