// The types every part of medeval shares: datasets produce DatasetItems, runners turn prompts into
// Generations, the run loop writes ItemResults, and scoring/reports read only ItemResults.

/** An option letter: "A".."E" for MedQA, "A".."D" for MedMCQA / MMLU. */
export type Letter = string;

/** Where a record came from, so every error and every result can point back at it. */
export interface SourceRef {
  file: string;
  line: number;
}

/** One multiple-choice question, whatever file format it came from. */
export interface DatasetItem {
  /** Stable id: the file's own id when it has one, else a hash of the record. */
  id: string;
  question: string;
  /** Options by letter, in display order. */
  options: Record<Letter, string>;
  /** The correct letter; always one of `options`' keys. */
  answer: Letter;
  meta: ItemMeta;
}

export interface ItemMeta {
  /** "step1" | "step2&3" for MedQA (normalised; the raw value is kept in rawStep when it differed). */
  step?: string;
  rawStep?: string;
  /** The dataset's own subject (MMLU file subject, MedMCQA subject_name): reports slice accuracy by it. */
  subject?: string;
  /** A question type stated by the dataset itself (bundled set); otherwise the classifier decides. */
  questionType?: QuestionType;
  explanation?: string;
  source: SourceRef;
  /** Dataset name, e.g. "medqa-us-5", "sample". */
  dataset: string;
  /** Anything else the record carried (metamap_phrases, subject...). */
  extra?: Record<string, unknown>;
}

export const QUESTION_TYPES = [
  'diagnosis',
  'management',
  'pharmacology',
  'basic_science',
  'ethics',
  'other',
] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** Sampling parameters, named the way OpenAI-compatible servers name them. */
export interface SamplingParams {
  temperature: number;
  topP: number;
  topK?: number;
  minP?: number;
  maxTokens: number;
  seed?: number;
  stop?: string[];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  /** The conversation; DeepSeek-R1 style puts every instruction in one user turn. */
  messages: ChatMessage[];
  sampling: SamplingParams;
  signal?: AbortSignal;
  /**
   * Constrained decoding: the reply must be exactly `prefix` + one of `letters` (a grammar in llama.cpp,
   * guided choice in vLLM). For models that cannot follow the answer format (tiny demo models), like
   * HELM's one-token multiple choice. Runners that cannot constrain throw an InputError.
   */
  constrain?: { letters: string[]; prefix: string };
  /**
   * The prompt's token count from the run's planning step (Runner.countPromptTokens), so a runner can tell
   * after the fact whether the engine cut or shifted it. null: planned, count unknown (do not count again
   * on the measured path); undefined: not planned (the runner may count before its clock starts).
   */
  promptTokens?: number | null;
  /** Called with performance.now() when the runner's clock starts (the request is sent): the wait before it is queueMs. */
  onStart?: (t0: number) => void;
  /** The dataset item asked about (absent for warm-up requests): the scripted runner matches its script by it. */
  itemId?: string;
}

/**
 * Multiple choice by likelihood (lm-evaluation-harness's `multiple_choice`): how likely each answer letter
 * is as the continuation of the chat-templated prompt followed by the assistant's `prefix`. Every letter
 * is scored as the text " " + letter after `prefix` (e.g. "Answer:" + " C"), the log-probabilities of its
 * tokens summed, tokenising context and continuation together and splitting at the context's length.
 */
export interface LetterLogprobRequest {
  messages: ChatMessage[];
  /** Assistant text the letter follows, e.g. "Answer:". */
  prefix: string;
  letters: string[];
  signal?: AbortSignal;
  /** The dataset item asked about (absent for warm-up requests). */
  itemId?: string;
}

export interface LetterLogprobs {
  /** Natural-log probability of each letter's continuation (summed over its tokens); not renormalised. */
  logprobs: Record<string, number>;
  /** Tokens in the context (template, question and prefix). */
  promptTokens: number;
  /** Wall time of the evaluation, ms (monotonic clock), and when it started (epoch ms). */
  evalMs: number;
  startedAtEpochMs: number;
}

