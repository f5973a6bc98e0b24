// `medeval rescore` on a real stored run (the demo's tiny-model run): replies edited so the current
// extractor reads them differently are re-scored into a new run folder that records what changed, and
// that report and gate accept; records in error stay errors; bad input is exit 2.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { optionsFromPrompt } from '../../src/run/rescore.js';
import { emptyOutcome } from '../../src/run/item-record.js';
import type { ItemResult, RunManifest } from '../../src/core/types.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';

const STORED_RUN = join(REPO, 'reports/demo/runs/baseline-demo-f32');

async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const savedExit = process.exitCode;
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: unknown) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: unknown) => ((stderr += String(c)), true));
  try {
    const status = await main(['node', 'medeval', ...args]);
    return { status, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = savedExit;
  }
}

const readJsonl = (file: string): ItemResult[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const writeJsonl = (file: string, rs: ItemResult[]) => writeFileSync(file, rs.map((r) => JSON.stringify(r) + '\n').join(''));

/** A copy of the stored run with edited replies: the stored extraction is what an older extractor read. */
function editedRun(): { dir: string; edits: { wrongToRight: string[]; rightToWrong: string; unparseable: string; error: string } } {
  const dir = join(tempDir('medeval-rescore-'), 'source');
  cpSync(STORED_RUN, dir, { recursive: true });
  const file = join(dir, 'results.jsonl');
  const rs = readJsonl(file);
  const wrong = rs.filter((r) => r.correct === false);
  const right = rs.find((r) => r.correct === true)!;
  const [w1, w2, w3, w4] = wrong;
  w1!.rawOutput = `Answer: ${w1!.gold}`;
  // A self-correction: the last explicit statement wins.
  w2!.rawOutput = `Answer: C\nwait, actually the answer is ${w2!.gold}`;
  const other = Object.keys(optionsFromPrompt(right.prompt)!).find((l) => l !== right.gold)!;
  right.rawOutput = `Answer: ${other}`;
  w3!.rawOutput = 'I cannot tell.';
  // A failed request, as the run loop writes it: must never be scored, whatever a rescore would read.
  Object.assign(w4!, emptyOutcome(), { error: { kind: 'timeout', message: 'request timed out after 30000 ms' } });
  writeJsonl(file, rs);
  const mfile = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(mfile, 'utf8')) as RunManifest;
  writeFileSync(mfile, JSON.stringify({ ...m, status: 'incomplete' }, null, 2));
  return { dir, edits: { wrongToRight: [w1!.itemId, w2!.itemId], rightToWrong: right.itemId, unparseable: w3!.itemId, error: w4!.itemId } };
}

