// The run's planning step: before the measured clock starts, every prompt's token count is asked of the
// runner once (Runner.countPromptTokens: the engine's own tokenizer and chat template), and each item's
// generation budget is capped to what fits its context: min(maxTokens, context - prompt tokens - 1), one
// cell kept free as llama.cpp does. A prompt that alone fills the context becomes an error item
// (prompt-too-long) without a request. Counting here keeps side requests (llama-server's /tokenize, which
// waits behind its HTTP threads) off the measured requests' path.
import pLimit from 'p-limit';
import { contextSettingOf } from '../runners/registry.js';
import type { ChatMessage, ItemBudget, Runner } from '../core/types.js';

export interface PromptPlan {
  budget: ItemBudget;
  /** Why the prompt cannot be sent (it alone fills the context); null when it fits or is not known. */
  tooLong: string | null;
}

export interface PlanSummary {
  requested: number;
  contextSize: number | null;
  /** Prompts counted, capped below `requested`, too long, and not countable. */
  counted: number;
  capped: number;
  tooLong: number;
  unknown: number;
  /** Smallest and largest budget after capping. */
  minBudget: number | null;
  maxBudget: number | null;
  ms: number;
}

/** Where a runner kind's usable context is set (its definition's contextSetting), for messages that say what to change. */
export function contextSetting(kind: string): string {
  return contextSettingOf(kind);
}

export async function planPrompts(
  runner: Runner,
  contextSize: number | null,
  prompts: string[],
  requested: number,
  opts: { signal?: AbortSignal; timeoutMs?: number; parallel?: number } = {},
): Promise<{ plans: Map<string, PromptPlan>; summary: PlanSummary }> {
  const t0 = performance.now();
  const unique = [...new Set(prompts)];
  const plans = new Map<string, PromptPlan>();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const count = async (prompt: string): Promise<number | null> =>
    runner.countPromptTokens ? countOne(runner, prompt, timeoutMs, opts.signal) : null;
  // A few counts at a time (side requests to a server); an abort leaves the rest uncounted.
  const limit = pLimit(Math.max(1, opts.parallel ?? 4));
  await limit.map(unique, async (prompt) => {
    if (opts.signal?.aborted) return;
    const n = await count(prompt);
    plans.set(prompt, planOne(n, contextSize, requested, runner.kind));
  });
  const all = [...plans.values()];
  const fitting = all.filter((p) => p.tooLong === null).map((p) => p.budget.maxTokens);
  return {
    plans,
    summary: {
      requested,
      contextSize,
      counted: all.filter((p) => p.budget.promptTokens !== null).length,
      capped: all.filter((p) => p.tooLong === null && p.budget.maxTokens < requested).length,
      tooLong: all.filter((p) => p.tooLong !== null).length,
      unknown: all.filter((p) => p.budget.promptTokens === null).length,
      minBudget: fitting.length ? Math.min(...fitting) : null,
      maxBudget: fitting.length ? Math.max(...fitting) : null,
      ms: performance.now() - t0,
    },
  };
}

/** The prompts a run will send, as the warm-up is sized from them (warmup.ts): first characters and median length. */
export interface PromptShape {
  /** First characters of the measured prompts. */
  firsts: ReadonlySet<string>;
  /** Median length (characters) of the measured prompts that fit the context; null when there are none. */
  medianChars: number | null;
}

/** Per item: its prompt's token count, the one thing the planning step keeps (4 bytes an item). */
export class ItemPlans {
  constructor(
    /** -1: not counted (the runner cannot count, the count failed, or the item has nothing to run). */
    private readonly tokens: Int32Array,
    private readonly contextSize: number | null,
    private readonly requested: number,
    private readonly kind: string,
    /** False when nothing is planned at all (likelihood scoring): at() is undefined. */
    private readonly planned: boolean,
  ) {}

