// Prints the plain closing line CI reads: "N passed, N failed", from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const [file = 'test-output/vitest.json', statusArg = '0'] = process.argv.slice(2);
const status = Number(statusArg);
const fresh = existsSync(file);
if (!fresh) {
  // The type-check runs first: when it fails, vitest never starts.
  console.log(`0 passed, ${status === 0 ? 0 : 1} failed${status === 0 ? '' : ' (type-check or setup failed before the tests ran)'}`);
} else {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
