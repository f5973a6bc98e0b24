// Whether a process that is not the test's own child still lives, and waiting until it is gone. Managed
// servers are medeval's children: no exit event reaches the test, so /proc is read, within a bound that
// only a leak reaches.
import { readFileSync } from 'node:fs';

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is gone, false when it outlives the bound. */
export async function waitGone(pid: number, boundMs = 30_000): Promise<boolean> {
  const until = Date.now() + boundMs;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
