// table.tex fits a column: compiled with pdflatex inside one- and two-column `article`, the log has no
// overfull box and no float taller than the page, for the demo's shipped runs and for hostile labels.
// Skipped, with the reason in the test name, where no pdflatex is installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunFolder } from '../../src/core/run-folder.js';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS, parseClaims } from '../../src/report/claims.js';
import { renderLatex } from '../../src/report/latex.js';
import { itemResult, loadedRun, manifest, memoryReport } from '../fixtures/runs/synthetic.js';

const hasPdflatex = spawnSync('pdflatex', ['--version'], { stdio: 'ignore' }).status === 0;
const skipWhy = hasPdflatex ? '' : ' (skipped: pdflatex not installed; apt-get install texlive-latex-base texlive-latex-recommended)';

const DEMO = join(import.meta.dirname, '../../reports/demo/runs');
const HOSTILE = 'x|y "q" a & 100% $5 #1 _u_ {b} ~t ^c \\d <e> ± → — “smart”';

/** Compile `tex` inside `\documentclass[layout]{article}`; returns the log. */
function compile(tex: string, layout: 'onecolumn' | 'twocolumn'): { status: number | null; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'medeval-tex-'));
  writeFileSync(join(dir, 'table.tex'), tex);
  writeFileSync(join(dir, 'doc.tex'), [
    `\\documentclass[${layout}]{article}`, '\\usepackage{booktabs}', '\\usepackage{graphicx}',
    '\\begin{document}', 'Text before the tables.', '\\input{table.tex}', '\\end{document}', '',
  ].join('\n'));
  const r = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'doc.tex'], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, log: readFileSync(join(dir, 'doc.log'), 'latin1') };
}

const claims = parseClaims(PAPER_CLAIMS);
const demoModel = () => buildReport({
  runs: ['baseline-demo-f32', 'compressed-demo-q4_0'].map((d) => readRunFolder(join(DEMO, d))), claims, resamples: 200,
});
const hostileModel = () => {
  const results = [itemResult({ itemId: 'a', gold: 'A', letter: 'A' }), itemResult({ itemId: 'b', gold: 'B', letter: 'C' })];
  return buildReport({
    runs: [
      loadedRun(manifest(`base ${HOSTILE}`, { memory: memoryReport(1000, 2000) }), results),
      loadedRun(manifest(`a-very-long-compressed-model-label_Q4_K_M ${HOSTILE}`, { memory: memoryReport(400, 900) }), results),
    ],
    claims: parseClaims(PAPER_CLAIMS.map((c) => ({ ...c, statement: `${c.statement} ${HOSTILE}` }))),
    resamples: 100,
  });
};

describe.skipIf(!hasPdflatex)(`table.tex compiles and fits a column${skipWhy}`, () => {
  it.each([
    ['the demo', demoModel, true],
    // Statements three times their length make the claims float tall; only the width is asserted there.
    ['hostile labels', hostileModel, false],
  ] as const)('%s: no overfull box in one- or two-column article', (_name, build, checkHeight) => {
    const tex = renderLatex(build());
    for (const layout of ['onecolumn', 'twocolumn'] as const) {
      const { status, log } = compile(tex, layout);
      expect(status, `${layout}: pdflatex failed:\n${log.slice(-2000)}`).toBe(0);
      expect(log, layout).not.toMatch(/Overfull \\hbox/);
      if (checkHeight) expect(log, layout).not.toMatch(/Float too large/);
      expect(log, layout).not.toMatch(/Missing character/);
    }
  });
});

it.runIf(!hasPdflatex)(`table.tex is not compiled here${skipWhy}`, () => {
  expect(hasPdflatex).toBe(false);
});
