// The scaling examples (docs/examples/) are real YAML that GitHub Actions and Kubernetes read: parsed here
// with the yaml package, and every `medeval ...` command they run is checked against the CLI's own
// commander program: the command exists, every flag is one of its options, every option that needs a
// value has one, and every required option is given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/main.js';
import { REPO } from '../helpers/tiny-run.js';

/** Shell text -> the argument lists after each `medeval` word (one per command, up to && ; | or the end). */
export function medevalCommands(shell: string): string[][] {
  const flat = shell.replace(/\\\n/g, ' ');
  const out: string[][] = [];
  for (const part of flat.split(/&&|\|\||;|\||\n/)) {
    const words = part.trim().match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    const at = words.findIndex((w) => w === 'medeval' || /(^|\/)medeval(\.js)?$/.test(w));
    if (at >= 0) out.push(words.slice(at + 1).map((w) => w.replace(/^["']|["']$/g, '')));
  }
  return out;
}

/** Problems with one medeval command line, judged by the real program. */
function check(program: Command, args: string[]): string[] {
  const [name, ...rest] = args;
  const cmd = program.commands.find((c) => c.name() === name);
  if (!cmd) return [`no command "${name}"`];
  const problems: string[] = [];
  const byFlag = new Map<string, Option>();
  for (const o of cmd.options) {
    if (o.long) byFlag.set(o.long, o);
    if (o.short) byFlag.set(o.short, o);
  }
  const given = new Set<Option>();
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (!w.startsWith('-')) continue;
    const flag = w.split('=')[0]!;
    const opt = byFlag.get(flag);
    if (!opt) {
      problems.push(`${name}: no option ${flag}`);
      continue;
    }
    given.add(opt);
    if ((opt.required || opt.optional) && !w.includes('=')) {
      const next = rest[i + 1];
      if (opt.required && (next === undefined || next.startsWith('--'))) problems.push(`${name}: ${flag} needs a value`);
      else if (next !== undefined && !next.startsWith('--')) i++;
    }
  }
  for (const o of cmd.options) if (o.mandatory && !given.has(o)) problems.push(`${name}: required option ${o.long} missing`);
  return problems;
}

function yamlDocs(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const d of docs) expect(d.errors, `${file}: ${d.errors.join('; ')}`).toEqual([]);
  return docs.map((d) => d.toJS());
}

describe('docs/examples', () => {
  it('the GitHub Actions workflow: a matrix over shards, an artifact per shard, a merge job, then medeval gate', () => {
    const [wf] = yamlDocs(join(REPO, 'docs/examples/github-actions-shards.yml')) as Array<{
      jobs: Record<string, { needs?: string; strategy?: { matrix: { shard: number[] } }; env?: Record<string, string>; steps: Array<{ run?: string; uses?: string; with?: Record<string, string> }> }>;
    }>;
    const shard = wf!.jobs.shard!;
    const merge = wf!.jobs.merge!;
    expect(shard.strategy!.matrix.shard).toEqual([0, 1, 2, 3]);
    expect(shard.env).toMatchObject({ MEDEVAL_SHARD_INDEX: '${{ strategy.job-index }}', MEDEVAL_SHARD_COUNT: '${{ strategy.job-total }}' });
    expect(shard.steps.some((s) => s.uses?.startsWith('actions/upload-artifact') && s.with!.name!.includes('strategy.job-index'))).toBe(true);
    expect(merge.needs).toBe('shard');
    const program = buildProgram();
    const commands = Object.values(wf!.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ? medevalCommands(s.run) : [])));
    const names = commands.map((c) => c[0]);
    expect(names).toEqual(expect.arrayContaining(['run', 'merge', 'gate', 'report']));
    // The merge comes before the gate, in the merge job.
    const mergeCmds = merge.steps.flatMap((s) => (s.run ? medevalCommands(s.run) : [])).map((c) => c[0]);
    expect(mergeCmds.indexOf('merge')).toBeLessThan(mergeCmds.indexOf('gate'));
    for (const c of commands) expect(check(program, c), c.join(' ')).toEqual([]);
    expect(commands.find((c) => c[0] === 'run')).toContain('--shard');
  });

  it('the Kubernetes manifests: an Indexed Job of shards, a shared vLLM server, a merge Job', () => {
    const docs = yamlDocs(join(REPO, 'docs/examples/k8s-indexed-job.yaml')) as Array<{ kind: string; metadata: { name: string }; spec: any }>;
    const jobs = docs.filter((d) => d.kind === 'Job');
    const shards = jobs.find((j) => j.spec.completionMode === 'Indexed')!;
    expect(shards.spec.completions).toBe(4);
    const env = shards.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>;
    expect(env.find((e) => e.name === 'MEDEVAL_SHARD_COUNT')!.value).toBe(String(shards.spec.completions));
    expect(docs.some((d) => d.kind === 'Service' && d.metadata.name === 'vllm')).toBe(true);
    const profile = docs.find((d) => d.kind === 'ConfigMap')! as unknown as { data: Record<string, string> };
    expect(profile.data['vllm-shared.yaml']).toContain('baseUrl: http://vllm:8000');
    const program = buildProgram();
    const commands = jobs.flatMap((j) => j.spec.template.spec.containers.flatMap((c: { command?: string[]; args?: string[] }) =>
      medevalCommands([...(c.command ?? []), ...(c.args ?? [])].join('\n'))));
    expect(commands.map((c) => c[0])).toEqual(['run', 'merge', 'gate', 'report']);
    for (const c of commands) expect(check(program, c), c.join(' ')).toEqual([]);
    // The merge names every index of the Job once.
    const merge = commands.find((c) => c[0] === 'merge')!;
    expect(merge.filter((w: string) => /shard-\d$/.test(w))).toEqual([0, 1, 2, 3].map((i) => `/runs/medqa/shard-${i}`));
  });

  it('the checker catches a flag the CLI does not have, a missing value and a missing required option', () => {
    const program = buildProgram();
    expect(check(program, ['run', '--suite', 's.yaml', '--runner', 'r.yaml', '--shards', '4'])).toEqual(['run: no option --shards']);
    expect(check(program, ['merge', 'a', 'b', '--out'])).toEqual(['merge: --out needs a value']);
    expect(check(program, ['merge', 'a', 'b'])).toEqual(['merge: required option --out missing']);
    expect(check(program, ['shard', 'x'])).toEqual(['no command "shard"']);
    expect(medevalCommands('npm ci && npx medeval run --suite a \\\n --runner b')).toEqual([['run', '--suite', 'a', '--runner', 'b']]);
  });
});
