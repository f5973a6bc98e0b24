// JUnit XML for CI test reporters (GitHub, GitLab, Jenkins): one <testcase> per gate check, a
// <failure> with the reason for failing checks, the reason in <system-out> for the others. Every piece
// of text (run labels, folders, reasons) goes through escapeXml.
import { checkFails, type GateResult } from './gate.js';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' };

/** Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes text for XML content and quoted attributes; characters XML cannot hold become U+FFFD. */
export function escapeXml(text: unknown, inAttribute = false): string {
  const clean = String(text ?? '').replace(NOT_XML_CHAR, '\uFFFD');
  // Newlines and tabs survive in attributes only as character references (parsers normalise them).
  return clean.replace(inAttribute ? /[&<>"'\n\r\t]/g : /[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

const attr = (name: string, value: unknown) => `${name}="${escapeXml(value, true)}"`;

export function renderGateJUnit(r: GateResult): string {
  const failures = r.checks.filter((c) => checkFails(c, r.settings.failOnWarn)).length;
  const suiteName = `medeval gate: ${r.baseline.label} vs ${r.current.label}`;
  const counts = `${attr('tests', r.checks.length)} ${attr('failures', failures)} errors="0" skipped="0" time="0"`;
  const props: Array<[string, unknown]> = [
    ['verdict', r.verdict],
    ['summary', r.summary],
    ['pairing', r.pairing],
    ['baseline', r.baseline.folder ?? r.baseline.label],
    ['current', r.current.folder ?? r.current.label],
    ['itemsInCommon', r.counts.itemsInCommon],
    ['rightToWrong', r.counts.rightToWrong],
    ['wrongToRight', r.counts.wrongToRight],
    ['confidence', r.settings.confidence],
    ['seed', r.settings.seed],
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attr('name', 'medeval gate')} ${counts}>`,
    `  <testsuite ${attr('name', suiteName)} ${counts}>`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property ${attr('name', k)} ${attr('value', v)}/>`),
    '    </properties>',
  ];
  for (const c of r.checks) {
    const detail = [
      c.reason,
      c.detail !== undefined && c.measured === null ? `found: ${c.detail}` : `measured: ${c.measured === null ? 'not measurable' : `${c.measured.toFixed(3)} ${c.unit}`}${c.detail ? ` (${c.detail})` : ''}`,
      c.interval ? `interval (${Math.round(c.interval.confidence * 100)}%, ${c.interval.method}): [${c.interval.lower.toFixed(3)}, ${c.interval.upper.toFixed(3)}] ${c.unit}` : null,
      c.p !== null ? `p: ${c.p} (${c.test})` : null,
      c.detail !== undefined && c.measured === null ? null : `threshold: ${c.threshold} ${c.unit}`,
    ].filter((x): x is string => x !== null).join('\n');
    lines.push(`    <testcase ${attr('classname', 'medeval.gate')} ${attr('name', c.name)} time="0">`);
    if (checkFails(c, r.settings.failOnWarn)) {
      lines.push(`      <failure ${attr('message', c.reason)} ${attr('type', `gate.${c.id}`)}>${escapeXml(detail)}</failure>`);
    } else {
      lines.push(`      <system-out>${escapeXml(`${c.status.toUpperCase()}: ${detail}`)}</system-out>`);
    }
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
