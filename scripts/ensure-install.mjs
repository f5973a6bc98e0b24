// Runs before `npm start`: installs the locked dependencies when they are missing or older than the lock,
// so a newcomer's first command works on a fresh clone.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, statSync } from 'node:fs';

const installed = 'node_modules/.package-lock.json';
// A node_modules that is a symbolic link is someone else's install (a shared checkout, a git worktree):
// `npm ci` would empty the folder it points to, so it is left alone.
const linked = existsSync('node_modules') && lstatSync('node_modules').isSymbolicLink();
const stale = !existsSync(installed) || statSync('package-lock.json').mtimeMs > statSync(installed).mtimeMs;
if (linked && stale) {
  console.error('medeval: node_modules is a link to another install; not reinstalling it (run npm ci where it points if it is out of date)');
} else if (stale) {
  console.error('medeval: installing dependencies from package-lock.json (npm ci) ...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], {
    stdio: 'inherit',
    // onnxruntime-node's install script downloads CUDA libraries, which fails offline; the CPU build ships in the package.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}
