// A paper's claims and how each is checked against a baseline-vs-compressed comparison.
//
// Verdict rule (one rule for every claim; documented in docs/report-schema.md). Let [lo, hi] be the
// measured 95% interval, c the claimed value and t the tolerance (a practical-equivalence margin
// stated next to the claim):
//   at-least  threshold c - t:  supported if lo >= c - t; not supported if hi < c - t; else inconclusive
//   at-most   threshold c + t:  supported if hi <= c + t; not supported if lo > c + t; else inconclusive
//   equal     band [c-t, c+t]:  supported if [lo, hi] lies inside the band; not supported if the two do
//                               not overlap; else inconclusive
// "inconclusive" means the interval straddles the threshold: more items (or repeats) are needed.
// "not measurable" means a figure the claim needs is missing (no memory report, latency not measured
// at batch size 1, a run on another dataset); the reason says which.
import { z } from 'zod';
import { readYamlFile } from '../core/yaml-config.js';
import type { ClaimCheck, ClaimDirection, Interval, LatencyMetric, MemoryPartName, PairComparison, RunReport, Verdict } from './model.js';
import { LATENCY_METRICS, MEMORY_PARTS } from './model.js';

const percent = z.number().min(-1000).max(1000);

const common = {
  id: z.string().min(1),
  /** The claim as the paper words it. */
  statement: z.string().min(1),
  /** The claimed value in percent, as the paper prints it (92.1 for 92.1%). */
  claimedPercent: percent,
  /** Practical-equivalence margin in percentage points. */
  tolerancePoints: z.number().min(0).max(100).default(0),
  direction: z.enum(['at-least', 'at-most', 'equal']).default('at-least'),
};

export const claimSpecSchema = z.discriminatedUnion('metric', [
  z.strictObject({
    ...common,
    /** Absolute accuracy of the compressed model (pass@1 with several samples). */
    metric: z.literal('accuracy'),
    /** Suite names the claim is about; a run of another suite makes the claim "not measurable". */
    suites: z.array(z.string().min(1)).optional(),
  }),
  z.strictObject({
    ...common,
    /** 1 - compressed/baseline of one memory part. */
    metric: z.literal('memory-reduction'),
    part: z.enum(MEMORY_PARTS as unknown as [MemoryPartName, ...MemoryPartName[]]).default('weights'),
  }),
  z.strictObject({
    ...common,
    /** 1 - mean(compressed)/mean(baseline) of one latency metric. */
    metric: z.literal('latency-reduction'),
    latency: z.enum(LATENCY_METRICS as unknown as [LatencyMetric, ...LatencyMetric[]]).default('e2eMs'),
    /** The paper's latency is per request at batch size 1: refuse runs under concurrent load. */
    requireBatchSizeOne: z.boolean().default(true),
  }),
]);
export type ClaimSpec = z.infer<typeof claimSpecSchema>;
export type ClaimSpecInput = z.input<typeof claimSpecSchema>;

/** The experiment file's claims section (other top-level keys belong to other readers). */
export const claimsFileSchema = z.looseObject({ claims: z.array(claimSpecSchema).min(1) });

/** Read the `claims:` section of an experiment file (suites/paper.yaml), errors with file:line. */
export async function loadClaims(file: string): Promise<ClaimSpec[]> {
  return (await readYamlFile(file, claimsFileSchema, 'experiment file (claims section)')).claims;
}

export function parseClaims(specs: readonly ClaimSpecInput[]): ClaimSpec[] {
  return specs.map((s) => claimSpecSchema.parse(s));
}

/** Zhang & Qin's three claims, read the way suites/paper.yaml states them. */
export const PAPER_CLAIMS: ClaimSpec[] = parseClaims([
  {
    id: 'accuracy', metric: 'accuracy', claimedPercent: 92.1, tolerancePoints: 2, direction: 'at-least',
    statement: '92.1% accuracy on USMLE (MedQA US test) for the compressed model',
    suites: ['medqa-usmle-5', 'medqa-usmle-4'],
  },
  {
    id: 'memory', metric: 'memory-reduction', part: 'weights', claimedPercent: 64.7, tolerancePoints: 2, direction: 'at-least',
    statement: '64.7% less memory than the baseline',
  },
  {
    id: 'latency', metric: 'latency-reduction', latency: 'e2eMs', claimedPercent: 12.4, tolerancePoints: 2, direction: 'at-least',
    requireBatchSizeOne: true, statement: '12.4% lower inference latency than the baseline',
  },
]);

export function verdictRule(direction: ClaimDirection, claimed: number, tolerance: number): string {
  const f = (x: number) => `${round(x * 100)}%`;
  if (direction === 'at-least') {
    return `supported if the 95% interval's lower bound >= ${f(claimed - tolerance)} (claim ${f(claimed)} minus ${round(tolerance * 100)} points); not supported if its upper bound < ${f(claimed - tolerance)}; inconclusive otherwise`;
  }
  if (direction === 'at-most') {
    return `supported if the 95% interval's upper bound <= ${f(claimed + tolerance)} (claim ${f(claimed)} plus ${round(tolerance * 100)} points); not supported if its lower bound > ${f(claimed + tolerance)}; inconclusive otherwise`;
  }
  return `supported if the 95% interval lies within ${f(claimed - tolerance)}..${f(claimed + tolerance)}; not supported if it lies wholly outside; inconclusive otherwise`;
}

