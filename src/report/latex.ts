// table.tex: booktabs tables ready to \input{} into a paper (needs \usepackage{booktabs}). Every text
// that came from a dataset, a model or a label goes through escapeLatex.
import { ms, pct, pointsInterval, pValue } from './format.js';
import { LATENCY_TABLE, MEMORY_TABLE } from '../metrics/table.js';
import { BYTE_UNIT_POLICY, chooseByteUnit, formatBytes, type ByteUnit } from '../metrics/units.js';
import { leaderboardOf } from './leaderboard.js';
import type { ClaimCheck, Interval, LatencyMetric, ReportModel } from './model.js';
import { VERDICT_BRIEF, VERDICT_DEFINITIONS } from './claims.js';
import type { ReportWriter } from './writer.js';

const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  '$': '\\$',
  '#': '\\#',
  '_': '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

/** Characters outside plain ASCII that reach a label or reason, spelled so pdflatex needs no font for them. */
const LATEX_UNICODE: Record<string, string> = {
  '±': '$\\pm$',
  '→': '$\\to$',
  '−': '$-$',
  '×': '$\\times$',
  '≤': '$\\leq$',
  '≥': '$\\geq$',
  '…': '\\ldots{}',
  '–': '--',
  '—': '---',
  '↳': '',
};

/**
 * Escape text for LaTeX (text mode): specials replaced, newlines and control characters folded to spaces,
 * straight double quotes turned into TeX's opening and closing quotes (``x''), a few symbols spelled in TeX.
 */
