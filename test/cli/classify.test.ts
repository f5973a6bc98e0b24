// `medeval classify FILE` as a user runs it: a real process on real dataset files.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUESTION_TYPES } from '../../src/core/types.js';
import { REPO, SAMPLE, tempDir } from '../helpers/tiny-run.js';

const CLI = [...['--import', 'tsx'], join(REPO, 'src/cli/bin.ts')];
const medeval = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: '1' } });

/** "<name>  <count>  <percent>" lines of the printed distribution, by name. */
function counts(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^\s*([\w-]+)\s+(\d+)\s+[\d.]+%$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('medeval classify', () => {
  it('prints per-type counts with the rule that fired under each, adding up to the dataset', () => {
    const r = medeval(['classify', SAMPLE]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^60 questions, classified by .*question-types\.yaml/);
    const c = counts(r.stdout);
    const typeTotal = QUESTION_TYPES.reduce((n, t) => n + (c.get(t) ?? -1000), 0);
    expect(typeTotal).toBe(60);
    const ruleTotal = [...c].filter(([name]) => !(QUESTION_TYPES as readonly string[]).includes(name)).reduce((n, [, v]) => n + v, 0);
    expect(ruleTotal).toBe(60);
    expect(c.get('diagnosis-ask')).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/fallback \(no rule matched\): \d+ of 60/);
    expect(r.stdout).toContain('state their own type');
  });

  it('--list gives one line per item with its id, type, rule and matched text', () => {
    const r = medeval(['classify', join(REPO, 'test/fixtures/datasets/medqa/test.jsonl'), '--format', 'medqa', '--list']);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').slice(r.stdout.split('\n').indexOf('id\ttype\trule\tmatched\task') + 1).filter(Boolean).map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(0);
    const organism = rows.find((row) => row[4]!.includes('most likely causal organism'))!;
    expect(organism.slice(1, 4)).toEqual(['diagnosis', 'diagnosis-cause-ask', 'causal organism']);
    const artery = rows.find((row) => row[4]!.includes('arteries is most likely occluded'))!;
    expect(artery.slice(1, 3)).toEqual(['basic_science', 'basic-science-ask']);
  });

  it('uses the rules file given with --rules, and a broken one exits 2 naming file:line', () => {
    const dir = tempDir();
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, 'fallback: other\nrules:\n  - { name: anything, type: ethics, in: question, regex: ["."] }\n');
    const ok = medeval(['classify', SAMPLE, '--rules', rules]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(counts(ok.stdout).get('ethics')).toBe(60);
    expect(counts(ok.stdout).get('anything')).toBe(60);
    writeFileSync(rules, 'rules:\n  - { name: x, type: surgery, in: ask, phrases: [a] }\n');
    const bad = medeval(['classify', SAMPLE, '--rules', rules]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${rules}:2`);
  });

  it('a missing dataset file exits 2', () => {
    const r = medeval(['classify', join(tempDir(), 'nope.jsonl')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('file not found');
  });
});
