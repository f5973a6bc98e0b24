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
  const count = async (prompt: string): Promise<number | null> => {
    if (!runner.countPromptTokens) return null;
    const messages: ChatMessage[] = [{ role: 'user', content: prompt }];
    const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    // A count that fails or hangs leaves the budget uncapped (the runners' after-the-fact checks still hold).
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      return await Promise.race([runner.countPromptTokens(messages, signal).catch(() => null), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
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