export function escapeLatex(text: string): string {
  let open = false;
  return String(text)
    .replace(/[\r\n\t\u0000-\u001f]+/g, ' ')
    .replace(/[\\&%$#_{}~^<>|"±→−×≤≥…–—↳]/g, (c, at: number, whole: string) => {
      if (c !== '"') return LATEX_SPECIALS[c] ?? LATEX_UNICODE[c]!;
      // A quote opens at the start or after a space or bracket, and closes otherwise (or when one is open).
      const opens = !open && (at === 0 || /[\s([{]/.test(whole[at - 1]!));
      open = opens;
      return opens ? '``' : "''";
    });
}

const metricName = (m: LatencyMetric) => LATENCY_TABLE[m]?.short ?? m;
/** Memory in the one byte unit policy (metrics/units.ts): each cell carries its unit. */
const bytes = (b: number | null | undefined) => formatBytes(b);

/** Percent figures for LaTeX: "92.1\%". */
function p(x: number | null | undefined): string {
  return pct(x).replace('%', '\\%');
}

function interval(i: Interval | null | undefined): string {
  if (!i) return 'n/a';
  if (i.lower === i.upper && i.lower === i.estimate) return p(i.estimate);
  return `${p(i.estimate)} [${p(i.lower)}, ${p(i.upper)}]`;
}

type ClaimUnit = NonNullable<ClaimCheck['unit']>;

/** A claim's figure in its own unit (percent, ms or bytes), as the Markdown and HTML reports print it. */
function inUnit(x: number | null | undefined, unit: ClaimUnit): string {
  if (unit === 'ms') return x == null ? 'n/a' : `${ms(x)} ms`;
  if (unit === 'bytes') return bytes(x);
  return p(x);
}

function intervalInUnit(i: Interval | null | undefined, unit: ClaimUnit): string {
  if (unit === 'fraction') return interval(i);
  if (!i) return 'n/a';
  if (i.lower === i.upper && i.lower === i.estimate) return inUnit(i.estimate, unit);
  return `${inUnit(i.estimate, unit)} [${inUnit(i.lower, unit)}, ${inUnit(i.upper, unit)}]`;
}

/**
 * Defined once per file (\providecommand: a second \input keeps the first): typeset a tabular and, only when
 * it is wider than the column, scale it down to \columnwidth. Narrower tables keep their natural size.
 */
const FIT_MACRO = '\\providecommand{\\medevalfit}[1]{\\sbox0{#1}\\ifdim\\wd0>\\columnwidth\\resizebox{\\columnwidth}{!}{\\usebox0}\\else\\usebox0\\fi}';

interface TexTable {
  caption: string;
  label: string;
  /** Column spec without the outer @{} (added here). */
  columns: string;
  header: string[];
  rows: string[][];
  /** Abbreviations and notes, set below the table in footnote size, ragged right. */
  legend?: string[];
}

/** What each built-in claim measures, in a clause (the definitions are paragraphs). */
const CLAIM_QUANTITY: Record<string, string> = {
  accuracy: 'accuracy of the compressed model, Wilson interval',
  memory: 'memory reduction, 1 - compressed/baseline bytes, per part (one measurement: the interval is the point)',
  latency: 'latency reduction, 1 - mean(compressed)/mean(baseline) end-to-end latency at batch size 1, bootstrap interval',
};

/** A verdict in a narrow column: the smoke-test verdict in its first two words (the legend spells it out). */
const verdictTex = (v: string) => escapeLatex(v === 'smoke test: no evidence' ? 'smoke test' : v);

/** Rows end with \tabularnewline, so a ragged-right paragraph column may come last. */
function texTable(t: TexTable): string {
  const row = (cells: string[]) => `${cells.join(' & ')} \\tabularnewline`;
  return [
    '\\begin{table}[t]',
    '\\centering',
    '\\small',
    '\\setlength{\\tabcolsep}{4pt}',
    `\\caption{${t.caption}}`,
    `\\label{${t.label}}`,
    `\\medevalfit{\\begin{tabular}{@{}${t.columns}@{}}`,
    '\\toprule',
    row(t.header),
    '\\midrule',
    ...t.rows.map(row),
    '\\bottomrule',
    '\\end{tabular}}',
    ...(t.legend?.length ? ['\\par\\smallskip', `{\\raggedright\\footnotesize ${t.legend.join(' ')}\\par}`] : []),
    '\\end{table}',
    '',
  ].join('\n');
}

/**
 * A model label: escaped, and breakable after _ - / . so a long one wraps in its column instead of
 * overfilling it (\hspace{0pt} is glue: the piece after it may also be hyphenated, which TeX refuses a
 * word with no glue before it).
 */
function labelTex(text: string): string {
  return `\\hspace{0pt}${escapeLatex(text).replace(/(\\_|[-/.])(?=.)/g, '$1\\hspace{0pt}')}`;
}

/** A paragraph cell of a fraction of the column, ragged right (narrow columns justified would overfill). */
const para = (fraction: number) => `p{${fraction}\\columnwidth}`;
const ragged = (text: string) => `\\raggedright ${text}`;

/** "+0.0 pp [$-$8.3, +8.3]": an accuracy difference in percentage points (format.ts), minus signs typeset. */
function pointsTex(i: Interval | null | undefined): string {
  return pointsInterval(i).replace(/(^|[\s[])-(?=\d)/g, '$1$-$');
}

/** A reduction: "51.3\% less [49.4, 53.3]" (the bounds in the same unit). */
function reductionTex(i: Interval | null | undefined): string {
  if (!i) return 'n/a';
  if (i.lower === i.upper && i.lower === i.estimate) return `${p(i.estimate)} less`;
  const bare = (x: number) => pct(x).replace('%', '').replace(/^-/, '$-$');
  return `${p(i.estimate)} less [${bare(i.lower)}, ${bare(i.upper)}]`;
}

/** Accuracy with its interval, the bounds bare: "18.3 [10.6, 29.9]" under a header that says "\%". */
function accuracyTex(i: Interval | null | undefined): string {
  if (!i) return 'n/a';
  const bare = (x: number) => pct(x).replace('%', '');
  if (i.lower === i.upper && i.lower === i.estimate) return bare(i.estimate);
  return `${bare(i.estimate)} [${bare(i.lower)}, ${bare(i.upper)}]`;
}

export function renderLatex(model: ReportModel): string {
  const conf = `${Math.round(model.settings.confidence * 100)}\\%`;
  const out: string[] = [
    `% Generated by medeval (${model.schemaVersion}); needs \\usepackage{booktabs} and \\usepackage{graphicx}.`,
    `% Intervals: ${conf} (Wilson for accuracy, percentile bootstrap with seed ${model.settings.seed} otherwise).`,
    '% A table wider than the column is scaled down to \\columnwidth by \\medevalfit (defined below).',
    FIT_MACRO,
    '',
  ];
  // The leaderboard in two tables that each fit a column: accuracy per model, then what each costs.
  const board = leaderboardOf(model);
  const paired = board.rows.some((r) => r.role === 'compressed');
  const accRows = board.rows.map((r) => [
    ragged(labelTex(r.run)), escapeLatex(r.quantization ?? 'n/a'), accuracyTex(r.accuracy),
    ...(paired ? [r.retention ? pct(r.retention.estimate).replace('%', '') : '--',
      r.accuracyDifference ? pointsTex(r.accuracyDifference) : '--',
      r.mcnemarP === null ? '--' : `${pValue(r.mcnemarP)} (${pValue(r.mcnemarPHolm)})`] : []),
  ]);
  out.push(texTable({
    caption: paired ? 'Accuracy per model, each compressed model paired with its baseline.' : 'Accuracy per model.',
    label: 'tab:medeval-runs',
    columns: `${para(0.22)}lr${paired ? 'rrr' : ''}`,
    header: ['Model', 'Fmt', `Acc.\\ (\\%) [${conf}]`, ...(paired ? ['Ret.\\ (\\%)', `$\\Delta$ (pp) [${conf}]`, '$p$ (Holm)'] : [])],
    rows: accRows,
    legend: [`Fmt: weight format. Acc.: accuracy, ${conf} Wilson interval.`,
      ...(paired ? [`Ret.: retention, compressed / baseline accuracy on the common questions. $\\Delta$: accuracy difference, compressed $-$ baseline, in percentage points, paired bootstrap interval. $p$: McNemar exact, each pair alone (unadjusted); in brackets Holm-adjusted over the ${board.pAdjustment.pairs} pair(s). -- : the baseline.`] : [])],
  }));
  const costUnit = (values: Array<number | null>) => chooseByteUnit(Math.max(0, ...values.filter((v): v is number => v !== null)));
  const wUnit = costUnit(board.rows.map((r) => r.memory.weights));
  const pUnit = costUnit(board.rows.map((r) => r.memory.processPeak));
  const inUnitOf = (b: number | null, u: ByteUnit) => (b === null ? 'n/a' : (b / u.bytes).toFixed(2));
  out.push(texTable({
    caption: 'Memory and latency per model (medians per request).',
    label: 'tab:medeval-cost',
    columns: `${para(0.22)}rrrrr`,
    header: ['Model', `W (${wUnit.name})`, `Peak (${pUnit.name})`, metricName('ttftMs'), metricName('tpotMs'), metricName('e2eMs')],
    rows: board.rows.map((r) => [ragged(labelTex(r.run)), inUnitOf(r.memory.weights, wUnit), inUnitOf(r.memory.processPeak, pUnit),
      ms(r.latencyP50Ms.ttftMs), ms(r.latencyP50Ms.tpotMs), ms(r.latencyP50Ms.e2eMs)]),
    legend: [`W: ${escapeLatex(MEMORY_TABLE.weights.long)}; Peak: ${escapeLatex(MEMORY_TABLE.processPeak.long)} (${escapeLatex(BYTE_UNIT_POLICY)}).`,
      `${(['ttftMs', 'tpotMs', 'e2eMs'] as const).map((m) => `${metricName(m)}: ${LATENCY_TABLE[m].long}`).join('; ')} (median per request, ms).`],
  }));

  for (const [k, c] of model.comparisons.entries()) {
    const parts = c.memory.filter((m) => m.reduction !== null);
    const rows: string[][] = [
      ['Accuracy (\\%)', pct(c.baselineAccuracy).replace('%', ''), pct(c.compressedAccuracy).replace('%', ''), pointsTex(c.accuracyDifference)],
      ['Retention', '', '', interval(c.retention)],
      ['R$\\to$W / W$\\to$R', '', '', `${c.rightToWrong.length} / ${c.wrongToRight.length}`],
      ['McNemar $p$', '', '', c.mcnemar ? pValue(c.mcnemar.exactP) : 'n/a'],
      ...c.latency.map((l) => [`${metricName(l.metric)} (ms)`, ms(l.baselineMs), ms(l.compressedMs), reductionTex(l.reduction)]),
      ...parts.map((m) => [escapeLatex(MEMORY_TABLE[m.part]?.short ?? m.part), bytes(m.baselineBytes), bytes(m.compressedBytes), `${p(m.reduction)} less`]),
    ];
    const metrics = c.latency.map((l) => `${metricName(l.metric)}: ${LATENCY_TABLE[l.metric]?.long ?? l.metric}`).join('; ');
    out.push(texTable({
      caption: `Baseline ${labelTex(c.baseline)} vs compressed ${labelTex(c.compressed)} on ${c.itemsInCommon} common questions.`,
      label: `tab:medeval-pair-${k + 1}`,
      columns: 'lrrl',
      // Labels can be long: the caption names the models, the columns say which is which.
      header: ['', 'Baseline', 'Compressed', `Change [${conf} CI]`],
      rows,
      legend: [
        `Accuracy on the common questions; its change in percentage points (pp), paired bootstrap. Retention: compressed / baseline accuracy.`,
        `R$\\to$W / W$\\to$R: questions the baseline got right and the compressed model wrong, and the reverse. McNemar $p$: exact two-sided, this pair alone (unadjusted).`,
        ...(metrics ? [`${metrics} (mean per request; reduction = 1 $-$ compressed/baseline).`] : []),
        ...(parts.length ? [`${parts.map((m) => `${escapeLatex(MEMORY_TABLE[m.part]?.short ?? m.part)}: ${escapeLatex(MEMORY_TABLE[m.part]?.long ?? m.part)}`).join('; ')}.`] : []),
      ],
    }));
  }

  if (model.claims.length) {
    // Each claim's definition, rule and reason go to the legend, numbered, so the columns stay narrow.
    const claimed = (c: ClaimCheck) => `${inUnit(c.claimed, c.unit ?? 'fraction')}${c.tolerance ? ` $\\pm$ ${(c.unit ?? 'fraction') === 'fraction' ? `${(Math.round(c.tolerance * 1000) / 10).toFixed(1)} pp` : inUnit(c.tolerance, c.unit ?? 'fraction')}` : ''}`;
    const rows = model.claims.flatMap((c, k) => [
      [ragged(`(${k + 1}) ${escapeLatex(c.statement)}`), ragged(claimed(c)), ragged(intervalInUnit(c.measured, c.unit ?? 'fraction')), ragged(verdictTex(c.verdict))],
      ...(c.parts ?? []).map((part) => [ragged(`\\quad ${escapeLatex(MEMORY_TABLE[part.part]?.short ?? part.label)}`), '', ragged(intervalInUnit(part.measured, 'fraction')), ragged(verdictTex(part.verdict))]),
    ]);
    // The full definition, rule and reason of each claim and each verdict go in comments above the table
    // (report.md prints them too); the float keeps the measured quantity and the verdicts in brief.
    const comment = (text: string) => `% ${text.replace(/[\r\n]+/g, ' ')}`;
    out.push(
      ...model.claims.map((c, k) => comment(`(${k + 1}) ${c.statement}. Measured as ${c.definition}. Rule: ${c.rule}. ${c.reason}.`)),
      ...VERDICT_DEFINITIONS.map(([v, d]) => comment(`${v}: ${d}.`)),
    );
    const measuredAs = model.claims.map((c, k) => `(${k + 1}) ${escapeLatex(CLAIM_QUANTITY[c.id] ?? c.definition)}.`);
    const brief = VERDICT_BRIEF.map(([v, d]) => `\\textit{${escapeLatex(v)}}: ${escapeLatex(d)}`).join('; ');
    out.push(texTable({
      caption: `The paper's claims checked against the measurements (${conf} intervals).`,
      label: 'tab:medeval-claims',
      columns: `${para(0.36)}${para(0.16)}${para(0.19)}${para(0.19)}`,
      header: ['Claim', 'Claimed', 'Measured', 'Verdict'],
      rows,
      legend: [...measuredAs, `The band is claim $\\pm$ tolerance (a percentage claim's tolerance in percentage points, pp). Verdicts: ${brief} (shown as \\textit{smoke test}). Definitions and rules in full: report.md and the comments above this table.`],
    }));
  }
  return out.join('\n');
}

export const latexWriter: ReportWriter = {
  name: 'tex',
  description: 'table.tex, booktabs tables for a paper',
  files: ['table.tex'],
  render: (model) => [{ name: 'table.tex', content: renderLatex(model) }],
};