/** Apply the verdict rule to an interval (fractions). */
export function decideVerdict(measured: Interval, claimed: number, tolerance: number, direction: ClaimDirection): { verdict: Verdict; reason: string } {
  // Compare at 12 decimals so a value exactly on the threshold is not lost to the rounding of c - t.
  const r12 = (x: number) => Math.round(x * 1e12) / 1e12;
  const lo = r12(measured.lower), hi = r12(measured.upper);
  const f = (x: number) => `${round(x * 100)}%`;
  const ci = measured.lower === measured.upper ? `${f(measured.estimate)} (exact)` : `${f(measured.estimate)} [${f(measured.lower)}, ${f(measured.upper)}]`;
  if (!Number.isFinite(measured.lower) || !Number.isFinite(measured.upper)) {
    return { verdict: 'not measurable', reason: 'the interval could not be computed (too few samples)' };
  }
  if (direction === 'at-least') {
    const t = r12(claimed - tolerance);
    if (lo >= t) return { verdict: 'supported', reason: `measured ${ci}: the whole interval is at or above ${f(t)}` };
    if (hi < t) return { verdict: 'not supported', reason: `measured ${ci}: the whole interval is below ${f(t)}` };
    return { verdict: 'inconclusive', reason: `measured ${ci} straddles ${f(t)}: more items or repeats are needed` };
  }
  if (direction === 'at-most') {
    const t = r12(claimed + tolerance);
    if (hi <= t) return { verdict: 'supported', reason: `measured ${ci}: the whole interval is at or below ${f(t)}` };
    if (lo > t) return { verdict: 'not supported', reason: `measured ${ci}: the whole interval is above ${f(t)}` };
    return { verdict: 'inconclusive', reason: `measured ${ci} straddles ${f(t)}: more items or repeats are needed` };
  }
  const a = r12(claimed - tolerance), b = r12(claimed + tolerance);
  if (lo >= a && hi <= b) return { verdict: 'supported', reason: `measured ${ci} lies within ${f(a)}..${f(b)}` };
  if (hi < a || lo > b) return { verdict: 'not supported', reason: `measured ${ci} lies outside ${f(a)}..${f(b)}` };
  return { verdict: 'inconclusive', reason: `measured ${ci} overlaps the edge of ${f(a)}..${f(b)}: more items or repeats are needed` };
}

export interface ClaimContext {
  comparison: PairComparison | null;
  baseline: RunReport | null;
  compressed: RunReport | null;
}

/** Check every claim against one comparison (the first baseline/compressed pair of the report). */
export function checkClaims(specs: readonly ClaimSpec[], ctx: ClaimContext): ClaimCheck[] {
  return specs.map((spec) => checkClaim(spec, ctx));
}

const LATENCY_NAMES: Record<LatencyMetric, string> = {
  ttftMs: 'time to first token (TTFT)',
  ttfoMs: 'time to first answer token (TTFO)',
  tpotMs: 'time per output token (TPOT)',
  itlMs: 'inter-token latency (ITL)',
  e2eMs: 'end-to-end latency (E2EL)',
};