  at(index: number): PromptPlan | undefined {
    if (!this.planned) return undefined;
    const n = this.tokens[index] ?? -1;
    return planOne(n < 0 ? null : n, this.contextSize, this.requested, this.kind);
  }

  tooLong(index: number): boolean {
    const n = this.tokens[index] ?? -1;
    return this.planned && n >= 0 && this.contextSize !== null && this.contextSize - n - 1 < 1;
  }

  /** The first item whose prompt is not known to be too long (the warm-up takes its letters), or null. */
  firstFitting(): number | null {
    for (let i = 0; i < this.tokens.length; i++) if (!this.tooLong(i)) return i;
    return null;
  }
}

/**
 * The planning step over a run's items without holding their prompts: `promptAt(i)` renders item i's prompt
 * (null: nothing to run for it), each is counted once (samples share it), and only the counts are kept.
 * `count: false` (likelihood scoring) counts nothing and plans nothing.
 */
export async function planItems(
  runner: Runner,
  contextSize: number | null,
  items: number,
  promptAt: (index: number) => string | null | Promise<string | null>,
  requested: number,
  opts: { signal?: AbortSignal; timeoutMs?: number; parallel?: number; count?: boolean } = {},
): Promise<{ plans: ItemPlans; summary: PlanSummary; shape: PromptShape }> {
  const t0 = performance.now();
  const planned = opts.count !== false;
  const tokens = new Int32Array(items).fill(-1);
  const lengths = new Float64Array(items).fill(-1);
  const firsts = new Set<string>();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  // A few workers take the items in order (p-limit's map would make a pending promise per item up front).
  let next = 0;
  const worker = async () => {
    while (next < items && !opts.signal?.aborted) {
      const i = next++;
      const prompt = await promptAt(i);
      if (prompt === null) continue;
      firsts.add(prompt.charAt(0));
      lengths[i] = prompt.length;
      if (!planned || !runner.countPromptTokens) continue;
      const n = await countOne(runner, prompt, timeoutMs, opts.signal);
      if (n !== null) tokens[i] = n;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 4) }, worker));
  const plans = new ItemPlans(tokens, contextSize, requested, runner.kind, planned);
  let counted = 0, capped = 0, tooLong = 0, unknown = 0;
  let minBudget: number | null = null, maxBudget: number | null = null;
  const fittingLengths: number[] = [];
  for (let i = 0; i < items; i++) {
    if (lengths[i]! < 0) continue;
    const plan = plans.at(i);
    if (!plan) {
      fittingLengths.push(lengths[i]!);
      continue;
    }
    if (plan.budget.promptTokens !== null) counted++;
    else unknown++;
    if (plan.tooLong !== null) {
      tooLong++;
      continue;
    }
    fittingLengths.push(lengths[i]!);
    if (plan.budget.maxTokens < requested) capped++;
    minBudget = minBudget === null ? plan.budget.maxTokens : Math.min(minBudget, plan.budget.maxTokens);
    maxBudget = maxBudget === null ? plan.budget.maxTokens : Math.max(maxBudget, plan.budget.maxTokens);
  }
  fittingLengths.sort((a, b) => a - b);
  return {
    plans,
    summary: { requested, contextSize, counted, capped, tooLong, unknown, minBudget, maxBudget, ms: performance.now() - t0 },
    shape: { firsts, medianChars: fittingLengths.length ? fittingLengths[Math.floor(fittingLengths.length / 2)]! : null },
  };
}

/**
 * The planning step when nothing is counted up front (the server checks the context itself:
 * serverChecksContext): every budget as asked, its prompt tokens unknown, and the prompts' shape from their
 * first characters and lengths (-1: nothing to run for that item), measured as the dataset was read.
 */
