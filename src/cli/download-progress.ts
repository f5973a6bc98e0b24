// Download progress for `medeval datasets fetch` and a suite's first use of `dataset.hub`: a bar with
// bytes and ETA on a terminal, plain lines otherwise (a start and an end line per file).
import { newBar, type SingleBar } from './bar.js';
import type { DownloadProgress } from '../datasets/hub/index.js';
import { printerFor } from './terminal.js';

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(bytes < 10485760 ? 2 : 1)} MiB`;

export function downloadReporter(stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: DownloadProgress) => void; stop: () => void } {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const print = printerFor(stream);
  let bar: SingleBar | null = null;
  let current = '';
  let started = 0;
  const finishPlain = (p: DownloadProgress) => {
    const s = (Date.now() - started) / 1000;
    print(`downloaded ${p.path}: ${mib(p.bytes)} in ${s.toFixed(1)} s\n`);
  };
  return {
    onProgress: (p) => {
      if (p.path !== current) {
        bar?.stop();
        bar = null;
        current = p.path;
        started = Date.now();
        if (tty) {
          bar = newBar({
            stream,
            format: `${p.path} [{bar}] {done} of {size} | {speed} | ETA {eta_formatted}`,
            hideCursor: true,
            etaBuffer: 50,
          });
          bar.start(p.total, 0, { done: mib(0), size: mib(p.total), speed: '' });
        } else print(`downloading ${p.path}: ${mib(p.total)}\n`);
      }
      if (bar) {
        const s = Math.max((Date.now() - started) / 1000, 0.001);
        bar.update(p.bytes, { done: mib(p.bytes), size: mib(p.total), speed: `${mib(p.bytes / s)}/s` });
        if (p.bytes >= p.total) {
          bar.stop();
          bar = null;
        }
      } else if (p.bytes >= p.total && p.total > 0) finishPlain(p);
    },
    stop: () => {
      bar?.stop();
      bar = null;
    },
  };
}
