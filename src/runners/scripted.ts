// A runner that answers from a script (YAML or JSONL) instead of a model, like inspect_ai's `mockllm` and
// lm-eval's `DummyLM`: no native code, no network, so tests of the run loop, resume, compare and reports
// run in milliseconds. Every figure it gives (tokens, timings, memory) is the script's, never a
// measurement: describe() says so (model.extra.scripted), and claims treat such runs as smoke tests.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { scriptedProfileSchema, type ScriptedProfile } from './scripted-profile.js';
import { InputError } from '../core/errors.js';
import type {
  ChatMessage, GenerateRequest, Generation, LetterLogprobRequest, LetterLogprobs, MemoryReport, ModelDescription, Runner,
} from '../core/types.js';
import { parseYamlText } from '../core/yaml-config.js';
import { InlineThinkSplitter, StreamTimer } from '../metrics/stream-timer.js';

const timingsSchema = z.strictObject({
  /** Time to the first text chunk, ms. */
  ttftMs: z.number().nonnegative().optional(),
  /** Gaps between chunks (one chunk per word), ms: one value for all, or a list (the last one repeats). */
  itlMs: z.union([z.number().nonnegative(), z.array(z.number().nonnegative()).min(1)]).optional(),
  /** Instead of itlMs: a decode rate, gaps of 1000 / tokensPerSecond ms. */
  tokensPerSecond: z.number().positive().optional(),
}).refine((t) => t.itlMs === undefined || t.tokensPerSecond === undefined, { message: 'give itlMs or tokensPerSecond, not both' });

export const scriptEntrySchema = z.strictObject({
  /** Match: the item id (exact), a regex on the prompt, or the default entry. Exactly one. */
  id: z.string().min(1).optional(),
  prompt: z.string().min(1).optional(),
  default: z.literal(true).optional(),
  /** The reply, <think>...</think> reasoning included; a list: one is picked by the request's seed. */
  text: z.union([z.string(), z.array(z.string()).min(1)]).default(''),
  finishReason: z.enum(['stop', 'length']).default('stop'),
  promptTokens: z.number().int().nonnegative().optional(),
  /** Default: the reply's words (one chunk each). */
  outputTokens: z.number().int().nonnegative().optional(),
  timings: timingsSchema.optional(),
  /** The request fails with this error (kind as the run records it, e.g. timeout, http-5xx). */
  error: z.strictObject({ kind: z.string().min(1), message: z.string().min(1) }).optional(),
  /** Answer-letter log-probabilities, for likelihood scoring. */
  logprobs: z.record(z.string(), z.number()).optional(),
}).refine((e) => [e.id, e.prompt, e.default].filter((v) => v !== undefined).length === 1,
  { message: 'each entry needs exactly one of id, prompt (a regex) or default: true' });
export type ScriptEntry = z.infer<typeof scriptEntrySchema>;

interface Script {
  byId: Map<string, ScriptEntry>;
  byPrompt: Array<{ re: RegExp; entry: ScriptEntry }>;
  fallback: ScriptEntry | null;
  entries: number;
  sha256: string;
}

/** Reads and validates a script; every problem names file:line and the field. */
export async function loadScript(file: string): Promise<Script> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the script: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file, field: 'script' }, 'check the path in the runner profile');
  }
  const entries: Array<{ entry: ScriptEntry; line: number | undefined }> = [];
  if (/\.jsonl$/i.test(file)) {
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return;
      let data: unknown;
      try {
        data = JSON.parse(raw);
      } catch (e) {
        throw new InputError(`not JSON: ${(e as Error).message}`, { file, line: i + 1 }, 'one JSON object a line');
      }
      const parsed = scriptEntrySchema.safeParse(data);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new InputError(issue.message, { file, line: i + 1, ...(issue.path.length ? { field: issue.path.join('.') } : {}) });
      }
      entries.push({ entry: parsed.data, line: i + 1 });
    });
  } else {
    for (const entry of parseYamlText(text, file, z.array(scriptEntrySchema), 'script')) entries.push({ entry, line: undefined });
  }
  const script: Script = { byId: new Map(), byPrompt: [], fallback: null, entries: entries.length, sha256: createHash('sha256').update(text).digest('hex') };
  for (const { entry, line } of entries) {
    const place = { file, ...(line ? { line } : {}) };
    if (entry.id !== undefined) {
      if (script.byId.has(entry.id)) throw new InputError(`item id ${entry.id} is scripted twice`, { ...place, field: 'id' });
      script.byId.set(entry.id, entry);
    } else if (entry.prompt !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(entry.prompt);
      } catch (e) {
        throw new InputError(`not a regular expression: ${(e as Error).message}`, { ...place, field: 'prompt' });
      }
      script.byPrompt.push({ re, entry });
    } else {
      if (script.fallback) throw new InputError('a second default entry', { ...place, field: 'default' });
      script.fallback = entry;
    }
  }
  return script;
}