/**
 * Latency of one generation, all in milliseconds on a monotonic client clock
 * (definitions in src/metrics/stream-timer.ts, shared by every runner).
 */
export interface GenerationTimings {
  /** Wall-clock start (epoch ms) for timelines; not used for durations. */
  startedAtEpochMs: number;
  /** Time to the first token carrying any text, reasoning included. null: no token came. */
  ttftMs: number | null;
  /** Time to the first answer token after reasoning. null: the answer never started. */
  ttfoMs: number | null;
  /** Start to the last token. */
  e2eMs: number;
  /** Gaps between consecutive token chunks. */
  itlMs: number[];
  /** (e2e - ttft) / (N - 1), N = output tokens that streamed text (a server's stop token left out); null when N <= 1. */
  tpotMs: number | null;
  /** Time waiting for a client-side slot before the request started (not part of latency). */
  queueMs?: number;
  /** The engine's own figures where it gives them (llama.cpp timings, ...). */
  engine?: Record<string, number>;
}

export type TokenCountSource = 'engine' | 'server-usage' | 'tokenizer' | 'chunks' | 'unknown';
export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

export interface Generation {
  /** Everything the model produced, reasoning included, exactly as generated. */
  rawText: string;
  /**
   * The reasoning, apart from the answer: as the engine returned it (reasoning_content, thought segments)
   * or split from inline `<think>` tags; null when the model did not reason. `rawText` keeps both.
   */
  reasoning: string | null;
  promptTokens: number | null;
  outputTokens: number | null;
  tokenSource: TokenCountSource;
  finishReason: FinishReason;
  timings: GenerationTimings;
  /** Failed attempts retried before this answer came (server runners). */
  retries?: number;
  /** Runners with several replicas: the replica (base URL) that gave this answer. */
  replica?: string;
}

/** One memory figure and how it was had. bytes null means "not available", with the reason in note. */
export interface MemoryFigure {
  bytes: number | null;
  source: string;
  note?: string;
}

export interface MemoryReport {
  /** Bytes of the model's tensors (files on disk). */
  weights: MemoryFigure;
  /**
   * The model buffers the engine says it allocated for the weights (llama.cpp's "model buffer size" lines,
   * all buffers: e.g. CPU_Mapped + CPU_AARCH64 when Q4_0 is repacked on x86): can exceed the file.
   */
  residentWeights?: MemoryFigure;
  /** Current resident memory of the process that holds the model. */
  processRss: MemoryFigure;
  /** Peak resident memory of that process since it started. */
  processPeak: MemoryFigure;
  /** Peak GPU memory of that process tree (sampled), where there is a GPU. */
  gpuProcessPeak?: MemoryFigure;
  /** Device-wide GPU memory, for context only. */
  gpuDevice?: MemoryFigure;
  /** Fixed context/KV size from the run's settings, where known. */
  context?: MemoryFigure;
}

export interface ModelDescription {
  /** Runner kind: "llama-cpp-embedded", "llama-server", "vllm", "onnx", "scripted". */
  runner: string;
  /** A human name for reports (profile label). */
  label: string;
  modelPath?: string;
  /** Architecture from the model's metadata, e.g. "llama". */
  architecture?: string;
  parameters: number | null;
  /** Bytes of the model file(s). */
  fileBytes: number | null;
  /** Count of tensors by type, e.g. { F32: 20, Q4_0: 14 }. */
  tensorTypes?: Record<string, number>;
  /** The dominant weight format, e.g. "Q4_0" / "F32" / "AWQ". */
  quantization?: string;
  contextSize?: number;
  threads?: number;
  extra?: Record<string, unknown>;
}

/** Something a runner tells the user while it works (not an error): e.g. that it waits before a retry. */
export interface RunnerNotice {
  /** retry-wait: a wait before a retry; replica-down: a replica was taken out of rotation (run/replicas.ts). */
  kind: 'retry-wait' | 'replica-down';
  /** One line for the terminal, secrets already redacted: "waiting 60 s before retry 2/3: HTTP 429 ...". */
  text: string;
  delayMs: number;
}

