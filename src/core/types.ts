// The types every part of medeval shares: datasets produce DatasetItems, runners turn prompts into
// Generations, the run loop writes ItemResults, and scoring/reports read only ItemResults.

// The run record (manifest.json, one line of results.jsonl) and the shapes inside it are inferred from
// their zod schemas in record.ts: defined once, validated on write and on read.
export {
  ANSWER_STATUSES, FINISH_REASONS, QUESTION_TYPES, RECORD_VERSION, TOKEN_COUNT_SOURCES,
  type AnswerStatus, type ExtractedAnswer, type FinishReason, type GenerationTimings, type ItemBudget, type ItemError,
  type ItemResult, type Letter, type ManagedServerEnd, type MemoryFigure, type MemoryReport, type ModelDescription,
  type QuestionType, type RescoredFrom, type RunManifest, type SamplingParams, type ServerReport, type SkippedRecords,
  type TokenCountSource, type HubDatasetRecord, type ShardRecord, type MergedShard, type MergeRecord, type ReplicaReport, type ThrottleReport, type WindowChange,
} from './record.js';
import type { FinishReason, GenerationTimings, Letter, ManagedServerEnd, MemoryReport, ModelDescription, QuestionType, SamplingParams, ServerReport, ThrottleReport, TokenCountSource } from './record.js';

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
  /**
   * Letters with no figure (servers that give only the top N next-token log-probabilities: one of the
   * letter's tokens was outside them), each with an upper bound of its log-probability (the letter's known
   * part plus the smallest top-N log-probability where its token was missing). Never in `logprobs`.
   */
  noFigure?: Record<string, number>;
  /** The text scored after (chat template applied by the server, then the prefix), where a server made it. */
  prompt?: string;
  /** Tokens in the context (template, question and prefix). */
  promptTokens: number;
  /** Wall time of the evaluation, ms (monotonic clock), and when it started (epoch ms). */
  evalMs: number;
  startedAtEpochMs: number;
}

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
  /** Why each retried attempt failed ("timeout: ..."), oldest first. */
  retryReasons?: string[];
}

/** Something a runner tells the user while it works (not an error): e.g. that it waits before a retry. */
export interface RunnerNotice {
  /**
   * retry-wait: a wait before a retry; replica-down: a replica was taken out of rotation (run/replicas.ts);
   * throttle: requests in flight changed after capacity errors.
   */
  kind: 'retry-wait' | 'replica-down' | 'throttle';
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
  /** Server runners: how requests in flight were cut after capacity errors; null when they never were. */
  throttle?(): ThrottleReport | null;
  close(): Promise<void>;
}

