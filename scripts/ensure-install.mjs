// Runs before `npm start`: installs the locked dependencies when they are missing or older than the lock,
// so a newcomer's first command works on a fresh clone.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
const stale = !existsSync(installed) || statSync('package-lock.json').mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  console.error('medeval: installing dependencies from package-lock.json (npm ci) ...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], {
    stdio: 'inherit',
    // onnxruntime-node's install script downloads CUDA libraries, which fails offline; the CPU build ships in the package.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}