/** A model behind one interface, wherever it runs. */
export interface Runner {
  readonly kind: string;
  describe(): Promise<ModelDescription>;
  generate(req: GenerateRequest): Promise<Generation>;
  memory(): Promise<MemoryReport>;
  /** Server runners: the server's own figures for the run, read once at its end. */
  serverReport?(): Promise<ServerReport>;
  /**
   * Tokens the engine will see for this prompt (chat template and special tokens included), counted once per
   * prompt in the run's planning step, before any measured request; null when it cannot be had. The run caps
   * each item's generation budget to describe().contextSize minus this count.
   */
  countPromptTokens?(messages: ChatMessage[], signal?: AbortSignal): Promise<number | null>;
  /** Called by the run loop once the warm-up is over (or at once without one): server runners read their "before" /metrics here. Never throws. */
  afterWarmup?(): Promise<void>;
  /** In-process runners: answer-letter log-probabilities, for suites with `scoring: likelihood`. */
  letterLogprobs?(req: LetterLogprobRequest): Promise<LetterLogprobs>;
  /**
   * Server runners: is the server still answering (its health endpoint, within the side-request timeout)?
   * null when it is, otherwise why not. Asked after a request timed out or could not connect.
   */
  probe?(signal?: AbortSignal): Promise<string | null>;
  /** Managed servers: how the server medeval started ended (after close), for the manifest. */
  managedServer?(): ManagedServerEnd | null;
  /** Runners that can make the user wait (retries) say so through this listener. */
  setNoticeListener?(listener: (notice: RunnerNotice) => void): void;
  close(): Promise<void>;
}

/** How a server medeval started and stopped ended (manifest.server.managed). */
export interface ManagedServerEnd {
  pid: number | null;
  /**
   * clean-exit: it exited 0 when asked to stop; stopped: it ended on SIGTERM (or exited non-zero when
   * asked); aborted-on-sigterm: llama-server's known abort on SIGTERM (SIGABRT / 134), not a crash;
   * killed-after-grace: it did not stop within stopGraceMs and was SIGKILLed; died-during-run: it ended
   * before medeval asked it to stop.
   */
  ended: 'clean-exit' | 'stopped' | 'aborted-on-sigterm' | 'killed-after-grace' | 'died-during-run';
  code: number | null;
  signal: string | null;
  description: string;
  /** Whether the child was started to die with medeval (Linux: setpriv --pdeathsig KILL). */
  diesWithParent: boolean;
}

export type AnswerStatus = 'answered' | 'unparseable' | 'truncated';

export interface ExtractedAnswer {
  letter: Letter | null;
  status: AnswerStatus;
  /** How the letter was found, e.g. "answer-colon", "boxed", "option-text"; or why not. */
  method: string;
  /** The text after reasoning was removed, which extraction looked at. */
  answerText: string;
}

export interface ItemError {
  /** e.g. timeout, http-5xx, prompt-too-long (the prompt alone fills the context), context-shift (the engine cut or shifted it). */
  kind: string;
  message: string;
  retries?: number;
}

/** One line of results.jsonl. */
export interface ItemResult {
  schema: 1;
  itemId: string;
  /** 0-based repeat index (several samples per question for pass@1). */
  sample: number;
  dataset: string;
  step?: string;
  /** The item's subject when its dataset has one (MMLU, MedMCQA). */
  subject?: string;
  questionType: QuestionType;
  /** Why the classifier chose the type (rule name), or "dataset" when the item carried it. */
  typeReason: string;
  template: string;
  prompt: string;
  /** The question stem, whitespace collapsed, cut at 300 characters: for flip lists and spreadsheets. */
  question?: string;
  gold: Letter;
  rawOutput: string;
  reasoning: string | null;
  extracted: ExtractedAnswer;
  /** False for wrong, unparseable and truncated answers; null when the request failed (not scored). */
  correct: boolean | null;
  promptTokens: number | null;
  outputTokens: number | null;
  tokenSource: TokenCountSource;
  finishReason: FinishReason;
  timings: GenerationTimings | null;
  error?: ItemError;
  /** Memory sampled right after this item (process RSS), for timelines. */
  rssBytes?: number;
  /** Served from the response cache (greedy only): scored, but left out of latency figures. */
  cached?: boolean;
  /** Failed attempts retried before this answer came (server runners); failures carry error.retries. */
  retries?: number;
  /**
   * The generation budget this item really had: the suite's maxTokens capped to the runner's context minus
   * the prompt's tokens (planning step), with the figures it came from (null: not known).
   */
  budget?: ItemBudget;
  /** Likelihood scoring: natural-log probability of each option letter after the prompt (not renormalised). */
  letterLogprobs?: Record<string, number>;
  /** `medeval merge`: the shard (machine) this record was run on. */
  shard?: number;
  /** Runners with several replicas: the replica (base URL) that served this request. */
  replica?: string;
  /** `medeval rescore`: set where the current extractor read the reply differently; the earlier extraction. */
  rescored?: { previous: { letter: Letter | null; status: AnswerStatus; method: string; correct: boolean | null } };
}

