import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS, parseClaims } from '../../src/report/claims.js';
import { csvField, renderResultsCsv, renderSummaryCsv } from '../../src/report/csv.js';
import { parseReportJson, renderJson } from '../../src/report/json.js';
import { escapeLatex, renderLatex } from '../../src/report/latex.js';
import { escapeMarkdown, renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import type { ClaimCheck } from '../../src/report/model.js';
import { fixtureReportModel } from './fixtures/report-model.js';
import { claimsTable } from '../../src/cli/console-summary.js';
import { reportFromRunFolders, writeReports } from '../../src/report/write.js';
import { itemResult, loadedRun, manifest, memoryReport } from '../fixtures/runs/synthetic.js';

const HOSTILE = 'x|y "q" a\nb & 100% $5 #1 _u_ {b} ~t ^c \\d <e>`';
const FIXTURES = join(import.meta.dirname, '../fixtures/runs');

/** Minimal RFC 4180 parser for the round-trip check. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else field += ch;
  }
  return rows;
}

function hostileModel() {
  const results = [
    itemResult({ itemId: HOSTILE, step: 'step|1', gold: 'A', letter: 'A', question: `=cmd ${HOSTILE}` }),
    itemResult({ itemId: 'plain', gold: 'B', letter: 'C', cached: true }),
    itemResult({ itemId: '=HYPERLINK("x")', gold: 'B', letter: 'B' }),
  ];
  const flipped = [
    itemResult({ itemId: HOSTILE, step: 'step|1', gold: 'A', letter: 'B' }),
    itemResult({ itemId: 'plain', gold: 'B', letter: 'B' }),
    itemResult({ itemId: '=HYPERLINK("x")', gold: 'B', letter: 'B' }),
  ];
  const runs = [
    loadedRun(manifest(`base ${HOSTILE}`, { memory: memoryReport(1000, 2000) }), results),
    loadedRun(manifest('comp_4bit', { memory: memoryReport(400, 900) }), flipped),
  ];
  return buildReport({ runs, resamples: 100, claims: parseClaims(PAPER_CLAIMS.map((c) => ({ ...c, statement: `${c.statement} ${HOSTILE}` }))) });
}

describe('escaping', () => {
  it('Markdown: one line, pipes and markup escaped', () => {
    const e = escapeMarkdown(HOSTILE);
    expect(e).not.toMatch(/\n/);
    expect(e).not.toMatch(/(^|[^\\])\|/);
    expect(e).toContain('\\_u\\_');
    expect(e).toContain('\\<e>');
    expect(e).toContain('\\`');
    expect(escapeMarkdown('a &amp; b & c')).toBe('a \\&amp; b & c');
  });

  it('CSV: RFC 4180 quoting and the formula guard', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField(-5)).toBe('-5');
    expect(csvField(null)).toBe('');
    expect(csvField(NaN)).toBe('');
  });

  it('LaTeX: every special escaped, newlines folded', () => {
    expect(escapeLatex('& % $ # _ { } ~ ^ \\')).toBe('\\& \\% \\$ \\# \\_ \\{ \\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}');
    expect(escapeLatex('a\nb')).toBe('a b');
    expect(escapeLatex('a|b<c>')).toBe('a\\textbar{}b\\textless{}c\\textgreater{}');
  });
});

describe('renderers on hostile labels and item ids', () => {
  const model = hostileModel();

  it('report.md keeps every table row intact', () => {
    const md = renderMarkdown(model);
    expect(md.indexOf('## Claims')).toBeLessThan(md.indexOf('## Accuracy'));
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) {
      const cells = line.replace(/\\\|/g, '').split('|').length;
      const header = md.split('\n').find((l) => l.startsWith('| ') && md.indexOf(l) <= md.indexOf(line));
      expect(cells).toBeGreaterThan(2);
      expect(header).toBeDefined();
    }
    // the claims table has 5 columns on every row, whatever the statement contained
    const claimsTable = md.split('## Claims')[1]!.split('\n\n')[1]!.split('\n');
    for (const row of claimsTable) expect(row.replace(/\\\|/g, '').split('|').length).toBe(7);
    expect(md).toContain('right -> wrong (1)');
  });

  it('results.csv round-trips through an RFC 4180 parser with the hostile id intact', () => {
    const rows = parseCsv(renderResultsCsv(model));
    expect(rows[0]!.slice(0, 6)).toEqual(['item_id', 'sample', 'step', 'question_type', 'gold', 'question']);
    expect(rows[0]).toHaveLength(6 + 2 * 7);
    expect(rows[1]![0]).toBe(HOSTILE);
    expect(rows[1]![2]).toBe('step|1');
    expect(rows[1]![5]).toBe(`'=cmd ${HOSTILE}`);
    expect(rows[2]![5]).toBe('');
    const cachedColumn = rows[0]!.indexOf(`base ${HOSTILE}_cached`);
    expect(rows.slice(1).map((r) => r[cachedColumn])).toEqual(['false', 'true', 'false']);
    expect(rows[3]![0]).toBe('\'=HYPERLINK("x")');
    expect(rows.every((r) => r.length === rows[0]!.length)).toBe(true);
    const correctColumn = rows[0]!.indexOf('comp_4bit_correct');
    expect(rows.slice(1).map((r) => r[correctColumn])).toEqual(['false', 'true', 'true']);
    const summary = parseCsv(renderSummaryCsv(model));
    expect(summary[1]![0]).toBe(`base ${HOSTILE}`);
    expect(Number(summary[2]![summary[0]!.indexOf('weights_bytes')])).toBe(400);
  });

  it('table.tex has no unescaped specials from labels, ids or statements', () => {
    const tex = renderLatex(model);
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\bottomrule');
    const body = tex.split('\n').filter((l) => !l.startsWith('%') && !l.startsWith('\\providecommand'));
    for (const line of body) {
      // strip the commands we emit ourselves, then no raw special may remain
      const stripped = line
        .replace(/\$\\to\$|\$p\$|\$\\pm\$|\$-\$|\$\\Delta\$/g, '')
        .replace(/\\(textbackslash|textasciitilde|textasciicircum|textbar|textless|textgreater)\{\}/g, '')
        .replace(/\\[&%$#_{} ]/g, '')
        .replace(/\\(begin|end|caption|label|centering|toprule|midrule|bottomrule|multicolumn|footnotesize|linewidth|to|quad|textit|small|setlength|tabcolsep|medevalfit|tabularnewline|raggedright|par|smallskip|columnwidth|hspace)\b/g, '')
        .replace(/ & /g, ' ')
        .replace(/\\\\$/, '')
        .replace(/\{[^{}]*\}/g, '')
        .replace(/\{[^{}]*\}/g, '');
      expect(stripped).not.toMatch(/[\\%$#_^~]/);
    }
    expect(tex).toContain("x\\textbar{}y ``q'' a b \\& 100\\% \\$5 \\#1 \\_u\\_ \\{b\\} \\textasciitilde{}t \\textasciicircum{}c \\textbackslash{}d \\textless{}e\\textgreater{}`");
  });

  it('report.json round-trips and rejects other schema versions', () => {
    const parsed = parseReportJson(renderJson(model));
    expect(parsed.runs[0]!.label).toBe(`base ${HOSTILE}`);
    expect(() => parseReportJson('{"schemaVersion":"other/9"}', 'r.json')).toThrow(/r\.json field "schemaVersion"/);
    expect(() => parseReportJson('{', 'r.json')).toThrow(/r\.json: not valid JSON/);
  });
});

describe('writeReports / reportFromRunFolders', () => {
  it('writes the chosen formats and plugs in extra renderers', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medeval-report-'));
    const { model, files } = await reportFromRunFolders([join(FIXTURES, 'baseline-f16'), join(FIXTURES, 'compressed-q4')], out, {
      seed: 3, resamples: 200, formats: ['json', 'csv'], extra: [(m) => [{ name: 'extra.txt', content: m.runs.map((r) => r.id).join(',') }]],
    });
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(['report.json', 'results.csv', 'summary.csv', 'extra.txt']);
    expect(readFileSync(join(out, 'extra.txt'), 'utf8')).toBe('baseline-f16,compressed-q4');
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).comparisons[0].mcnemar.b).toBe(3);
    expect(model.comparisons[0]!.wrongToRight.map((f) => f.itemId)).toEqual(['q16']);
    const all = await writeReports(model, out);
    expect(all.map((f) => f.slice(out.length + 1))).toEqual(['report.json', 'report.md', 'results.csv', 'summary.csv', 'table.tex']);
    await expect(writeReports(model, out, { formats: ['pdf' as never] })).rejects.toThrow(/unknown report format "pdf"/);
  });
});

describe('claims in their own unit', () => {
  it('a claim measured in ms prints in ms in Markdown, LaTeX, HTML and on the terminal, never as a percentage', () => {
    const base = fixtureReportModel();
    const msClaim: ClaimCheck = {
      ...base.claims[0]!,
      id: 'ttft',
      statement: 'TTFT under 250 ms',
      claimed: 250,
      tolerance: 5,
      unit: 'ms',
      measured: { estimate: 212.5, lower: 200.25, upper: 230.75, confidence: 0.95, method: 'bootstrap' },
    };
    const model = { ...base, claims: [msClaim] };
    expect(renderMarkdown(model)).toContain('| at least 250.0 ms ± 5.0 ms | 212.5 ms [200.3 ms, 230.8 ms] |');
    const tex = renderLatex(model);
    expect(tex).toContain('TTFT under 250 ms & \\raggedright 250.0 ms $\\pm$ 5.0 ms & \\raggedright 212.5 ms [200.3 ms, 230.8 ms] &');
    expect(tex).not.toContain('25000.0\\%');
    expect(renderHtml(model)).toContain('213&nbsp;ms <span class="small ci">[200&nbsp;ms, 231&nbsp;ms]</span>');
    expect(claimsTable(model)).toMatch(/ttft\s+250 ms ± 5\.0 ms\s+213 ms \(200 ms to 231 ms\)/);
  });
});
