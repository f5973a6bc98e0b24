// The leaderboard of a ladder: one row per model, each compressed model beside the baseline it was paired
// with (same items, same seed): accuracy with its Wilson interval, retention and the accuracy difference
// with their paired bootstrap intervals, McNemar's exact p (per pair, and Holm-adjusted over the ladder),
// the memory parts, median latencies and the claims' verdicts for its pair; and which models are on the
// Pareto frontier of accuracy against weights, peak memory and median E2EL. Pure: runs and comparisons in.
import { holmAdjust } from '../stats/holm.js';
import { isTinyOrSmokeRun } from './claims.js';
import { paretoFrontier } from './pareto.js';
import { FRONTIER_AXES, type ClaimCheck, type Leaderboard, type LeaderboardRow, type MemoryPartName, type PairComparison, type ReportModel, type RunReport } from './model.js';

export { FRONTIER_AXES, type FrontierAxis, type Leaderboard, type LeaderboardRow } from './model.js';

const byPart = (r: RunReport, part: MemoryPartName) => r.memory.find((m) => m.part === part)?.bytes ?? null;

export function buildLeaderboard(runs: readonly RunReport[], comparisons: readonly PairComparison[], claimsPerPair: ReadonlyArray<readonly ClaimCheck[]>): Leaderboard {
  const holm = holmAdjust(comparisons.map((c) => c.mcnemar?.exactP ?? null));
  const rows: LeaderboardRow[] = runs.map((r) => {
    const k = comparisons.findIndex((c) => c.compressed === r.id);
    const pair = k >= 0 ? comparisons[k]! : null;
    const isBaseline = comparisons.some((c) => c.baseline === r.id);
    return {
      run: r.id,
      label: r.label,
      quantization: r.model.quantization ?? null,
      role: pair ? 'compressed' : isBaseline ? 'baseline' : 'unpaired',
      baseline: pair?.baseline ?? null,
      scored: r.accuracy.overall.scored,
      accuracy: r.accuracy.overall.accuracy,
      itemsInCommon: pair?.itemsInCommon ?? null,
      retention: pair?.retention ?? null,
      accuracyDifference: pair?.accuracyDifference ?? null,
      mcnemarP: pair?.mcnemar?.exactP ?? null,
      mcnemarPHolm: k >= 0 ? holm[k] ?? null : null,
      memory: {
        weights: byPart(r, 'weights'),
        residentWeights: byPart(r, 'residentWeights'),
        processPeak: byPart(r, 'processPeak'),
        gpuProcessPeak: byPart(r, 'gpuProcessPeak'),
      },
      latencyP50Ms: { ttftMs: r.latency.ttftMs?.p50 ?? null, tpotMs: r.latency.tpotMs?.p50 ?? null, e2eMs: r.latency.e2eMs?.p50 ?? null },
      verdicts: k >= 0 ? (claimsPerPair[k] ?? []).map((c) => ({ claim: c.id, verdict: c.verdict })) : [],
      smokeTest: isTinyOrSmokeRun(r),
      chanceAccuracy: r.chanceAccuracy ?? null,
      frontier: { weights: false, processPeak: false, e2eMs: false },
    };
  });
  for (const axis of FRONTIER_AXES) {
    const cost = (row: LeaderboardRow) => (axis === 'e2eMs' ? row.latencyP50Ms.e2eMs : row.memory[axis]);
    paretoFrontier(rows.map((row) => ({ cost: cost(row), value: row.accuracy?.estimate ?? null }))).forEach((on, i) => (rows[i]!.frontier[axis] = on));
  }
  return { rows, pAdjustment: { method: 'holm', pairs: comparisons.filter((c) => c.mcnemar).length } };
}

/** The leaderboard's definitions in words, printed under it in every format. */
export const LEADERBOARD_DEFINITION =
  'Each compressed model is paired with its baseline on the questions both answered (same items, same seed). ' +
  'Accuracy: 95% Wilson interval over the run\'s scored answers. Retention: compressed / baseline accuracy; difference: compressed - baseline accuracy ' +
  'in percentage points; both with paired bootstrap intervals over the common questions. McNemar p: exact two-sided test of each pair on its own ' +
  '(unadjusted); Holm: the same p-values with Holm\'s step-down adjustment over every pair of the ladder. Latency: medians per request (ms). ' +
  'Frontier: not beaten by another model on accuracy and the cost at once (point estimates).';

/** The model's leaderboard, or one built from its runs and comparisons (a report.json from before it existed). */
export function leaderboardOf(model: Pick<ReportModel, 'leaderboard' | 'runs' | 'comparisons' | 'claims'>): Leaderboard {
  return model.leaderboard ?? buildLeaderboard(model.runs, model.comparisons, [model.claims]);
}
