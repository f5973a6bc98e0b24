// The gate's Markdown summary: printed to stdout and appended to $GITHUB_STEP_SUMMARY, so it must read
// well both as plain text in a log and rendered on a workflow run's page. Run labels and folders are
// untrusted text: they go into table cells only through `cell` (a "<" that could open an HTML tag is
// escaped; "p < 0.05" stays readable in a log; control characters and lone surrogates become U+FFFD).
import { formatBytes } from '../metrics/units.js';
import type { CheckStatus, GateCheck, GateResult } from './gate.js';

const STATUS: Record<CheckStatus, string> = { pass: '✅ pass', warn: '⚠️ warn', fail: '❌ fail' };

/** Text for a Markdown table cell or paragraph: no pipes, newlines, backticks or tags can break out. */
function cell(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\uFFFD')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/`/g, "'")
    .replace(/<(?=[A-Za-z/!?])/g, '&lt;');
}

const signed = (x: number, digits = 1) => (x > 0 ? '+' : '') + x.toFixed(digits);

function measured(c: GateCheck): string {
  if (c.id === 'run-status' || c.id === 'journal') return cell(c.detail ?? '');
  if (c.id === 'coverage') return `${c.measured!.toFixed(1)}% (${cell(c.detail ?? '')})`;
  if (c.measured === null) return 'not measurable';
  switch (c.id) {
    case 'accuracy':
      return `${signed(c.measured)} pts (${(c.baselineValue! * 100).toFixed(1)}% → ${(c.currentValue! * 100).toFixed(1)}%)`;
    case 'error-rate':
      return `${c.measured.toFixed(1)}%`;
    case 'latency':
      return `${signed(c.measured)}% (${c.baselineValue!.toFixed(1)} → ${c.currentValue!.toFixed(1)} ms)`;
    case 'memory':
      return `${signed(c.measured)}% (${formatBytes(c.baselineValue)} → ${formatBytes(c.currentValue)})`;
  }
  return '';
}

function interval(c: GateCheck): string {
  if (!c.interval) return '—';
  const unit = c.unit === 'points' ? '' : '%';
  const show = c.id === 'error-rate' ? (x: number) => x.toFixed(1) : (x: number) => signed(x);
  return `[${show(c.interval.lower)}${unit}, ${show(c.interval.upper)}${unit}]`;
}

function pCell(c: GateCheck): string {
  if (c.p === null) return '—';
  return c.p < 0.001 ? '<0.001' : Number(c.p.toPrecision(3)).toString();
}

function allowed(c: GateCheck, r: GateResult): string {
  switch (c.id) {
    case 'accuracy':
      return `drop ≤ ${c.threshold.toFixed(1)} pts`;
    case 'error-rate':
      return `≤ ${c.threshold.toFixed(1)}%`;
    case 'coverage':
      return `≥ ${c.threshold.toFixed(1)}%`;
    case 'run-status':
      return r.settings.allowPartial ? 'any (--allow-partial)' : 'finished';
    case 'journal':
      return 'no mismatch';
    default:
      return `increase ≤ ${c.threshold.toFixed(1)}%`;
  }
}

function runName(side: GateResult['baseline']): string {
  // Not a code span: escapes are not honoured inside one.
  return `"${cell(side.label)}"${side.folder ? ` (${cell(side.folder)})` : ''}`;
}

export function renderGateMarkdown(r: GateResult): string {
  const warned = r.checks.some((c) => c.status === 'warn');
  const head = r.verdict === 'fail' ? '❌ FAIL' : warned ? '✅ PASS (with warnings)' : '✅ PASS';
  const conf = Math.round(r.settings.confidence * 100);
  const lines: string[] = [
    `## medeval gate: ${head}`,
    '',
    `**Why:** ${cell(r.summary)}`,
    '',
    `Baseline ${runName(r.baseline)} vs current ${runName(r.current)}: ` +
      (r.pairing === 'paired'
        ? `paired on ${r.counts.itemsInCommon} questions scored in both runs`
        : `unpaired (not the same questions: ${r.counts.itemsInCommon} in common)`) +
      `; ${conf}% intervals, seed ${r.settings.seed}.`,
    '',
    `| Check | Result | Measured (current vs baseline) | ${conf}% interval | p | Allowed |`,
    '|---|---|---|---|---|---|',
    ...r.checks.map((c) => `| ${cell(c.name)} | ${STATUS[c.status]} | ${measured(c)} | ${interval(c)} | ${pCell(c)} | ${allowed(c, r)} |`),
    '',
    ...r.checks.map((c) => `- **${cell(c.name)}** (${c.status}): ${cell(c.reason)}`),
    '',
  ];
  if (r.pairing === 'paired') {
    const k = r.counts;
    lines.push(`Flips on the ${k.itemsInCommon} common questions: ${k.rightToWrong} right→wrong, ${k.wrongToRight} wrong→right, ${k.bothRight} both right, ${k.bothWrong} both wrong.`, '');
  }
  lines.push(
    `Current run: ${r.current.requests} requests, ${r.current.errors} failed; baseline: ${r.baseline.requests} requests, ${r.baseline.errors} failed.`,
    '',
  );
  if (r.warnings.length) {
    lines.push('### Warnings', '', ...r.warnings.map((w) => `- ${cell(w)}`), '');
  }
  lines.push('<details><summary>Gate rules</summary>', '', ...r.rules.map((x) => `- ${x}`), '', '</details>', '');
  return lines.join('\n');
}