const promptOf = (messages: ChatMessage[]) => messages.map((m) => m.content).join('\n');
/** The scripted token count of a text: its whitespace-separated words. */
const words = (text: string): string[] => text.match(/\s*\S+/g) ?? [];

function abortError(signal: AbortSignal): Error {
  const e = new Error(`aborted: ${String((signal.reason as Error)?.message ?? signal.reason ?? 'stopped')}`);
  e.name = 'AbortError';
  return e;
}

export class ScriptedRunner implements Runner {
  readonly kind = 'scripted';

  constructor(private readonly profile: ScriptedProfile, private readonly script: Script) {}

  private match(messages: ChatMessage[], itemId: string | undefined): ScriptEntry {
    const byId = itemId === undefined ? undefined : this.script.byId.get(itemId);
    if (byId) return byId;
    const prompt = promptOf(messages);
    const hit = this.script.byPrompt.find((p) => p.re.test(prompt))?.entry ?? this.script.fallback;
    if (!hit) {
      throw new InputError(`no script entry for ${itemId ? `item ${itemId}` : 'this prompt'} and no default entry`, { file: this.profile.script },
        'add an entry with default: true');
    }
    return hit;
  }

  async describe(): Promise<ModelDescription> {
    return {
      runner: 'scripted',
      label: this.profile.label,
      modelPath: this.profile.script,
      parameters: null,
      fileBytes: null,
      quantization: 'scripted',
      contextSize: this.profile.contextSize,
      extra: {
        scripted: true,
        note: 'answers, token counts, timings and memory come from a script: no model ran, nothing was measured',
        scriptSha256: this.script.sha256,
        entries: this.script.entries,
        realTime: this.profile.realTime,
      },
    };
  }

  async countPromptTokens(messages: ChatMessage[]): Promise<number | null> {
    const prompt = promptOf(messages);
    const entry = this.script.byPrompt.find((p) => p.re.test(prompt))?.entry;
    return entry?.promptTokens ?? words(prompt).length;
  }

