// One runner kept open across the runs (turns) of one process: a `medeval compare` worker loads its
// model (or starts its managed server) once and warms it up once, however many turns it is given.
import type { Runner } from '../core/types.js';

export class RunnerSession {
  private runner: Runner | null = null;
  /** Warm-up requests went to this runner already: later runs send none. */
  warmedUp = false;
  /** Keep the runner open after the next run; false: that run closes it as a one-off run does. */
  keepOpen = true;
  /** Runners created in this session (models loaded, servers started): 1 for a whole comparison. */
  loads = 0;

  /** The open runner, or a new one from `create`; `created` says which. */
  async open(create: () => Promise<Runner>): Promise<{ runner: Runner; created: boolean }> {
    if (this.runner) return { runner: this.runner, created: false };
    this.runner = await create();
    this.loads++;
    this.warmedUp = false;
    return { runner: this.runner, created: true };
  }

  /** The run closed the runner itself (it failed, was interrupted, or keepOpen was false). */
  released(): void {
    this.runner = null;
    this.warmedUp = false;
  }

  get isOpen(): boolean {
    return this.runner !== null;
  }

  async close(): Promise<void> {
    const r = this.runner;
    this.released();
    await r?.close();
  }
}