describe('medeval rescore', () => {
  it('re-extracts into a new run folder that records what changed, and report and gate accept it', async () => {
    const { dir, edits } = editedRun();
    const sourceBytes = readFileSync(join(dir, 'results.jsonl'), 'utf8');
    const out = join(dir, '..', 'rescored');
    const r = await cli(['rescore', dir, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('4 of 60 answer(s) extracted differently (right->wrong 1, wrong->right 2)');
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8')).toBe(sourceBytes);

    const source = readJsonl(join(dir, 'results.jsonl'));
    const after = readJsonl(join(out, 'results.jsonl'));
    expect(after.map((x) => x.itemId)).toEqual(source.map((x) => x.itemId));
    const byId = new Map(after.map((x) => [x.itemId, x]));
    for (const id of edits.wrongToRight) {
      const x = byId.get(id)!;
      expect(x.correct).toBe(true);
      expect(x.extracted.letter).toBe(x.gold);
      expect(x.rescored?.previous).toEqual({ letter: 'C', status: 'answered', method: 'answer-colon', correct: false });
    }
    expect(byId.get(edits.rightToWrong)!.correct).toBe(false);
    expect(byId.get(edits.rightToWrong)!.rescored?.previous.correct).toBe(true);
    expect(byId.get(edits.unparseable)!.extracted.status).toBe('unparseable');
    expect(byId.get(edits.unparseable)!.correct).toBe(false);
    // The error record passes through byte for byte: no verdict, no marker.
    expect(byId.get(edits.error)).toEqual(source.find((x) => x.itemId === edits.error));
    expect(byId.get(edits.error)!.correct).toBeNull();
    // Unedited records are unchanged and carry no marker.
    const untouched = after.filter((x) => ![...edits.wrongToRight, edits.rightToWrong, edits.unparseable, edits.error].includes(x.itemId));
    expect(untouched).toHaveLength(55);
    for (const x of untouched) expect(x).toEqual(source.find((s) => s.itemId === x.itemId));

    const srcManifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as RunManifest;
    expect(m.rescoredFrom).toMatchObject({
      dir, configHash: srcManifest.configHash, medevalVersion: srcManifest.medevalVersion,
      records: 60, errorsKept: 1, changed: 4, rightToWrong: 1, wrongToRight: 2,
    });
    expect(m.configHash).toBe(srcManifest.configHash);
    expect(m.status).toBe('incomplete');

    const loaded = readRunFolder(out);
    expect(loaded.journalProblems).toEqual([]);
    const srcCorrect = source.filter((x) => x.correct).length;
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.run.accuracy.overall.correct).toBe(srcCorrect + 2 - 1);
    expect(summary.run.reliability.errors).toBe(1);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md.split('\n').slice(0, 4).join('\n')).toContain('4 of 60 answer(s) extracted differently (right->wrong 1, wrong->right 2)');

    const rep = await cli(['report', dir, out, '--out', join(dir, '..', 'report'), '--no-charts', '--no-html']);
    expect(rep.status, rep.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, '..', 'report', 'report.json'), 'utf8'));
    expect(report.runs[1].accuracy.overall.correct).toBe(srcCorrect + 1);
    const gate = await cli(['gate', '--baseline', dir, '--current', out, '--max-drop', '50', '--allow-partial']);
    expect(gate.status, gate.stderr + gate.stdout).toBe(0);
    expect(gate.stdout).toMatch(/paired/i);

    // Rescoring never writes over a run, its own source included.
    const again = await cli(['rescore', dir, '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already holds a run');
    const self = await cli(['rescore', dir, '--out', dir]);
    expect(self.status).toBe(2);
  });

  it('refuses bad input with exit 2: no run folder, a likelihood run, a prompt without options, a user folder as --out', async () => {
    const root = tempDir('medeval-rescore-bad-');
    const missing = await cli(['rescore', join(root, 'nope'), '--out', join(root, 'o1')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('not a run folder');

    const lik = join(root, 'likelihood');
    cpSync(STORED_RUN, lik, { recursive: true });
    const m = JSON.parse(readFileSync(join(lik, 'manifest.json'), 'utf8')) as RunManifest;
    writeFileSync(join(lik, 'manifest.json'), JSON.stringify({ ...m, suite: { ...m.suite, scoring: 'likelihood' } }));
    const l = await cli(['rescore', lik, '--out', join(root, 'o2')]);
    expect(l.status).toBe(2);
    expect(l.stderr).toContain('scored by likelihood');
    expect(l.stderr).toContain('suite.scoring');

    const bare = join(root, 'bare');
    cpSync(STORED_RUN, bare, { recursive: true });
    const rs = readJsonl(join(bare, 'results.jsonl'));
    rs[3]!.prompt = 'Which drug?';
    writeJsonl(join(bare, 'results.jsonl'), rs);
    const b = await cli(['rescore', bare, '--out', join(root, 'o3')]);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain(`record ${rs[3]!.itemId}`);
    expect(b.stderr).toContain('no "A. text" option lines');

    const mine = join(root, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.md'), 'mine\n');
    const u = await cli(['rescore', STORED_RUN, '--out', mine]);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('already holds files that are not a medeval run folder');
    expect(readFileSync(join(mine, 'notes.md'), 'utf8')).toBe('mine\n');
  });

  it('reads the options from the last "A. text" block of the prompt', () => {
    expect(optionsFromPrompt('Q: see A. below\n\nA. one\nB. two\nC. three\n\nAnswer: X')).toEqual({ A: 'one', B: 'two', C: 'three' });
    expect(optionsFromPrompt('A. lone\n\nA. x\nB. y')).toEqual({ A: 'x', B: 'y' });
    expect(optionsFromPrompt('A. only one')).toBeNull();
    expect(optionsFromPrompt('B. x\nC. y')).toBeNull();
  });
});
