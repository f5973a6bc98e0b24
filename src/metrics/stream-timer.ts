// One definition of per-request latency for every runner (in process or over HTTP): the timer records
// the stream's marks (start, first text, first answer text, last token, gaps between text chunks) and
// the metric table (core/metric-table.ts) computes every metric from them, following vLLM's
// `bench serve` where it defines a metric and going further for reasoning models:
//   TTFT  time to the first chunk carrying any generated text, reasoning included
//         (a role-only or empty chunk does not count; no text at all -> null, never 0)
//   TTFO  time to the first non-blank answer text after reasoning (== TTFT without reasoning)
//   ITL   gaps between consecutive text chunks (a chunk may carry several tokens)
//   E2EL  start to the last token: the last text chunk, or, where the server counts the tokens, the
//         chunk carrying finish_reason (the stop token is counted in `completion_tokens` / `predicted_n`
//         but sends no text; llama-server sends the finish chunk in the step that made it); never a
//         usage-only chunk or [DONE]
//   TPOT  (E2EL - TTFT) / (N - 1), only when N > 1 (vLLM's definition), N the output tokens; this spans
//         the same first-to-last-token steps as llama.cpp's own predicted_ms
import { performance } from 'node:perf_hooks';
import type { GenerationTimings } from '../core/types.js';
import { latencyFigures } from '../core/metric-table.js';

export type ChunkKind = 'reasoning' | 'answer';

export class StreamTimer {
  private readonly now: () => number;
  private t0 = 0;
  private startedAtEpochMs = 0;
  private firstText: number | null = null;
  private firstAnswer: number | null = null;
  private last: number | null = null;
  private readonly gaps: number[] = [];
  private chunks = 0;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** Call just before the request is sent / generation starts. */
  start(): void {
    this.t0 = this.now();
    this.startedAtEpochMs = Date.now();
  }

  /** Record a chunk. `text` empty (role-only, keep-alive) is ignored, as is blank answer text for TTFO. */
  chunk(kind: ChunkKind, text: string, at: number = this.now()): void {
    if (text.length === 0) return;
    if (this.firstText === null) this.firstText = at;
    if (kind === 'answer' && this.firstAnswer === null && text.trim().length > 0) this.firstAnswer = at;
    if (this.last !== null) this.gaps.push(at - this.last);
    this.last = at;
    this.chunks++;
  }

  get chunkCount(): number {
    return this.chunks;
  }

  /** Elapsed ms since start(), on the same clock. */
  elapsed(): number {
    return this.now() - this.t0;
  }

  /**
   * `endAt`: when the last token came (a finish chunk after the last text); default the last text chunk.
   * `silentTokens`: tokens inside `outputTokens` generated after E2EL's end, so out of TPOT's count too
   * (a stop token that sent no text when no finish time is known).
   */
  finish(outputTokens: number | null, extra: { queueMs?: number; engine?: Record<string, number>; silentTokens?: number; endAt?: number } = {}): GenerationTimings {
    const marks = {
      start: this.t0,
      firstText: this.firstText,
      firstAnswer: this.firstAnswer,
      end: extra.endAt ?? this.last ?? this.now(),
      gaps: this.gaps,
      timedTokens: outputTokens === null ? null : outputTokens - (extra.silentTokens ?? 0),
    };
    return {
      startedAtEpochMs: this.startedAtEpochMs,
      ...latencyFigures(marks),
      ...(extra.queueMs !== undefined ? { queueMs: extra.queueMs } : {}),
      ...(extra.engine ? { engine: extra.engine } : {}),
    };
  }
}

/**
 * Splits streamed text into reasoning and answer parts when reasoning is inline (`<think>...</think>`),
 * even when a tag is cut across chunks. `startsInReasoning` is for chat templates that prefill
 * `<think>\n` (DeepSeek-R1 distills), where the model only ever writes the closing tag.
 */
export class InlineThinkSplitter {
  private state: 'start' | 'reasoning' | 'answer';
  private pending = '';

  constructor(startsInReasoning = false) {
    this.state = startsInReasoning ? 'reasoning' : 'start';
  }

  get inReasoning(): boolean {
    return this.state === 'reasoning';
  }

  /** Feed a chunk; get back which part of it was reasoning and which was answer. */
  feed(text: string): { reasoning: string; answer: string } {
    let buf = this.pending + text;
    this.pending = '';
    let reasoning = '';
    let answer = '';
    while (buf.length > 0) {
      if (this.state === 'start') {
        const trimmed = buf.trimStart();
        if (trimmed.length === 0) {
          this.pending = buf;
          break;
        }
        if (trimmed.startsWith('<think>')) {
          this.state = 'reasoning';
          buf = trimmed.slice('<think>'.length);
          continue;
        }
        if ('<think>'.startsWith(trimmed)) {
          this.pending = buf; // could still become <think>
          break;
        }
        this.state = 'answer';
        continue;
      }
      if (this.state === 'reasoning') {
        const end = buf.indexOf('</think>');
        if (end >= 0) {
          reasoning += buf.slice(0, end);
          buf = buf.slice(end + '</think>'.length);
          this.state = 'answer';
          continue;
        }
        const keep = partialSuffix(buf, '</think>');
        reasoning += buf.slice(0, buf.length - keep);
        this.pending = buf.slice(buf.length - keep);
        break;
      }
      answer += buf;
      break;
    }
    return { reasoning, answer };
  }

  /** Whatever is still held back at the end of the stream (a tag prefix that never completed). */
  flush(): { reasoning: string; answer: string } {
    const rest = this.pending;
    this.pending = '';
    if (this.state === 'reasoning') return { reasoning: rest, answer: '' };
    return { reasoning: '', answer: rest };
  }
}

/** Length of the longest suffix of `s` that is a proper prefix of `tag`. */
function partialSuffix(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) {
    if (s.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}