export function uncountedPlans(
  kind: string,
  contextSize: number | null,
  requested: number,
  firsts: Uint16Array,
  lengths: Float64Array,
): { plans: ItemPlans; summary: PlanSummary; shape: PromptShape } {
  const t0 = performance.now();
  const shapeFirsts = new Set<string>();
  const sized: number[] = [];
  for (let i = 0; i < lengths.length; i++) {
    if (lengths[i]! < 0) continue;
    shapeFirsts.add(lengths[i] === 0 ? '' : String.fromCharCode(firsts[i]!));
    sized.push(lengths[i]!);
  }
  sized.sort((a, b) => a - b);
  const plans = new ItemPlans(new Int32Array(lengths.length).fill(-1), contextSize, requested, kind, true);
  const budget = sized.length ? requested : null;
  return {
    plans,
    summary: { requested, contextSize, counted: 0, capped: 0, tooLong: 0, unknown: sized.length, minBudget: budget, maxBudget: budget, ms: performance.now() - t0 },
    shape: { firsts: shapeFirsts, medianChars: sized.length ? sized[Math.floor(sized.length / 2)]! : null },
  };
}

/** One prompt's count; a count that fails or hangs is null (the budget stays uncapped; the runners' after-the-fact checks still hold). */
async function countOne(runner: Runner, prompt: string, timeoutMs: number, outer?: AbortSignal): Promise<number | null> {
  const messages: ChatMessage[] = [{ role: 'user', content: prompt }];
  // One controller and one timer, both let go when the count is in: AbortSignal.timeout() and .any() per
  // prompt kept 100,000 timers and linked signals alive for 30 s each in a fast planning step.
  const ctl = new AbortController();
  const onOuter = () => ctl.abort(outer!.reason);
  if (outer?.aborted) return null;
  outer?.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      ctl.abort(new Error(`no count within ${timeoutMs} ms`));
      resolve(null);
    }, timeoutMs);
  });
  try {
    return await Promise.race([runner.countPromptTokens!(messages, ctl.signal).catch(() => null), timedOut]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/**
 * Runner kinds whose server refuses a request whose prompt and budget do not fit its context, and says so
 * (so nothing has to be counted before sending). vLLM: OpenAIServing._validate_input (serving_engine.py)
 * answers 400 "This model's maximum context length is L tokens. However, you requested P + M tokens (P in
 * the messages, M in the completion)" when prompt + max_tokens > max_model_len, before anything is
 * generated; runners/vllm.ts turns that into a prompt-too-long error. llama-server cuts or shifts the prompt
 * silently instead, and the in-process runners have no server: those are counted before the run.
 */
const SERVER_CHECKS_CONTEXT = new Set(['vllm']);

export function serverChecksContext(kind: string): boolean {
  return SERVER_CHECKS_CONTEXT.has(kind);
}

/**
 * A prompt the server refused (prompt-too-long) that was never counted: counted now, and planned as the
 * planning step would have planned it (the same budget cap, the same prompt-too-long when it alone fills
 * the context). Null when it cannot be counted: the server's refusal stands.
 */
export async function recountRefused(runner: Runner, prompt: string, plan: PromptPlan, signal?: AbortSignal): Promise<PromptPlan | null> {
  if (plan.budget.promptTokens !== null || !runner.countPromptTokens) return null;
  const n = await countOne(runner, prompt, 30_000, signal);
  return n === null ? null : planOne(n, plan.budget.contextSize, plan.budget.requested, runner.kind);
}

export function planOne(promptTokens: number | null, contextSize: number | null, requested: number, kind: string): PromptPlan {
  const budget: ItemBudget = { maxTokens: requested, requested, promptTokens, contextSize };
  if (promptTokens === null || contextSize === null) return { budget, tooLong: null };
  const room = contextSize - promptTokens - 1;
  if (room < 1) {
    return {
      budget: { ...budget, maxTokens: 0 },
      tooLong: `the prompt takes ${promptTokens} tokens and the context holds ${contextSize} (one kept free): no room to generate, ` +
        `and the engine would cut or shift the prompt; raise ${contextSetting(kind)} or shorten the prompt`,
    };
  }
  return { budget: { ...budget, maxTokens: Math.min(requested, room) }, tooLong: null };
}