  async generate(req: GenerateRequest): Promise<Generation> {
    const { signal } = req;
    if (signal?.aborted) throw abortError(signal);
    const entry = this.match(req.messages, req.itemId);
    const texts = Array.isArray(entry.text) ? entry.text : [entry.text];
    // Deterministic: the same seed picks the same alternative.
    const text = texts[Math.abs(req.sampling.seed ?? 0) % texts.length]!;
    if (req.constrain && !entry.error) {
      const ok = req.constrain.letters.some((l) => text === req.constrain!.prefix + l);
      if (!ok) {
        throw new InputError(`the scripted reply ${JSON.stringify(text.slice(0, 40))} does not fit the letter constraint`, { file: this.profile.script },
          `script "${req.constrain.prefix}<letter>" replies, or drop answerConstraint from the suite`);
      }
    }
    const clock = new ScriptClock(this.profile.realTime, signal);
    const timer = new StreamTimer(() => clock.now());
    timer.start();
    req.onStart?.(performance.now());
    const t = entry.timings ?? {};
    const gapAt = (i: number): number => {
      if (t.tokensPerSecond !== undefined) return 1000 / t.tokensPerSecond;
      if (Array.isArray(t.itlMs)) return t.itlMs[Math.min(i, t.itlMs.length - 1)]!;
      return t.itlMs ?? 1;
    };
    if (entry.error) {
      await clock.advance(t.ttftMs ?? 0);
      throw Object.assign(new Error(entry.error.message), { kind: entry.error.kind });
    }
    let chunks = words(text);
    let outputTokens = entry.outputTokens ?? chunks.length;
    let finishReason: Generation['finishReason'] = entry.finishReason;
    // The budget cap, as an engine applies max_tokens: the reply is cut where the budget ends.
    if (outputTokens > req.sampling.maxTokens) {
      const keep = chunks.length === 0 ? 0 : Math.max(0, Math.floor((chunks.length * req.sampling.maxTokens) / outputTokens));
      chunks = chunks.slice(0, keep);
      outputTokens = req.sampling.maxTokens;
      finishReason = 'length';
    }
    const splitter = new InlineThinkSplitter();
    let reasoning = '';
    let raw = '';
    // One chunk, one timer event: it counts as answer text once it carries any (TTFO), as a stream does.
    const feed = (part: { reasoning: string; answer: string }) => {
      reasoning += part.reasoning;
      timer.chunk(part.answer.length > 0 ? 'answer' : 'reasoning', part.reasoning + part.answer);
    };
    for (let i = 0; i < chunks.length; i++) {
      await clock.advance(i === 0 ? (t.ttftMs ?? 1) : gapAt(i - 1));
      raw += chunks[i];
      feed(splitter.feed(chunks[i]!));
    }
    feed(splitter.flush());
    const hasThink = /<think>/.test(raw);
    return {
      rawText: raw,
      reasoning: hasThink ? reasoning : null,
      promptTokens: entry.promptTokens ?? words(promptOf(req.messages)).length,
      outputTokens,
      tokenSource: 'engine',
      finishReason,
      timings: timer.finish(outputTokens, { engine: { scripted: 1 } }),
    };
  }

  async letterLogprobs(req: LetterLogprobRequest): Promise<LetterLogprobs> {
    if (req.signal?.aborted) throw abortError(req.signal);
    const entry = this.match(req.messages, req.itemId);
    const clock = new ScriptClock(this.profile.realTime, req.signal);
    const startedAtEpochMs = Date.now();
    await clock.advance(entry.timings?.ttftMs ?? 1);
    if (entry.error) throw Object.assign(new Error(entry.error.message), { kind: entry.error.kind });
    if (!entry.logprobs) {
      throw Object.assign(new Error(`the script entry for ${req.itemId ?? 'this prompt'} has no logprobs`), { kind: 'no-logprobs' });
    }
    // Letters the script leaves out get no figure (JSON has no -Infinity); scoring skips them.
    const logprobs: Record<string, number> = {};
    for (const l of req.letters) if (entry.logprobs[l] !== undefined) logprobs[l] = entry.logprobs[l];
    return { logprobs, promptTokens: entry.promptTokens ?? words(promptOf(req.messages)).length, evalMs: clock.now(), startedAtEpochMs };
  }

  async memory(): Promise<MemoryReport> {
    const m = this.profile.memory ?? {};
    const fig = (bytes: number | undefined) => bytes === undefined
      ? { bytes: null, source: 'scripted runner', note: 'no model ran: nothing to measure' }
      : { bytes, source: 'scripted (runner profile), not measured' };
    return { weights: fig(m.weightsBytes), processRss: fig(m.peakBytes), processPeak: fig(m.peakBytes) };
  }

  async close(): Promise<void> {}
}

/** Virtual time by default (advance() returns at once); with realTime, it waits on the real clock, abortably. */
class ScriptClock {
  private virtual = 0;
  private readonly t0 = performance.now();
  constructor(private readonly real: boolean, private readonly signal: AbortSignal | undefined) {}

  now(): number {
    return this.real ? performance.now() - this.t0 : this.virtual;
  }

  async advance(ms: number): Promise<void> {
    this.virtual += ms;
    if (this.real) {
      const wait = this.virtual - this.now();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal: this.signal });
        } catch {
          throw abortError(this.signal!);
        }
      }
    }
    if (this.signal?.aborted) throw abortError(this.signal);
  }
}

export async function createScriptedRunner(profile: ScriptedProfile): Promise<ScriptedRunner> {
  return new ScriptedRunner(profile, await loadScript(profile.script));
}


// The profile lives apart (in-process-kinds.ts defines the kind without loading this module).
export { scriptedProfileSchema, type ScriptedProfile } from './scripted-profile.js';
