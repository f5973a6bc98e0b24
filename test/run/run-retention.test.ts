// A long run's memory stays flat (issue 16 target 3): once a record is journalled, the run holds no reference
// to it (neither its own list of results nor the load runner's), and each request's task is made when its
// turn comes. Checked structurally, not by timing or RSS: weak references to the records already written must
// be cleared by a garbage collection while the run is still going (held at its last request).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { createRunner, loadRunnerProfile } from '../../src/runners/registry.js';
import type { GenerateRequest, ItemResult, Runner } from '../../src/core/types.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';
import { writeMedqaShaped } from '../helpers/medqa-shaped.js';
import { loadDataset } from '../../src/datasets/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ITEMS = 120;

function setUp() {
  const dir = tempDir();
  const data = writeMedqaShaped(dir, ITEMS, { words: 40 });
  const suite = join(dir, 'suite.yaml');
  writeFileSync(suite, ['name: retention', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
    'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8', 'load:', '  profile: concurrency', '  concurrency: 4', '  warmup: 1', ''].join('\n'));
  writeFileSync(join(dir, 'script.jsonl'), JSON.stringify({ default: true, text: 'Answer: A' }) + '\n');
  const profile = join(dir, 'scripted.yaml');
  writeFileSync(profile, 'kind: scripted\nlabel: retention\nscript: ./script.jsonl\n');
  return { dir, suite, profile };
}

/** The scripted runner, except that the request for `heldItem` waits until the test lets it go. */
function holdingOne(inner: Runner, heldItem: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reached!: () => void;
  const held = new Promise<void>((r) => (reached = r));
  const runner: Runner = Object.create(inner) as Runner;
  runner.generate = async (req: GenerateRequest) => {
    if (req.itemId === heldItem) {
      reached();
      await released;
    }
    return inner.generate(req);
  };
  return { runner, held, release };
}

describe('a run holds no record once it is journalled', () => {
  it('records written before the last request are collectable while the run is still going', async () => {
    const { dir, suite, profile } = setUp();
    const loaded = await loadRunnerProfile(profile);
    // Items run in file order: the dataset's last record is the last request.
    const heldId = (await loadDataset({ format: 'medqa', path: join(dir, 'test.jsonl') })).items.at(-1)!.id;
    const refs: Array<WeakRef<ItemResult>> = [];
    const again = await createRunner(loaded.profile);
    const { runner, held, release } = holdingOne(again, heldId);
    let written = 0;
    const run = runSuite({
      suite, runner: loaded, out: join(dir, 'run'), cacheDir: false, runnerInstance: runner,
      onEvent: (e) => {
        if (e.type !== 'item') return;
        written++;
        refs.push(new WeakRef(e.result));
      },
    });
    await held;
    // Every other request has been sent; wait (on events, not time) until their records are all written.
    while (written < ITEMS - 1) await new Promise((r) => setImmediate(r));
    // Leave the job that created the weak references, then collect.
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    release();
    const outcome = await run;
    // Up to the requests in flight at once may still be referenced by their promise chains; nothing per item beyond that.
    expect(alive).toBeLessThanOrEqual(4);
    expect(outcome.counts).toEqual({ records: ITEMS, errors: 0, correct: outcome.counts.correct });
    expect(outcome.manifest.status).toBe('finished');
    // The journal has every record even though the run kept none of them.
    expect(outcome.results).toHaveLength(ITEMS);
    expect(refs).toHaveLength(ITEMS);
  });
});
