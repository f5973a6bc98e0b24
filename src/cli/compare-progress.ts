// Progress of `medeval compare`: one reporter per model (a ladder: one per compressed model) for the whole comparison, so its bar and its
// accuracy are the run's (every turn so far, resumed records included), never one turn's. The dataset
// line is printed on a model's first turn only; compare prints its own line at the end of each turn.
import type { CompareOptions } from '../run/compare.js';
import { progressReporter, type ProgressEvent } from './progress.js';

export function compareProgress(stream: NodeJS.WriteStream = process.stderr): NonNullable<CompareOptions['onEvent']> {
  // Keyed by role and label: a ladder has several compressed models.
  const sides = new Map<string, { onEvent: (e: ProgressEvent) => void; quiet: Set<ProgressEvent['type']> }>();
  return (role, label, e) => {
    const key = `${role}\u0000${label}`;
    let side = sides.get(key);
    if (!side) {
      const quiet = new Set<ProgressEvent['type']>(['finished']);
      side = { onEvent: progressReporter(label, stream, quiet).onEvent, quiet };
      sides.set(key, side);
    }
    side.onEvent(e);
    if (e.type === 'validated') side.quiet.add('validated');
  };
}
