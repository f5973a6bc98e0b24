// The gate's outputs: Markdown (stdout and $GITHUB_STEP_SUMMARY), JUnit XML (well-formed, hostile text
// escaped, one test case per check) and JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateGate, type GateResult } from '../../src/gate/gate.js';
import { escapeXml, renderGateJUnit } from '../../src/gate/junit.js';
import { renderGateMarkdown } from '../../src/gate/markdown.js';
import { appendStepSummary, writeGateJson, writeGateJUnit } from '../../src/gate/outputs.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { firstRight, tempRoot, withFlips, writeRun } from './runs.js';

const HOSTILE = `evil<script>alert(1)</script> & "dq" 'sq' ]]> | pipe \`tick\` \u0001bell\u0007 \ud800lone\nnewline`;

function failingResult(): GateResult {
  const root = join(tempRoot(), `folder <&"'>`);
  mkdirSync(root);
  const base = firstRight(200, 140);
  const b = writeRun(root, { label: 'base', outcomes: base, weightsBytes: 5e9 });
  const c = writeRun(root, { label: 'curr', outcomes: withFlips(base, 30, 10), weightsBytes: 5e9 });
  const current = readRunFolder(c);
  current.manifest.label = HOSTILE;
  return evaluateGate({ baseline: readRunFolder(b), current, maxAccuracyDropPoints: 2, maxMemoryIncreasePercent: 5, resamples: 500 });
}

const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

interface XmlElement { name: string; attrs: Record<string, string>; children: XmlElement[]; text: string }

function unescapeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'"
      : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)));
}

/** A strict little XML reader: throws on anything not well-formed (enough for what the gate writes). */
function parseXml(xml: string): XmlElement {
  if (NOT_XML_CHAR.test(xml)) throw new Error('character not allowed in XML');
  const checkRefs = (s: string) => {
    for (let i = s.indexOf('&'); i >= 0; i = s.indexOf('&', i + 1)) {
      ENTITY.lastIndex = i;
      if (!ENTITY.test(s)) throw new Error(`bare & at ${s.slice(i, i + 12)}`);
    }
  };
  let rest = xml.replace(/^<\?xml [^?]*\?>\s*/, '');
  const root: XmlElement = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /^(?:<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+))/;
  while (rest.length) {
    const m = token.exec(rest);
    if (!m) throw new Error(`not well-formed near: ${rest.slice(0, 40)}`);
    rest = rest.slice(m[0].length);
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      checkRefs(m[5]);
      top.text += unescapeXml(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      checkRefs(a[2]!);
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]!] = unescapeXml(a[2]!);
    }
    const el: XmlElement = { name: name!, attrs, children: [], text: '' };
    top.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  const elements = root.children;
  if (elements.length !== 1 || root.text.trim()) throw new Error('not exactly one root element');
  return elements[0]!;
}

describe('JUnit XML', () => {
  it('is well-formed, one test case per check, failures carry the reason, hostile text escaped', () => {
    const r = failingResult();
    const xml = renderGateJUnit(r);
    const doc = parseXml(xml);
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: String(r.checks.length), failures: '1' });
    const suite = doc.children[0]!;
    expect(suite.name).toBe('testsuite');
    const cases = suite.children.filter((e) => e.name === 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(r.checks.map((c) => c.name));
    const accuracy = cases.find((c) => c.attrs.name === 'accuracy (paired)')!;
    const failure = accuracy.children.find((e) => e.name === 'failure')!;
    expect(failure.attrs.message).toBe(r.checks[0]!.reason);
    expect(failure.attrs.message).toContain(' < 0.05');
    expect(failure.text).toContain('McNemar');
    const errorRate = cases.find((c) => c.attrs.name === 'failed requests (current run)')!;
    expect(errorRate.children.map((e) => e.name)).toEqual(['system-out']);
    expect(errorRate.children[0]!.text).toMatch(/^PASS: /);
    // The hostile label survives as text: markup characters escaped, newline kept, non-XML characters replaced.
    expect(suite.attrs.name).toBe(`medeval gate: base vs ${HOSTILE.replace(/[\u0001\u0007\ud800]/g, '\uFFFD')}`);
    expect(xml).not.toContain('<script>');
    const props = suite.children.find((e) => e.name === 'properties')!.children;
    expect(props.find((p) => p.attrs.name === 'current')!.attrs.value).toContain(`folder <&"'>`);
  });

  it('escapeXml leaves plain text alone and round-trips markup', () => {
    expect(escapeXml('plain text 1.5%')).toBe('plain text 1.5%');
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    expect(escapeXml('x\ny', true)).toBe('x&#10;y');
    expect(escapeXml('x\ny')).toBe('x\ny');
  });

  it('writes the file', () => {
    const r = failingResult();
    const file = join(tempRoot(), 'reports', 'gate.xml');
    writeGateJUnit(r, file);
    expect(parseXml(readFileSync(file, 'utf8')).name).toBe('testsuites');
  });
});

describe('Markdown summary and job summary', () => {
  it('says FAIL and why, one table row per check, hostile label cannot break the table', () => {
    const r = failingResult();
    const md = renderGateMarkdown(r);
    expect(md).toMatch(/^## medeval gate: ❌ FAIL\n/);
    expect(md).toContain(`**Why:** FAIL: accuracy fell 10.0 points`);
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Check'));
    expect(rows).toHaveLength(r.checks.length);
    for (const row of rows) expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(8);
    expect(rows[0]).toContain('❌ fail');
    expect(rows[0]).toContain('-10.0 pts (70.0% → 60.0%)');
    expect(md).toContain('30 right→wrong, 10 wrong→right');
    expect(md).not.toContain('<script>');
    expect(md).not.toMatch(/[\u0001\u0007\ud800]/);
    expect(md).toContain('Gate rules');
    expect(md).toContain('McNemar exact two-sided test');
  });

  it('appends to $GITHUB_STEP_SUMMARY, keeping what earlier steps wrote; no-op without it', () => {
    const file = join(tempRoot(), 'step-summary.md');
    writeFileSync(file, '# earlier step\n');
    const md = renderGateMarkdown(failingResult());
    expect(appendStepSummary(md, { GITHUB_STEP_SUMMARY: file })).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe('# earlier step\n' + md);
    expect(appendStepSummary(md, {})).toBeNull();
  });

  it('JSON output is the result, schema-tagged', () => {
    const r = failingResult();
    const file = join(tempRoot(), 'gate.json');
    writeGateJson(r, file);
    const back = JSON.parse(readFileSync(file, 'utf8'));
    expect(back).toMatchObject({ schema: 'medeval.gate/1', verdict: 'fail', pairing: 'paired' });
    expect(back.checks.map((c: { id: string }) => c.id)).toEqual(['accuracy', 'error-rate', 'memory', 'run-status', 'coverage', 'journal']);
    expect(back.checks[2]).toMatchObject({ id: 'memory', status: 'pass', measured: 0 });
  });
});
