// cli-progress, loaded when a bar is first drawn (a terminal, no CI): runs logging plain lines (CI, pipes,
// the benchmarks) never load it, and no command pays for it at start-up.
import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';

export type SingleBar = CliProgress.SingleBar;

const require = createRequire(import.meta.url);
let cliProgress: typeof CliProgress | undefined;

/** A cli-progress bar in the shades_classic preset. */
export function newBar(options: CliProgress.Options): SingleBar {
  cliProgress ??= require('cli-progress') as typeof CliProgress;
  return new cliProgress.SingleBar(options, cliProgress.Presets.shades_classic);
}
