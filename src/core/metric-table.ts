// The one table of every figure medeval reports: its key in report.json, its short and long names, its
// unit and which direction is better. Every renderer (terminal, Markdown, HTML, LaTeX, CSV, charts), the
// gate and goodput read names and units from here, so a metric is spelled one way everywhere. Latency
// statistics are named as vLLM's `bench serve` names them, `{stat}_{metric}_{unit}` (mean_e2el_ms,
// p99_ttft_ms). Each latency metric also says how it is computed from the stream's marks, and the run
// record's latency fields are made from it. Imports nothing: every layer may read it.

export type MetricUnit = 'ms' | 'fraction' | 'bytes' | 'tokens/s' | 'requests/s';

export interface MetricDefinition {
  /** The field in report.json (RunLatency, RunReport), e.g. "e2eMs". */
  key: string;
  /** The abbreviation reports print, e.g. "E2EL". */
  short: string;
  /** What it is, in words, e.g. "end-to-end latency". */
  long: string;
  /** A longer gloss for chart subtitles and definitions. */
  description: string;
  unit: MetricUnit;
  better: 'lower' | 'higher';
  /** The metric's part of a `{stat}_{metric}_{unit}` name, e.g. "e2el" (vLLM's key, also --goodput's). */
  stem: string;
}

/**
 * What the stream timer saw of one request, all on one monotonic clock in ms. Every latency metric is
 * computed from these marks (its `compute` below), by every runner alike.
 */
export interface StreamMarks {
  /** The request was sent / generation started. */
  start: number;
  /** The first chunk carrying any generated text, reasoning included (a role-only or empty chunk does not count); null: none came. */
  firstText: number | null;
  /** The first non-blank answer text after reasoning; null: the answer never started. */
  firstAnswer: number | null;
  /**
   * The last token: the chunk carrying finish_reason where the server counts the stop token in its
   * token count (it sends no text), else the last text chunk; never a usage-only chunk or [DONE].
   */
  end: number;
  /** Gaps between consecutive text chunks (a chunk may carry several tokens). */
  gaps: readonly number[];
  /** Output tokens generated up to `end` (the count less tokens after it); null: unknown. */
  timedTokens: number | null;
}

/**
 * A latency metric: its names, and how one request's figure is computed from the stream's marks.
 * `per: 'request'`: one figure per request, null when the request has none (`always`: every request has
 * one); `per: 'gap'`: one figure per gap between chunks, pooled over requests in distributions.
 */
export type LatencyDefinition = MetricDefinition & (
  | { per: 'request'; always?: boolean; compute(m: StreamMarks): number | null }
  | { per: 'gap'; compute(m: StreamMarks): number[] }
);

/**
 * Client-side latency per request, following vLLM's `bench serve` where it defines a metric and going
 * further for reasoning models. Adding a metric is one entry here (at the end, so the other metrics'
 * bootstrap seeds stay): the journal's `timings` field (core/record.ts), the stream timer's output,
 * the report model's distribution, the report tables and summary.md are all made from this table.
 * Records written before a metric existed read as "no figure" (null) for it.
 */
