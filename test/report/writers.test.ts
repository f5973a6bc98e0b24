// Report formats are one list of writers: `medeval report` writes every one, `--no-<name>` skips the
// skippable ones, and writeReports writes exactly the files each writer declares.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { readRunFolder } from '../../src/core/run-folder.js';
import { registerReport } from '../../src/cli/commands/report.js';
import { buildReport } from '../../src/report/build.js';
import { publishedFormats } from '../../src/report/publish.js';
import { REPORT_FORMATS, TEXT_REPORT_FORMATS, writeReports } from '../../src/report/write.js';
import { REPORT_WRITERS } from '../../src/report/writers.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/runs');
const model = buildReport({ runs: ['baseline-f16', 'compressed-q4'].map((d) => readRunFolder(join(FIXTURES, d))), seed: 1, resamples: 100, generatedAt: null });

describe('report format list', () => {
  it('names each format once; text formats are always written, html and charts can be skipped', () => {
    expect(REPORT_FORMATS).toEqual(['json', 'md', 'csv', 'tex', 'html', 'charts']);
    expect(new Set(REPORT_FORMATS).size).toBe(REPORT_FORMATS.length);
    expect(TEXT_REPORT_FORMATS).toEqual(['json', 'md', 'csv', 'tex']);
    expect(publishedFormats()).toEqual(REPORT_FORMATS);
    expect(publishedFormats({ skip: ['charts'] })).toEqual(['json', 'md', 'csv', 'tex', 'html']);
    expect(publishedFormats({ html: false, skip: ['json'] })).toEqual(['json', 'md', 'csv', 'tex', 'charts']);
  });

  it('the report command has one --no-<name> flag per skippable format, from the list', () => {
    const program = new Command();
    registerReport(program);
    const flags = program.commands.find((c) => c.name() === 'report')!.options.map((o) => o.long);
    expect(flags.filter((f) => f?.startsWith('--no-'))).toEqual(REPORT_WRITERS.filter((w) => w.skippable).map((w) => `--no-${w.name}`));
  });

  it('writes exactly the files each writer declares (charts under charts/)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medeval-writers-'));
    const files = await writeReports(model, out, { formats: REPORT_FORMATS });
    const top = readdirSync(out).sort();
    const declared = REPORT_WRITERS.flatMap((w) => w.files).map((f) => f.replace(/\/$/, '')).sort();
    expect(top).toEqual(declared);
    const charts = readdirSync(join(out, 'charts'));
    expect(charts.some((f) => f.endsWith('.png')) && charts.some((f) => f.endsWith('.svg'))).toBe(true);
    expect(files.filter((f) => f.includes(`${join(out, 'charts')}`))).toHaveLength(charts.length);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});
