// A `medeval compare` worker: one model in one process for the whole comparison (forked with an IPC
// channel by compare-workers.ts). The model is loaded, or its managed server started, once, and warmed
// up once; each turn is a resumed run of its folder to a larger --limit on that same runner. Its own
// process keeps the model's peak memory (VmHWM) its own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { guardStream } from '../core/redact.js';
import { runSuite } from './run.js';
import { RunnerSession } from './runner-session.js';
import { toWorkerSchema, wireEvent, type FromWorker, type ToWorker, type TurnOutcome } from './compare-protocol.js';
import type { RunSettings } from './run-settings.js';
import { loadRunnerProfile, type LoadedRunnerProfile } from '../runners/registry.js';

if (!process.send) {
  process.stderr.write('medeval: compare-worker is started by `medeval compare` (it needs an IPC channel)\n');
  process.exit(2);
}
guardStream(process.stderr);

// After the parent is gone there is no one to tell: the run folder keeps what was done.
const send = (m: FromWorker, then?: () => void) => {
  if (process.connected) process.send!(m, undefined, {}, () => then?.());
  else then?.();
};
const session = new RunnerSession();
const stopper = new AbortController();
let job: { runner: LoadedRunnerProfile; out: string; settings: RunSettings } | null = null;

async function turn(upTo: number, last: boolean): Promise<TurnOutcome> {
  const { runner, out, settings } = job!;
  session.keepOpen = !last;
  const { manifest, counts } = await runSuite({
    ...settings,
    runner,
    out,
    limit: upTo,
    resume: existsSync(join(out, 'manifest.json')),
    session,
    signal: stopper.signal,
    onEvent: (e) => send({ type: 'event', event: wireEvent(e) }),
  });
  const { records, errors, correct } = counts;
  return {
    status: manifest.status, records, errors, scored: records - errors, correct, loads: session.loads,
    ...(manifest.stopReason ? { stopReason: manifest.stopReason } : {}),
  };
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'start': {
      const runner = m.runner ?? await loadRunnerProfile(m.runnerFile);
      job = { runner, out: m.out, settings: m.settings };
      send({ type: 'ready', pid: process.pid, label: runner.profile.label });
      return;
    }
    case 'turn':
      send({ type: 'turn-done', outcome: await turn(m.upTo, m.last) });
      return;
    case 'stop':
    case 'close':
      await session.close().catch(() => {});
      send({ type: 'closed' }, () => exitNow(0));
      return;
  }
}

/** Exit once the last message is out (native bindings can hold the event loop open after their work). */
function exitNow(code: number): void {
  exiting = true;
  process.exit(code);
}
let exiting = false;

// One message at a time, in order; a stop also aborts the turn under way at once.
let queue = Promise.resolve();
process.on('message', (raw: unknown) => {
  const parsed = toWorkerSchema.safeParse(raw);
  if (!parsed.success) {
    send({ type: 'failed', message: `compare worker: a message it cannot read: ${parsed.error.issues[0]!.message}`, input: false });
    return;
  }
  if (parsed.data.type === 'stop') stopNow('stopped by medeval compare', 1);
  queue = queue.then(() => handle(parsed.data)).catch(async (e: unknown) => {
    await session.close().catch(() => {});
    send({ type: 'failed', message: (e as Error)?.message ?? String(e), input: e instanceof InputError }, () => exitNow(e instanceof InputError ? 2 : 1));
  });
});

// Ctrl-C reaches the whole process group: the worker stops its turn (keeping its finished items) and
// lets the parent decide; if the parent is gone (the channel closed), it stops and ends by itself.
const graceMs = (() => {
  const v = Number(process.env.MEDEVAL_STOP_GRACE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 1500;
})();
const stopNow = (why: string, code: number) => {
  if (stopper.signal.aborted) return;
  stopper.abort(new Error(why));
  // Whatever is still busy after the grace period (a model loading): exit anyway; managed servers are killed on exit.
  setTimeout(() => process.exit(code), graceMs).unref();
};
process.on('SIGINT', () => stopNow('interrupted by SIGINT', 130));
process.on('SIGTERM', () => stopNow('interrupted by SIGTERM', 143));
process.on('disconnect', () => {
  if (exiting) return;
  stopNow('medeval compare ended', 1);
  void queue.then(() => session.close()).catch(() => {}).then(() => process.exit(1));
});
