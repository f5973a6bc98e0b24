// A paper's claims and how each is checked against a baseline-vs-compressed comparison.
//
// Verdict rule (one rule for every claim; documented in docs/report-schema.md and printed next to every
// claims table). Let [lo, hi] be the measured 95% interval, c the claimed value and t the tolerance (a
// practical-equivalence margin in percentage points stated next to the claim), and B = [c - t, c + t]:
//   reproduced      [lo, hi] lies within B
//   exceeded        [lo, hi] lies wholly beyond B on the side the claim calls better (above for
//                   at-least, below for at-most): better than claimed by more than the tolerance
//   not reproduced  [lo, hi] lies wholly beyond B on the other side (an equal claim: either side)
//   inconclusive    [lo, hi] overlaps an edge of B: more items or repeats are needed
//   not measurable  a figure the claim needs is missing (the reason says which)
// A smoke test (a smoke-test suite or a tiny random model on either side) gets no verdict at all:
// "smoke test: no evidence", with what the rule alone would say kept beside it.
import { z } from 'zod';
import { readYamlFile } from '../core/yaml-config.js';
import type { RunManifest } from '../core/types.js';
import type { ClaimCheck, ClaimDirection, ClaimPartCheck, Interval, LatencyMetric, MemoryPartName, PairComparison, RunReport, Verdict } from './model.js';
import { LATENCY_METRICS, MEMORY_PARTS } from './model.js';
import { LATENCY_TABLE, longWithShort, MEMORY_TABLE } from '../metrics/table.js';

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

/** What each verdict word means, printed next to every claims table (report.md, report.html, table.tex). */
export const VERDICT_DEFINITIONS: Array<[Verdict, string]> = [
  ['reproduced', 'the whole 95% interval lies within claim ± tolerance'],
  ['exceeded', 'the whole interval lies beyond claim ± tolerance on the side the claim calls better (above an "at least" claim, below an "at most" claim): the paper\'s figure is not reproduced, the measurement is better'],
  ['not reproduced', 'the whole interval lies beyond claim ± tolerance on the other side (for an "equal" claim: on either side)'],
  ['inconclusive', 'the interval overlaps an edge of claim ± tolerance: more items or repeats are needed to tell'],
  ['not measurable', 'a figure the claim needs is missing; the reason says which'],
  ['smoke test: no evidence', 'a run of the pair is a smoke test (smoke-test suite, tiny random model or scripted runner): its numbers check the pipeline and are no evidence for or against the claim; what the rule alone would say is kept beside it'],
];

/** The same verdicts in a few words each, for a paper table's legend (table.tex); the full text above is in its comments. */
export const VERDICT_BRIEF: Array<[Verdict, string]> = [
  ['reproduced', 'the whole interval lies within the band'],
  ['exceeded', 'wholly beyond the band on the side the claim calls better'],
  ['not reproduced', 'wholly beyond it on the other side'],
  ['inconclusive', 'the interval overlaps an edge of the band'],
  ['not measurable', 'a figure the claim needs is missing'],
  ['smoke test: no evidence', 'a run is a smoke test (tiny model, smoke-test suite or scripted runner); its numbers are no evidence'],
];

/** The tolerance in words: "± 2 points" (percentage points of the claimed percentage). */
export function toleranceText(tolerance: number): string {
  return `± ${(Math.round(tolerance * 1000) / 10).toFixed(1)} points`;
}

export function verdictRule(direction: ClaimDirection, claimed: number, tolerance: number): string {
  const f = (x: number) => `${round(x * 100)}%`;
  const band = `${f(claimed - tolerance)}..${f(claimed + tolerance)} (claim ${f(claimed)} ${toleranceText(tolerance)})`;
  const above = `wholly above ${f(claimed + tolerance)}`, below = `wholly below ${f(claimed - tolerance)}`;
  if (direction === 'at-least') {
    return `reproduced if the 95% interval lies within ${band}; exceeded if it lies ${above}; not reproduced if it lies ${below}; inconclusive otherwise`;
  }
  if (direction === 'at-most') {
    return `reproduced if the 95% interval lies within ${band}; exceeded if it lies ${below}; not reproduced if it lies ${above}; inconclusive otherwise`;
  }
  return `reproduced if the 95% interval lies within ${band}; not reproduced if it lies wholly outside; inconclusive otherwise`;
}

