// The items of a streamed dataset (openDataset), read again one at a time when a run asks for them: the
// first pass kept only each item's id and its record's position in a pass; a cursor runs the format's
// record stream once more and picks those records out, so no more than one item is held at a time.
import type { DatasetItem } from '../core/types.js';
import { newPassNotes, type RecordOutcome, type RecordStream } from './finish.js';
import { takeReadWarnings } from './jsonl.js';
import type { DatasetIndex, ItemCursor, LoadedDataset } from './types.js';

type Summary = Omit<LoadedDataset, 'items'>;

export function datasetIndex(summary: Summary, stream: RecordStream, ids: readonly string[], ordinals: ArrayLike<number>): DatasetIndex {
  const positions = Float64Array.from(ordinals as ArrayLike<number>);
  return {
    ...summary,
    ids,
    cursor: () => new StreamCursor(stream, ids, positions, summary.name),
    subset: (keep) => datasetIndex(summary, stream, keep.map((k) => ids[k]!), keep.map((k) => positions[k]!)),
  };
}

class StreamCursor implements ItemCursor {
  private records: AsyncIterator<RecordOutcome> | null = null;
  /** Position in the pass of the last record read (-1: none yet). */
  private read = -1;
  private current: { k: number; item: DatasetItem } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stream: RecordStream,
    private readonly ids: readonly string[],
    private readonly ordinals: Float64Array,
    private readonly name: string,
  ) {}

  at(k: number): Promise<DatasetItem> {
    const next = this.queue.then(() => this.seek(k));
    this.queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.release();
  }

  private async seek(k: number): Promise<DatasetItem> {
    if (!Number.isInteger(k) || k < 0 || k >= this.ids.length) throw new RangeError(`no item at position ${k} (the run has ${this.ids.length})`);
    if (this.current?.k === k) return this.current.item;
    const target = this.ordinals[k]!;
    if (this.records === null || target <= this.read) await this.reopen();
    for (;;) {
      const r = await this.records!.next();
      if (r.done) {
        await this.release();
        throw this.changed(k, 'it has fewer records now');
      }
      this.read++;
      if (this.read < target) continue;
      const item = r.value.item;
      const id = this.ids[k]!;
      // A repeated content hash was numbered ("<id>.<n>") in the first pass; the file gives the plain id again.
      if (!item || r.value.problems.length > 0 || (item.id !== id && !id.startsWith(item.id + '.'))) {
        await this.release();
        throw this.changed(k, `record ${r.value.place.file}:${r.value.place.line ?? '?'} is not item ${id} any more`);
      }
      item.id = id;
      item.meta.dataset = this.name;
      this.current = { k, item };
      // The last item: nothing more to read, so the file is let go now.
      if (k === this.ids.length - 1) await this.release(true);
      return item;
    }
  }

  private changed(k: number, why: string): Error {
    return new Error(`the dataset changed while the run was reading it (item ${k + 1}: ${why}); restore the file and resume the run`);
  }

  private async reopen(): Promise<void> {
    await this.release();
    this.records = this.stream.pass(newPassNotes())[Symbol.asyncIterator]();
    this.read = -1;
  }

  private async release(keepCurrent = false): Promise<void> {
    const records = this.records;
    this.records = null;
    if (!keepCurrent) this.current = null;
    if (records) await records.return?.();
    // A second read notes the file's reading warnings again: they were reported with the first pass.
    for (const file of this.stream.files) takeReadWarnings(file);
  }
}
