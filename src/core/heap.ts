// One full garbage collection, for the moment a command has just let go of most of what it held (the
// report's journal records once the model is built). V8 starts its next full collection from the heap's
// size at its largest, so without one the writers' allocations grow the process on top of the dead
// records instead of reusing their space (100,000 items per model: peak RSS 695 -> 533 MB, the writers'
// phase from about 650 to 320 MB). --expose-gc set at run time reaches the functions of new contexts only.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** A full collection now, when the heap holds at least `minBytes` (a small heap is not worth the pause). */
export function collectGarbage(minBytes = 0): void {
  if (process.memoryUsage().heapUsed < minBytes) return;
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