export const LATENCY_TABLE = {
  ttftMs: {
    key: 'ttftMs', short: 'TTFT', long: 'time to first token', description: 'time to first token (reasoning included)', unit: 'ms', better: 'lower', stem: 'ttft',
    per: 'request', compute: (m: StreamMarks) => (m.firstText === null ? null : m.firstText - m.start),
  },
  ttfoMs: {
    key: 'ttfoMs', short: 'TTFO', long: 'time to first answer token', description: 'time to first answer token, after reasoning', unit: 'ms', better: 'lower', stem: 'ttfo',
    per: 'request', compute: (m: StreamMarks) => (m.firstAnswer === null ? null : m.firstAnswer - m.start),
  },
  tpotMs: {
    key: 'tpotMs', short: 'TPOT', long: 'time per output token', description: 'time per output token after the first', unit: 'ms', better: 'lower', stem: 'tpot',
    // (E2EL - TTFT) / (N - 1), only when N > 1 (vLLM's definition): the same first-to-last-token steps as llama.cpp's predicted_ms.
    per: 'request', compute: (m: StreamMarks) => (m.firstText !== null && m.timedTokens !== null && m.timedTokens > 1 ? (m.end - m.firstText) / (m.timedTokens - 1) : null),
  },
  itlMs: {
    key: 'itlMs', short: 'ITL', long: 'inter-token latency', description: 'inter-token latency, pooled over requests', unit: 'ms', better: 'lower', stem: 'itl',
    per: 'gap', compute: (m: StreamMarks) => [...m.gaps],
  },
  e2eMs: {
    key: 'e2eMs', short: 'E2EL', long: 'end-to-end latency', description: 'end-to-end latency per request', unit: 'ms', better: 'lower', stem: 'e2el',
    per: 'request', always: true, compute: (m: StreamMarks) => m.end - m.start,
  },
} as const satisfies Record<string, LatencyDefinition>;

export type LatencyMetric = keyof typeof LATENCY_TABLE;
/** Report order (the table's): the order every table lists latency metrics in. */
export const LATENCY_METRICS = Object.keys(LATENCY_TABLE) as readonly LatencyMetric[];

/** One request's figure of a metric: a number (`always`), a number or null, or the gaps of a per-gap metric. */
export type LatencyFigure<D> = D extends { per: 'gap' } ? number[] : D extends { always: true } ? number : number | null;
export type LatencyFigures = { -readonly [K in LatencyMetric]: LatencyFigure<(typeof LATENCY_TABLE)[K]> };

/** Every latency metric of one request, computed from its marks. */
export function latencyFigures(marks: StreamMarks): LatencyFigures {
  const out: Record<string, number | number[] | null> = {};
  for (const k of LATENCY_METRICS) out[k] = (LATENCY_TABLE[k] as LatencyDefinition).compute(marks);
  return out as LatencyFigures;
}
/** The order tables of one run's latency show them (the paper's headline figure first). */
export const LATENCY_DISPLAY_ORDER: readonly LatencyMetric[] = ['e2eMs', ...LATENCY_METRICS.filter((m) => m !== 'e2eMs')];

/** Time waiting for a client-side slot before a request started: recorded beside latency, never part of it. */
export const QUEUE_METRIC = {
  key: 'queueMs', short: 'queue', long: 'time waiting for a client slot', description: 'time waiting for a client-side slot (not latency)', unit: 'ms', better: 'lower', stem: 'queue',
} as const satisfies MetricDefinition;

/** Per-run figures beside latency. */
export const RUN_TABLE = {
  accuracy: { key: 'accuracy', short: 'accuracy', long: 'accuracy', description: 'scored answers that are right (pass@1 with several samples)', unit: 'fraction', better: 'higher', stem: 'accuracy' },
  requestThroughputPerS: { key: 'requestThroughputPerS', short: 'requests/s', long: 'request throughput', description: 'completed requests per second of the measured duration', unit: 'requests/s', better: 'higher', stem: 'request_throughput' },
  outputTokenThroughputPerS: { key: 'outputTokenThroughputPerS', short: 'output tokens/s', long: 'output token throughput', description: 'output tokens per second of the measured duration', unit: 'tokens/s', better: 'higher', stem: 'output_throughput' },
  goodputPerS: { key: 'goodput.perS', short: 'goodput', long: 'goodput', description: 'completed requests meeting every objective, per second (vLLM bench serve --goodput)', unit: 'requests/s', better: 'higher', stem: 'request_goodput' },
} as const satisfies Record<string, MetricDefinition>;