/** Apply the verdict rule to an interval (fractions). */
export function decideVerdict(measured: Interval, claimed: number, tolerance: number, direction: ClaimDirection): { verdict: Verdict; reason: string } {
  // Compare at 12 decimals so a value exactly on an edge is not lost to the rounding of c ± t.
  const r12 = (x: number) => Math.round(x * 1e12) / 1e12;
  const lo = r12(measured.lower), hi = r12(measured.upper);
  const f = (x: number) => `${round(x * 100)}%`;
  const ci = measured.lower === measured.upper ? `${f(measured.estimate)} (exact)` : `${f(measured.estimate)} [${f(measured.lower)}, ${f(measured.upper)}]`;
  if (!Number.isFinite(measured.lower) || !Number.isFinite(measured.upper)) {
    return { verdict: 'not measurable', reason: 'the interval could not be computed (too few samples)' };
  }
  const a = r12(claimed - tolerance), b = r12(claimed + tolerance);
  const band = `${f(a)}..${f(b)}`;
  if (lo >= a && hi <= b) return { verdict: 'reproduced', reason: `measured ${ci} lies within ${band}` };
  const times = claimed !== 0 ? ` (${round(measured.estimate / claimed)}x the claim)` : '';
  if (lo > b) {
    return direction === 'at-least'
      ? { verdict: 'exceeded', reason: `measured ${ci} lies wholly above ${band}${times}: better than claimed, but not the paper's figure` }
      : { verdict: 'not reproduced', reason: `measured ${ci} lies wholly above ${band}` };
  }
  if (hi < a) {
    return direction === 'at-most'
      ? { verdict: 'exceeded', reason: `measured ${ci} lies wholly below ${band}: better than claimed, but not the paper's figure` }
      : { verdict: 'not reproduced', reason: `measured ${ci} lies wholly below ${band}` };
  }
  return { verdict: 'inconclusive', reason: `measured ${ci} overlaps an edge of ${band}: more items or repeats are needed` };
}

export interface ClaimContext {
  comparison: PairComparison | null;
  baseline: RunReport | null;
  compressed: RunReport | null;
}

/** A smoke-test suite, a tiny random model or a scripted runner: numbers that test the pipeline, not the paper. */
export function isTinyOrSmokeRun(m: { suite: Pick<RunManifest['suite'], 'smokeTest'>; model: Pick<RunManifest['model'], 'extra' | 'modelPath'> }): boolean {
  const extra = m.model.extra ?? {};
  const name = `${String(extra.modelName ?? '')} ${m.model.modelPath ?? ''}`;
  return m.suite.smokeTest === true || extra.tinyRandom === true || extra.scripted === true || /medeval-tiny|tiny-llama|tiny[-_]random/i.test(name);
}

/** Check every claim against one comparison (the first baseline/compressed pair of the report). */
export function checkClaims(specs: readonly ClaimSpec[], ctx: ClaimContext): ClaimCheck[] {
  const smoke = [ctx.baseline, ctx.compressed].filter((r): r is RunReport => r !== null && isTinyOrSmokeRun(r));
  const why = smoke.length
    ? `smoke test (${smoke.map((r) => `run "${r.id}": ${r.suite.smokeTest ? `smoke-test suite "${r.suite.name}"` : r.model.extra?.scripted === true ? 'scripted runner (no model ran)' : 'tiny random model'}`).join('; ')}): no evidence about the claim`
    : null;
  return specs.map((spec) => {
    const c = checkClaim(spec, ctx);
    return why ? asSmokeTest(c, why) : c;
  });
}

/** A smoke test's claim row: no verdict; what the rule alone would say is kept in ruleOutcome and the reason. */
function asSmokeTest(c: ClaimCheck, why: string): ClaimCheck {
  const parts = c.parts?.map((p) => ({ ...p, verdict: SMOKE, ruleOutcome: p.verdict, reason: `the rule alone: ${p.verdict}; ${p.reason}` }));
  return { ...c, verdict: SMOKE, ruleOutcome: c.verdict, reason: `${why}; the rule alone would say "${c.verdict}": ${c.reason}`, ...(parts ? { parts } : {}) };
}
const SMOKE = 'smoke test: no evidence' as const;

/** "end-to-end latency (E2EL)": each metric's long name with its abbreviation, from the metric table. */
const LATENCY_NAMES = Object.fromEntries(LATENCY_METRICS.map((m) => [m, longWithShort(LATENCY_TABLE[m])])) as Record<LatencyMetric, string>;

