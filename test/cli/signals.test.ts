// Ctrl-C and SIGTERM take effect at once (issue 10 item 4), tested on real `medeval run` processes: a
// signal while the in-process model generates, and a SIGTERM while a managed server refuses to stop
// (a stand-in llama-server that ignores SIGTERM: medeval must not sit out its stop grace period). The
// bound is generous for a loaded machine; the measured figure is printed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMedqaShaped } from '../helpers/medqa-shaped.js';
import { REPO, SAMPLE, tempDir, tinyModel } from '../helpers/tiny-run.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];
const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
const BOUND_MS = 10_000;

/** Starts `medeval run`, sends `sig` when a stderr line matches `when`, and measures signal -> exit. */
async function signalDuring(args: string[], when: RegExp, sig: NodeJS.Signals) {
  const child = spawn(process.execPath, [...CLI, 'run', ...args], { cwd: REPO, env: { ...process.env, CI: '1' } });
  let stderr = '';
  let sentAt = 0;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sentAt && when.test(stderr)) {
      sentAt = performance.now();
      child.kill(sig);
    }
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, ms: sentAt ? performance.now() - sentAt : NaN, stderr };
}

function cmdlinesWith(text: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/^\d+ \(.*\) Z/.test(stat)) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

let model: string;
beforeAll(async () => {
  model = await tinyModel('Q4_0');
});

describe('signals stop a run at once', () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} while the in-process model generates: exits within the bound, the run says interrupted`, async () => {
      const dir = tempDir('medeval-sig-');
      const data = writeMedqaShaped(dir, 20, { words: 150 });
      const suite = join(dir, 'medqa.yaml');
      writeFileSync(suite, ['name: medqa-shaped', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
        'sampling:', '  temperature: 0.6', '  topP: 0.95', '  maxTokens: 32768', 'load:', '  warmup: 1'].join('\n'));
      const profile = join(dir, 'tiny.yaml');
      writeFileSync(profile, `kind: llama-cpp-embedded\nlabel: tiny-q4\nmodel: ${model}\nthreads: 1\ncontextSize: 2048\n`);
      const out = join(dir, 'run');
      // The warm-up is done: the first measured item (about 1,100 tokens to generate) is under way.
      const r = await signalDuring(['--suite', suite, '--runner', profile, '--out', out, '--no-cache'], /warm-up: 1 request\(s\) done/, sig);
      console.log(`${sig} during generation: exited ${Math.round(r.ms)} ms after the signal (code ${r.code}, signal ${r.signal})`);
      expect(r.ms, r.stderr).toBeLessThan(BOUND_MS);
      expect(r.code).not.toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.status).toBe('interrupted');
      // Every journalled record is a whole item (the abandoned one is left for --resume).
      const journal = existsSync(join(out, 'results.jsonl')) ? readFileSync(join(out, 'results.jsonl'), 'utf8') : '';
      expect(journal === '' || journal.endsWith('\n')).toBe(true);
    });
  }

  it('SIGTERM while a managed server will not stop: medeval exits within the bound and the server is killed', async () => {
    const dir = tempDir('medeval-sigterm-managed-');
    const fakeModel = join(dir, 'unique-model-name.gguf');
    writeFileSync(fakeModel, Buffer.alloc(4096, 1));
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: s', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${SAMPLE}`, `prompts: ${join(REPO, 'suites/prompts')}`,
      'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8', 'load:', '  warmup: 1'].join('\n'));
    const profile = join(dir, 'managed.yaml');
    // stopGraceMs 60 s: without the stop deadline medeval would wait that long for the server to go.
    writeFileSync(profile, ['kind: llama-server', 'label: managed', 'mode: managed', `binary: ${FAKE}`, `model: ${fakeModel}`,
      'args: ["-c", "2048", "-np", "1", "--fake-ignore-sigterm"]', 'stopGraceMs: 60000', 'retries: 0'].join('\n'));
    const r = await signalDuring(['--suite', suite, '--runner', profile, '--out', join(dir, 'run'), '--no-cache'], /warm-up: 1 request\(s\) done/, 'SIGTERM');
    console.log(`SIGTERM with a managed server ignoring SIGTERM: exited ${Math.round(r.ms)} ms after the signal (code ${r.code})`);
    expect(r.ms, r.stderr).toBeLessThan(BOUND_MS);
    expect(r.code).not.toBe(0);
    // medeval's exit hook SIGKILLs the server's process group: nothing of it is left running.
    expect(cmdlinesWith(fakeModel)).toEqual([]);
    // ...and the manifest says so, although the process exited in the middle of the stop (written
    // synchronously on exit; before, server.managed stayed null on this path).
    const manifest = JSON.parse(readFileSync(join(dir, 'run', 'manifest.json'), 'utf8')) as { status: string; server?: { managed?: { ended: string; description: string } } };
    expect(manifest.status).toBe('interrupted');
    expect(manifest.server?.managed).toMatchObject({ ended: 'killed-on-exit' });
    expect(manifest.server!.managed!.description).toMatch(/SIGTERM had been sent/);
  });
});
