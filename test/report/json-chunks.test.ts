// jsonChunks joined must be JSON.stringify's text to the byte (report.json and the model in report.html
// are written from it piece by piece).
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../src/report/json-chunks.js';
import { renderJson, renderJsonChunks } from '../../src/report/json.js';
import { renderHtml, renderHtmlPieces } from '../../src/report/html.js';
import { renderResultsCsv, resultsCsvPieces } from '../../src/report/csv.js';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS } from '../../src/report/claims.js';
import { syntheticPair } from '../fixtures/runs/synthetic.js';
import { fixtureReportModel } from './fixtures/report-model.js';

const finite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

const awkward = {
  empty: {}, emptyList: [], nothing: undefined, fn: () => 1, nul: null, nan: NaN, inf: -Infinity, neg0: -0,
  text: 'a "quoted" \n line \u2028 é 😀 </script>', date: new Date(0), nested: { deeper: { deepest: { bottom: { x: [1, { y: undefined, z: [NaN] }] } } } },
  holes: [1, undefined, () => 2, null, NaN],
  long: Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? { i, list: [i, { deep: [i, 'x'] }], u: undefined } : i % 3 === 1 ? [i, [i]] : `s${i}`)),
  withToJson: { toJSON: () => ({ replaced: [1, 2, { k: 3 }] }) },
  '10': 'integer-like key first', b: 2,
};

describe('jsonChunks', () => {
  for (const indent of [0, 2]) {
    it(`joined is JSON.stringify's text (indent ${indent}), on awkward values`, () => {
      for (const v of [awkward, [awkward, awkward], 5, 'x', null, [], {}, undefined, [undefined], { a: undefined }]) {
        expect([...jsonChunks(v, { replacer: finite, indent })].join('')).toBe(JSON.stringify(v, finite, indent || undefined) ?? '');
      }
    });
  }

  it('report.json needs no replacer for NaN/Infinity: its text is the old null-mapping replacer\'s to the byte', () => {
    const model = buildReport({ runs: syntheticPair(300), claims: PAPER_CLAIMS, seed: 3, resamples: 20 });
    // Non-finite numbers where the model has numbers: top level, in objects, in long and short arrays.
    const hostile = { ...model, extraNaN: NaN, extraInf: [Infinity, -Infinity, NaN, -0], items: model.items && { ...model.items, rows: model.items.rows.map((r, i) => (i % 7 ? r : { ...r, cells: r.cells.map((c) => c && { ...c, e2eMs: NaN, ttftMs: Infinity }) })) } } as unknown as typeof model;
    for (const m of [model, hostile, fixtureReportModel({ hostile: true })]) {
      const old = JSON.stringify(m, finite, 2) + '\n';
      expect(renderJson(m)).toBe(old);
      expect([...renderJsonChunks(m)].join('')).toBe(old);
    }
    expect(renderJson(hostile)).toContain('"extraNaN": null');
  });

  it('report.json, report.html and results.csv written in pieces are the one-string files, on a hostile fixture and 6,000 synthetic items', () => {
    const big = buildReport({ runs: syntheticPair(6000), claims: PAPER_CLAIMS, seed: 5, resamples: 50 });
    for (const model of [fixtureReportModel({ hostile: true }), big]) {
      const formats = [[renderJsonChunks, renderJson], [renderHtmlPieces, renderHtml], ...(model.items ? [[resultsCsvPieces, renderResultsCsv] as const] : [])] as const;
      for (const [pieces, whole] of formats) {
        const got = [...pieces(model)];
        expect(got.join('')).toBe(whole(model));
        if (model === big) expect(got.length).toBeGreaterThan(1);
      }
    }
  });
});