/** Memory parts a memory claim is judged on, each on its own; device-wide GPU memory counts other processes. */
const JUDGED_MEMORY_PARTS: readonly MemoryPartName[] = MEMORY_PARTS.filter((p) => p !== 'gpuDevice');
export const MEMORY_PART_NAMES = Object.fromEntries(MEMORY_PARTS.map((p) => [p, MEMORY_TABLE[p].long])) as Record<MemoryPartName, string>;

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
  const notMeasurable = (definition: string, reason: string, supporting: ClaimCheck['supporting'] = [], extra: Partial<ClaimCheck> = {}): ClaimCheck => ({
    ...base, definition, measured: null, verdict: 'not measurable', reason, supporting, ...extra,
  });
  const judged = (definition: string, measured: Interval, supporting: ClaimCheck['supporting'], extra: Partial<ClaimCheck> = {}): ClaimCheck => ({
    ...base, definition, measured, ...decideVerdict(measured, claimed, tolerance, spec.direction), supporting, ...extra,
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
    if (cmp?.accuracyDifference) supporting.push({ label: 'accuracy difference (compressed - baseline)', value: cmp.accuracyDifference.estimate, unit: 'points', interval: cmp.accuracyDifference });
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
    const definition = `memory reduction, 1 - compressed/baseline bytes, judged on each measured part on its own ` +
      `(one measurement per run: the interval is the point); the verdict shown for the claim is the ${MEMORY_PART_NAMES[spec.part]} part's, ` +
      'as the claim file names it; every part\'s verdict is listed under it';
    const cmp = ctx.comparison;
    if (!cmp) return notMeasurable(definition, 'no baseline/compressed comparison in this report');
    const parts: ClaimPartCheck[] = JUDGED_MEMORY_PARTS.map((name) => {
      const m = cmp.memory.find((x) => x.part === name);
      const label = MEMORY_PART_NAMES[name];
      const common = { part: name, label, baselineBytes: m?.baselineBytes ?? null, compressedBytes: m?.compressedBytes ?? null };
      if (!m || m.reduction === null) {
        const side = m?.baselineBytes == null ? 'the baseline' : 'the compressed model';
        return { ...common, measured: null, verdict: 'not measurable' as const, reason: `not available for ${side}${m?.note ? ` (${m.note})` : ''}` };
      }
      const measured: Interval = { estimate: m.reduction, lower: m.reduction, upper: m.reduction, confidence: 1, method: 'exact' };
      return { ...common, measured, ...decideVerdict(measured, claimed, tolerance, spec.direction) };
    });
    const basis = `${spec.part}: ${MEMORY_PART_NAMES[spec.part]}`;
    const main = parts.find((p) => p.part === spec.part);
    if (!main || main.measured === null) {
      return notMeasurable(definition, `${spec.part} memory is ${main?.reason ?? 'not available'}`, [], { parts, basis });
    }
    return judged(definition, main.measured, [], { parts, basis });
  }

  const metricName = LATENCY_NAMES[spec.latency];
  const definition = `latency reduction: 1 - mean(compressed)/mean(baseline) of per-request ${metricName}` +
    `${spec.requireBatchSizeOne ? ' at batch size 1 (sequential requests)' : ''}, 95% bootstrap interval over requests ` +
    '(paired when both runs answered the same requests); TTFT, TPOT and percentiles shown beside it';
  const cmp = ctx.comparison;
  if (!cmp || !ctx.baseline || !ctx.compressed) return notMeasurable(definition, 'no baseline/compressed comparison in this report');
  const supporting: ClaimCheck['supporting'] = [];
  for (const r of cmp.latency) {
    if (r.metric !== spec.latency) supporting.push({ label: `${LATENCY_TABLE[r.metric].short} mean reduction`, value: r.reduction.estimate, unit: 'fraction', interval: r.reduction });
  }
  for (const run of [ctx.baseline, ctx.compressed]) {
    const d = run.latency[spec.latency];
    if (d) {
      supporting.push({ label: `${run.id} ${LATENCY_TABLE[spec.latency].short} p50`, value: d.p50, unit: 'ms' });
      supporting.push({ label: `${run.id} ${LATENCY_TABLE[spec.latency].short} p99`, value: d.p99, unit: 'ms' });
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
