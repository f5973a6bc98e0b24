#!/usr/bin/env node
// The published CLI runs the compiled code; `npm run build` (or `npm start`) makes dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('medeval: dist/ is missing. Run `npm run build` first (or use `npm run medeval -- ...` to run from source).');
  process.exit(2);
}
await import(main.href);
