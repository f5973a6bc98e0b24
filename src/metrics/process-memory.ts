// Resident memory of the medeval process itself, for runners that hold the model in process
// (llama.cpp embedded, onnxruntime-node). The kernel's high-water mark (maxRSS = VmHWM) is the peak;
// a 100 ms sampler adds a timeline-friendly current value and a check on the kernel figure.
import { performance } from 'node:perf_hooks';
import type { MemoryFigure } from '../core/types.js';

export class ProcessMemorySampler {
  private timer: NodeJS.Timeout | null = null;
  private sampledPeak = 0;
  private last = 0;

  constructor(private readonly intervalMs = 100) {}

  start(): void {
    this.sample();
    if (this.timer) return;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref(); // never keep the process alive for a sampler
  }

  sample(): number {
    this.last = process.memoryUsage().rss;
    if (this.last > this.sampledPeak) this.sampledPeak = this.last;
    return this.last;
  }

  currentRss(): number {
    return this.sample();
  }

  /** The kernel's peak (VmHWM) for this process, in bytes; the sampled peak where that is missing. */
  peakBytes(): number {
    const kernelPeak = process.resourceUsage().maxRSS * 1024; // KiB on Linux
    return Math.max(kernelPeak, this.sampledPeak);
  }

  peakFigure(): MemoryFigure {
    return {
      bytes: this.peakBytes(),
      source: 'peak RSS of the medeval process (getrusage maxRSS = VmHWM)',
      note: 'includes Node.js itself (about 50-100 MB); run one model per process for a clean peak (medeval compare does)',
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

let recentRssBytes = 0;
let recentRssAt = -Infinity;

/**
 * This process's RSS, read at most once per `maxAgeMs` (a record's rssBytes): reading it for every item
 * cost about 7% of the client's CPU at thousands of requests per second, and a 100 ms old figure draws
 * the same memory curve.
 */
export function recentRss(maxAgeMs = 100): number {
  const now = performance.now();
  if (now - recentRssAt >= maxAgeMs) {
    recentRssBytes = process.memoryUsage.rss();
    recentRssAt = now;
  }
  return recentRssBytes;
}
