// Progress of `medeval compare`: one reporter per model for the whole comparison, so its bar and its
// accuracy are the run's (every turn so far, resumed records included), never one turn's. The dataset
// line is printed on a model's first turn only; compare prints its own line at the end of each turn.
import type { CompareOptions, CompareRole } from '../run/compare.js';
import { progressReporter, type ProgressEvent } from './progress.js';

export function compareProgress(stream: NodeJS.WriteStream = process.stderr): NonNullable<CompareOptions['onEvent']> {
  const sides = new Map<CompareRole, { onEvent: (e: ProgressEvent) => void; quiet: Set<ProgressEvent['type']> }>();
  return (role, label, e) => {
    let side = sides.get(role);
    if (!side) {
      const quiet = new Set<ProgressEvent['type']>(['finished']);
      side = { onEvent: progressReporter(label, stream, quiet).onEvent, quiet };
      sides.set(role, side);
    }
    side.onEvent(e);
    if (e.type === 'validated') side.quiet.add('validated');
  };
}