/** manifest.rescoredFrom: the run a `medeval rescore` folder was re-extracted from, and what changed. */
export interface RescoredFrom {
  /** The source run folder as given. */
  dir: string;
  configHash: string;
  /** The medeval version (and time) that wrote the source run. */
  medevalVersion: string;
  createdAt: string;
  /** When the rescore ran. */
  at: string;
  records: number;
  /** Records in error: passed through, never scored. */
  errorsKept: number;
  /** Records whose extraction (letter, status, method) or verdict changed. */
  changed: number;
  rightToWrong: number;
  wrongToRight: number;
}

export interface ItemBudget {
  /** max_tokens sent for this item. */
  maxTokens: number;
  /** The suite's (or --max-tokens) value before capping. */
  requested: number;
  promptTokens: number | null;
  /** Usable context per request (llama.cpp context or slot, vLLM max_model_len, ONNX max positions). */
  contextSize: number | null;
}

/**
 * manifest.json of a run folder. A run folder holds manifest.json, results.jsonl (one ItemResult per
 * line, append-only journal), summary.json and summary.md. Everything after the journal (scores,
 * statistics, reports, gates) is computed from these files alone.
 */
export interface RunManifest {
  schema: 1;
  medevalVersion: string;
  createdAt: string;
  gitCommit: string | null;
  /** The runner profile's label, e.g. "baseline-f32". */
  label: string;
  suite: {
    name: string;
    file: string | null;
    dataset: string;
    datasetFiles: string[];
    datasetHash: string;
    /** Questions the run was started on (the valid items, cut to --limit). */
    items: number;
    /** Valid questions in the dataset before --limit (absent in runs made before it was recorded). */
    datasetItems?: number;
    /** sha256 of the sorted question ids (journal-check.ts): `report` checks the journal against it. */
    itemIdsSha256?: string;
    /** A smoke-test suite (e.g. the bundled sample set): its numbers are never a benchmark. */
    smokeTest?: boolean;
    /** "letter" when replies were constrained to "Answer: <letter>" by a grammar. */
    answerConstraint?: 'none' | 'letter';
    /** Set for likelihood scoring (absent: generated replies). */
    scoring?: 'likelihood';
    /** Invalid dataset records left out by --skip-invalid: how many, and the first ones (file:line, why). */
    skipped?: SkippedRecords;
  };
  runner: { kind: string; profileFile: string | null };
  model: ModelDescription;
  sampling: SamplingParams;
  /** Samples per question (repeats for pass@1). */
  samples: number;
  seed: number;
  /** Hash of everything that must match for --resume (suite, runner profile, sampling, seed, limit). */
  configHash: string;
  load: { profile: 'sequential' | 'concurrency' | 'rate'; concurrency?: number; ratePerSecond?: number; warmup: number };
  /** Memory at the end of the run (peak figures cover the whole run). */
  memory?: MemoryReport;
  /** Wall time of the measured part of the run. */
  durationMs?: number;
  finishedAt?: string;
  /**
   * finished: every item answered; incomplete: the run went through but some items ended in error (not
   * scored; `--resume` re-runs exactly those); interrupted: stopped by the user; failed: stopped early
   * (dead or hung server, error rate) or crashed.
   */
  status: 'running' | 'finished' | 'incomplete' | 'interrupted' | 'failed';
  /** Why a run stopped early (error rate, dead server), when it did. */
  stopReason?: string;
  /** What the server itself said about the run (server runners only). */
  server?: ServerReport & { managed?: ManagedServerEnd };
  /** Set by `medeval rescore`: this folder re-extracts another run's stored replies. */
  rescoredFrom?: RescoredFrom;
  /** Set by `medeval run --shard`: this run holds one slice of the items (run/shard.ts). */
  shard?: ShardRecord;
  /** Set by `medeval merge`: this run is the union of shard runs, each with its own clock and machine (run/merge.ts). */
  merged?: MergeRecord;
}