function checkClaim(spec: ClaimSpec, ctx: ClaimContext): ClaimCheck {
  const claimed = spec.claimedPercent / 100;
  const tolerance = spec.tolerancePoints / 100;
  const base = {
    id: spec.id,
    statement: spec.statement,
    claimed,
    tolerance,
    direction: spec.direction,
    // Every claim kind here is a relative figure (accuracy, memory reduction, latency reduction).
    unit: 'fraction' as const,
    rule: verdictRule(spec.direction, claimed, tolerance),
    baseline: ctx.baseline?.id ?? null,
    compressed: ctx.compressed?.id ?? null,
  };
  const notMeasurable = (definition: string, reason: string, supporting: ClaimCheck['supporting'] = []): ClaimCheck => ({
    ...base, definition, measured: null, verdict: 'not measurable', reason, supporting,
  });
  const judged = (definition: string, measured: Interval, supporting: ClaimCheck['supporting']): ClaimCheck => ({
    ...base, definition, measured, ...decideVerdict(measured, claimed, tolerance, spec.direction), supporting,
  });

  if (spec.metric === 'accuracy') {
    const definition = 'absolute accuracy of the compressed model on its suite: correct / scored answers ' +
      '(pass@1 over samples when several), 95% Wilson interval (bootstrap over questions with several samples); ' +
      'retention (compressed / baseline accuracy on the common questions) shown beside it, since the wording allows both readings';
    const run = ctx.compressed;
    if (!run) return notMeasurable(definition, 'no compressed run in this report');
    const supporting: ClaimCheck['supporting'] = [];
    const cmp = ctx.comparison;
    if (cmp?.retention) supporting.push({ label: 'retention (compressed / baseline accuracy)', value: cmp.retention.estimate, unit: 'fraction', interval: cmp.retention });
    if (ctx.baseline?.accuracy.overall.accuracy) supporting.push({ label: 'baseline accuracy', value: ctx.baseline.accuracy.overall.accuracy.estimate, unit: 'fraction', interval: ctx.baseline.accuracy.overall.accuracy });
    if (cmp?.accuracyDifference) supporting.push({ label: 'accuracy difference (compressed - baseline)', value: cmp.accuracyDifference.estimate, unit: 'fraction', interval: cmp.accuracyDifference });
    if (cmp?.mcnemar) supporting.push({ label: 'McNemar exact p', value: cmp.mcnemar.exactP, unit: 'p-value' });
    supporting.push({ label: 'scored answers', value: run.accuracy.overall.scored, unit: 'count' });
    if (spec.suites && !spec.suites.includes(run.suite.name)) {
      return notMeasurable(definition, `the compressed run used suite "${run.suite.name}", the claim is about ${spec.suites.join(' / ')}`, supporting);
    }
    const acc = run.accuracy.overall.accuracy;
    if (!acc) return notMeasurable(definition, 'no scored answers in the compressed run', supporting);
    return judged(definition, acc, supporting);
  }

  if (spec.metric === 'memory-reduction') {
    const definition = `memory reduction of the ${spec.part} part: 1 - compressed/baseline bytes ` +
      '(one measurement per run: the interval is the point); every other part shown beside it';
    const cmp = ctx.comparison;
    if (!cmp) return notMeasurable(definition, 'no baseline/compressed comparison in this report');
    const supporting: ClaimCheck['supporting'] = cmp.memory
      .filter((m) => m.part !== spec.part)
      .map((m) => ({ label: `${m.part} reduction`, value: m.reduction, unit: 'fraction' as const }));
    const part = cmp.memory.find((m) => m.part === spec.part);
    if (!part || part.reduction === null) {
      return notMeasurable(definition, `${spec.part} memory is not available for ${part?.baselineBytes == null ? 'the baseline' : 'the compressed model'}${part?.note ? ` (${part.note})` : ''}`, supporting);
    }
    return judged(definition, { estimate: part.reduction, lower: part.reduction, upper: part.reduction, confidence: 1, method: 'exact' }, supporting);
  }

  const metricName = LATENCY_NAMES[spec.latency];
  const definition = `latency reduction: 1 - mean(compressed)/mean(baseline) of per-request ${metricName}` +
    `${spec.requireBatchSizeOne ? ' at batch size 1 (sequential requests)' : ''}, 95% bootstrap interval over requests ` +
    '(paired when both runs answered the same requests); TTFT, TPOT and percentiles shown beside it';
  const cmp = ctx.comparison;
  if (!cmp || !ctx.baseline || !ctx.compressed) return notMeasurable(definition, 'no baseline/compressed comparison in this report');
  const supporting: ClaimCheck['supporting'] = [];
  for (const r of cmp.latency) {
    if (r.metric !== spec.latency) supporting.push({ label: `${r.metric} mean reduction`, value: r.reduction.estimate, unit: 'fraction', interval: r.reduction });
  }
  for (const run of [ctx.baseline, ctx.compressed]) {
    const d = run.latency[spec.latency];
    if (d) {
      supporting.push({ label: `${run.id} ${spec.latency} p50`, value: d.p50, unit: 'ms' });
      supporting.push({ label: `${run.id} ${spec.latency} p99`, value: d.p99, unit: 'ms' });
    }
  }
  // Likelihood scoring generates nothing: its "latency" is prompt evaluation alone, not inference latency.
  const scoredByLikelihood = [ctx.baseline, ctx.compressed].find((r) => r.suite.scoring === 'likelihood');
  if (scoredByLikelihood) {
    return notMeasurable(definition, `run "${scoredByLikelihood.id}" was scored by likelihood: nothing was generated, so its times are prompt evaluation only`, supporting);
  }
  if (spec.requireBatchSizeOne) {
    const loaded = [ctx.baseline, ctx.compressed].filter((r) => !r.latency.batchSizeOne);
    if (loaded.length) {
      const l = loaded[0]!.latency.load;
      return notMeasurable(definition, `run "${loaded[0]!.id}" was measured under load (${l.profile}${l.concurrency ? `, concurrency ${l.concurrency}` : ''}${l.ratePerSecond ? `, ${l.ratePerSecond}/s` : ''}), not at batch size 1`, supporting);
    }
  }
  const red = cmp.latency.find((r) => r.metric === spec.latency);
  if (!red) return notMeasurable(definition, `no ${metricName} samples in one of the runs`, supporting);
  return judged(definition, red.reduction, supporting);
}

function round(x: number): string {
  return (Math.round(x * 100) / 100).toString();
}