/** Memory parts of a run (RunReport.memory[].part), in report order. */
export const MEMORY_TABLE = {
  weights: { key: 'weights', short: 'weights', long: 'weights file (tensor bytes on disk)', description: 'bytes of the model file(s)', unit: 'bytes', better: 'lower', stem: 'weights' },
  residentWeights: { key: 'residentWeights', short: 'resident weights', long: 'resident weights (model buffers the engine allocated)', description: "the model buffers the engine says it allocated (can exceed the file: repacking)", unit: 'bytes', better: 'lower', stem: 'resident_weights' },
  context: { key: 'context', short: 'context', long: 'KV cache / context', description: 'the context (KV cache) size set for the run', unit: 'bytes', better: 'lower', stem: 'context' },
  processPeak: { key: 'processPeak', short: 'peak memory', long: 'peak process memory', description: 'peak resident memory of the process holding the model', unit: 'bytes', better: 'lower', stem: 'process_peak' },
  processRss: { key: 'processRss', short: 'memory at end', long: 'process memory at the end', description: 'resident memory of that process at the end of the run', unit: 'bytes', better: 'lower', stem: 'process_rss' },
  gpuProcessPeak: { key: 'gpuProcessPeak', short: 'peak GPU memory', long: 'peak GPU memory of the process', description: 'peak GPU memory of the process tree (sampled)', unit: 'bytes', better: 'lower', stem: 'gpu_process_peak' },
  gpuDevice: { key: 'gpuDevice', short: 'GPU device memory', long: 'device-wide GPU memory', description: 'GPU memory in use on the whole device (other processes included)', unit: 'bytes', better: 'lower', stem: 'gpu_device' },
} as const satisfies Record<string, MetricDefinition>;

export type MemoryPartName = keyof typeof MEMORY_TABLE;
export const MEMORY_PARTS: readonly MemoryPartName[] = ['weights', 'residentWeights', 'context', 'processPeak', 'processRss', 'gpuProcessPeak', 'gpuDevice'];

/** Labels of the tokens/s figures in a run's server view: a per-request speed is not the server's throughput. */
export const SERVER_FIGURE_LABELS = {
  promptSpeed: 'prompt speed per request (tokens/s of its own prompt time)',
  generationSpeed: 'generation speed per request (tokens/s of its own decode time)',
  promptThroughput: "prompt throughput (tokens/s of the run's wall time)",
  generationThroughput: "generation throughput (tokens/s of the run's wall time)",
  held: 'requests in flight, share of the load allowed (client)',
  engineBusy: "engine busy, share of slots in use (engine's own timings)",
} as const;
export type ServerFigureLabel = keyof typeof SERVER_FIGURE_LABELS;

/** Statistics a latency distribution reports, as named in `{stat}_{metric}_{unit}`. */
export type LatencyStat = 'mean' | 'std' | 'min' | 'max' | 'p50' | 'p90' | 'p95' | 'p99';

const UNIT_STEMS: Record<MetricUnit, string> = { ms: 'ms', fraction: 'fraction', bytes: 'bytes', 'tokens/s': 'tok_s', 'requests/s': 'req_s' };

/** vLLM's name for a statistic of a metric: statName('mean', LATENCY_TABLE.e2eMs) = "mean_e2el_ms". */
export function statName(stat: LatencyStat, metric: MetricDefinition): string {
  return `${stat}_${metric.stem}_${UNIT_STEMS[metric.unit]}`;
}

/** The column name of a per-item figure (results.csv): "e2el_ms". */
export function fieldName(metric: MetricDefinition): string {
  return `${metric.stem}_${UNIT_STEMS[metric.unit]}`;
}

/** "end-to-end latency (E2EL)": the long name with its abbreviation, for definitions and claims. */
export function longWithShort(metric: MetricDefinition): string {
  return metric.short === metric.long ? metric.long : `${metric.long} (${metric.short})`;
}

/** Every metric in the table, for tests and docs. */
export const ALL_METRICS: readonly MetricDefinition[] = [
  ...LATENCY_METRICS.map((k) => LATENCY_TABLE[k]),
  QUEUE_METRIC,
  ...Object.values(RUN_TABLE),
  ...MEMORY_PARTS.map((k) => MEMORY_TABLE[k]),
];
