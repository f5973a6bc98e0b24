// The parent's side of a compare worker (compare-worker.ts): one long-lived process per model, turns
// sent to it over IPC. A worker that dies is never started again behind the user's back (it would come
// back in another state: a new load, a cold cache): the comparison stops and says how the worker ended.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.js';
import type { FromWorker, ToWorker, TurnOutcome, WireRunEvent } from './compare-protocol.js';
import type { RunSettings } from './run-settings.js';
import type { LoadedRunnerProfile } from '../runners/registry.js';

/** A worker that ended while it still had work: how it ended, and where its records are. */
export class WorkerDied extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerDied';
  }
}

/**
 * The worker module next to this one: compiled (dist/run/compare-worker.js), or the .ts source through
 * tsx when medeval runs from source (tests, `npm run medeval`).
 */
function workerModule(): { file: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`./compare-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  // tsx found from this module, not from the current folder (medeval may run from source anywhere).
  const tsx = typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx') : 'tsx';
  return { file, execArgv: fromSource ? ['--import', tsx] : [] };
}

export interface WorkerSpec {
  role: string;
  /** The profile file, or the flags that made the profile (for messages). */
  runnerFile: string;
  /** The profile as read or made here (the worker then reads no file). */
  runner?: LoadedRunnerProfile;
  out: string;
  settings: RunSettings;
  onEvent?: (e: WireRunEvent) => void;
}

export class ModelWorker {
  private readonly child: ChildProcess;
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void; expect: FromWorker['type'] } | null = null;
  private ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private doing = 'starting';
  private closing = false;
  /** Rejects when the worker dies while it still has work (a turn, or turns to come). */
  readonly died: Promise<never>;
  readonly exited: Promise<void>;

  constructor(private readonly spec: WorkerSpec) {
    const { file, execArgv } = workerModule();
    // stdout unused (a model library's prints stay out of medeval's results); stderr shows the worker's warnings.
    this.child = fork(file, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    let onDeath: (e: Error) => void = () => {};
    this.died = new Promise<never>((_, reject) => (onDeath = reject));
    this.died.catch(() => {});
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (m: FromWorker) => this.onMessage(m));
    this.child.on('error', (e) => this.fail(new Error(`the ${spec.role} worker could not run: ${e.message}`)));
    this.child.once('exit', (code, signal) => {
      this.ended = { code, signal };
      if (this.closing && code === 0 && (!this.pending || this.pending.expect === 'closed')) {
        // A clean exit after a close or stop: nothing is owed any more.
        const p = this.pending;
        this.pending = null;
        p?.resolve({ type: 'closed' });
        return;
      }
      const err = this.deathError();
      this.fail(err);
      onDeath(err);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private deathError(): WorkerDied {
    const how = this.ended?.signal ? `was killed by ${this.ended.signal}` : `exited with code ${this.ended?.code}`;
    return new WorkerDied(`the ${this.spec.role} worker (pid ${this.child.pid}, ${this.spec.runnerFile}) ${how} while ${this.doing}; ` +
      `the comparison stopped. Every answered record is kept in ${this.spec.out}`);
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'event') {
      this.spec.onEvent?.(m.event);
      return;
    }
    const p = this.pending;
    if (m.type === 'failed') {
      this.pending = null;
      p?.reject(m.input ? new InputError(m.message) : new Error(`${this.spec.role} (${this.spec.runnerFile}): ${m.message}`));
      return;
    }
    if (p && p.expect === m.type) {
      this.pending = null;
      p.resolve(m);
    }
  }

  private ask(m: ToWorker, expect: FromWorker['type'], doing: string): Promise<FromWorker> {
    if (this.ended) return Promise.reject(this.deathError());
    this.doing = doing;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, expect };
      this.child.send(m, (e) => {
        if (e && this.pending?.reject === reject) this.fail(new Error(`could not reach the ${this.spec.role} worker: ${e.message}`));
      });
    });
  }

  /** Sends the runner profile, the run folder and the settings; resolves with the runner's label. */
  async start(): Promise<void> {
    await this.ask({ type: 'start', runnerFile: this.spec.runnerFile, out: this.spec.out, settings: this.spec.settings, ...(this.spec.runner ? { runner: this.spec.runner } : {}) },
      'ready', 'reading its runner profile');
  }

  async turn(upTo: number, last: boolean): Promise<TurnOutcome> {
    const m = await this.ask({ type: 'turn', upTo, last }, 'turn-done', `running its turn on items 1..${upTo}`);
    return (m as Extract<FromWorker, { type: 'turn-done' }>).outcome;
  }

  /** Closes the runner (a managed server stops) and waits for the worker to end. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.closing = true;
    await this.ask({ type: 'close' }, 'closed', 'closing its runner').catch(() => {});
    await this.exited;
  }

  /** Asks the worker to stop its turn at once (finished items are kept) and to end. */
  stop(): void {
    if (this.ended || !this.child.connected) return;
    this.closing = true;
    this.child.send({ type: 'stop' } satisfies ToWorker, () => {});
  }
}