/** Records a run left out; `records` lists at most the first 100 of `total`. */
export interface SkippedRecords {
  total: number;
  records: Array<{ place: string; reason: string }>;
}

/** The server's own view of a run: its /metrics before and after, and prompts it cut to fit. */
export interface ServerReport {
  /** Gauges and counters under the server's own metric names, and after - before (histograms as _sum/_count). */
  metrics: { before: Record<string, number>; after: Record<string, number>; delta: Record<string, number> } | null;
  /** Why `metrics` is null, or what limits it (a resumed run: the last session only). */
  metricsNote?: string;
  /** Prompts flagged as silently truncated by the server, and "input truncated" lines in a managed server's log. */
  truncation?: { flagged: number; logLines: number };
  /** Several replicas (run/replicas.ts): each one's requests, rotation and /metrics; `metrics` above sums their counters. */
  replicas?: ReplicaReport[];
}

/** What a shard run records in its manifest (manifest.shard). */
export interface ShardRecord {
  index: number;
  count: number;
  source: string;
  /** How items are assigned: always this rule (recorded so a later change cannot pass unnoticed). */
  rule: string;
  /** Items of the whole (unsharded) run: the valid items cut to --limit, before the split. */
  itemsBeforeShard: number;
  /** sha256 of those items' sorted ids (journal-check itemIdsHash): every shard of one run has the same. */
  itemIdsBeforeShardSha256: string;
}

/** One shard as the merged manifest keeps it: its own clock, its own machine. */
export interface MergedShard {
  index: number;
  /** The shard's folder as given to merge. */
  dir: string;
  status: RunManifest['status'];
  stopReason?: string;
  records: number;
  errors: number;
  medevalVersion: string;
  gitCommit: string | null;
  createdAt: string;
  finishedAt?: string;
  /** The shard's measured duration on its own clock (manifest.durationMs, else its own first start to last end). */
  durationMs: number | null;
  durationSource: 'manifest' | 'timings' | null;
  /** Measured requests (completed, not cached) and their output tokens, per second of the shard's own duration. */
  requestsPerS: number | null;
  outputTokensPerS: number | null;
  /** This shard's machine's memory, as its run recorded it. */
  memory?: MemoryReport;
  /** What the server said over this shard (its /metrics before/after). */
  server?: ServerReport;
}

export interface MergeRecord {
  count: number;
  rule: string;
  mergedAt: string;
  shards: MergedShard[];
  /** Shard indexes that were not given (only with --allow-partial). */
  missing: number[];
  /** Whether --allow-partial let missing or unfinished shards through. */
  partial: boolean;
  /** The merged run's throughput, and how it was had. */
  throughput: { requestsPerS: number | null; outputTokensPerS: number | null; method: string };
}

/** What the manifest keeps of each replica (manifest.server.replicas). */
export interface ReplicaReport {
  /** The replica's base URL. */
  replica: string;
  /** Requests it answered, and requests that failed on it (a failed-over request counts here and where it was answered). */
  answered: number;
  failed: number;
  /** Set when it was taken out of rotation: after how many requests sent to it, and why. */
  outOfRotation?: { afterRequests: number; reason: string };
  metrics: ServerReport['metrics'];
  metricsNote?: string;
}

