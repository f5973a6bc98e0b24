// Likelihood scoring in the run loop (suites with `scoring: likelihood`): what it refuses before a model
// loads, and one question scored as the most likely option letter (no generation).
import { LIKELIHOOD_RUNNER_KINDS, type RunnerKind } from '../runners/registry.js';
import { InputError } from '../core/errors.js';
import { emptyOutcome, itemBase, type RenderedPrompt } from './item-record.js';
import type { LoadedSuite } from './suite.js';
import type { DatasetItem, ExtractedAnswer, ItemResult, Letter, Runner } from '../core/types.js';
import { recentRss } from '../metrics/process-memory.js';
import { latencyFigures } from '../metrics/table.js';

export function likelihoodRunnerError(kind: string): InputError {
  return new InputError(`scoring: likelihood needs next-token log-probabilities, which the "${kind}" runner does not give`,
    { field: 'scoring' }, `use a ${[...LIKELIHOOD_RUNNER_KINDS].join(' or ')} runner profile, or scoring: generate`);
}

/** Likelihood scoring is deterministic and in-process: say what does not fit before any model loads. */
export function checkLikelihoodSettings(suite: LoadedSuite, samples: number, runnerKind: string): void {
  if (suite.scoring !== 'likelihood') return;
  const where = { file: suite.file ?? undefined, field: 'scoring' };
  if (!LIKELIHOOD_RUNNER_KINDS.has(runnerKind as RunnerKind)) throw likelihoodRunnerError(runnerKind);
  if (suite.answerConstraint !== 'none') {
    throw new InputError('scoring: likelihood generates nothing, so answerConstraint has nothing to constrain', where, 'remove answerConstraint (or set it to none)');
  }
  if (samples > 1) {
    throw new InputError(`scoring: likelihood is deterministic: ${samples} samples per question would repeat the same answer`, where, 'use samples: 1 (and no --samples)');
  }
}

/** One question scored by likelihood: the most likely option letter after the prompt and the prefix. */
export async function runLikelihoodItem(
  runner: Runner,
  item: DatasetItem,
  sample: number,
  rendered: RenderedPrompt,
  prefix: string,
  dataset: string,
  signal: AbortSignal | undefined,
): Promise<ItemResult> {
  const base = itemBase(item, sample, rendered, dataset);
  try {
    const lp = await runner.letterLogprobs!({ messages: [{ role: 'user', content: rendered.prompt }], prefix, letters: Object.keys(item.options), signal, itemId: item.id });
    // The highest log-probability wins; a tie goes to the earlier letter (file order), never at random.
    let letter: Letter | null = null;
    for (const l of Object.keys(item.options) as Letter[]) {
      const v = lp.logprobs[l];
      if (v !== undefined && Number.isFinite(v) && (letter === null || v > lp.logprobs[letter]!)) letter = l;
    }
    // A letter with no figure (outside a server's top N) may only lose: the best known letter wins only
    // when it beats every such letter's upper bound.
    const unsure = Object.entries(lp.noFigure ?? {}).filter(([, bound]) => letter === null || bound >= lp.logprobs[letter]!).map(([l]) => l);
    let extracted: ExtractedAnswer;
    if (unsure.length > 0) {
      letter = null;
      extracted = { letter: null, status: 'unparseable', method: `likelihood (no figure for ${unsure.join(', ')}: outside the server's top log-probabilities, could be the best)`, answerText: '' };
    } else {
      extracted = letter
        ? { letter, status: 'answered', method: 'likelihood', answerText: '' }
        : { letter: null, status: 'unparseable', method: 'likelihood (no finite log-probability)', answerText: '' };
    }
    return {
      ...base,
      rawOutput: '',
      reasoning: null,
      extracted,
      correct: letter !== null && letter === item.answer,
      promptTokens: lp.promptTokens,
      outputTokens: 0,
      tokenSource: 'engine',
      finishReason: 'stop',
      // Nothing is generated: the time to the answer distribution is the whole request.
      timings: { startedAtEpochMs: lp.startedAtEpochMs, ...latencyFigures({ start: 0, firstText: lp.evalMs, firstAnswer: lp.evalMs, end: lp.evalMs, gaps: [], timedTokens: 0 }) },
      letterLogprobs: lp.logprobs,
      ...(lp.noFigure && Object.keys(lp.noFigure).length ? { letterNoFigure: lp.noFigure } : {}),
      ...(lp.prompt !== undefined ? { likelihoodPrompt: lp.prompt } : {}),
      rssBytes: recentRss(),
    };
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as Error & { kind?: string };
    const kind = signal?.aborted ? 'aborted' : (err.kind ?? err.name ?? 'error');
    return { ...base, ...emptyOutcome(), error: { kind, message: err.message ?? String(e) } };
  }
}
