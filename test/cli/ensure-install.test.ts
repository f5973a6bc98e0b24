// `npm start` runs scripts/ensure-install.mjs first. In a git worktree whose node_modules is a link to a
// shared install, `npm ci` through the link emptied the shared folder: the script must leave a link alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '../../scripts/ensure-install.mjs');

describe('ensure-install before npm start', () => {
  it('does not reinstall (and so empty) a node_modules that is a symbolic link', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-ensure-'));
    const shared = join(dir, 'shared-node_modules');
    mkdirSync(shared);
    writeFileSync(join(shared, 'keep.txt'), 'a package of the shared install');
    const work = join(dir, 'worktree');
    mkdirSync(work);
    // The lock file is newer than the (missing) install marker: the script would normally run npm ci.
    writeFileSync(join(work, 'package-lock.json'), '{"name":"x","lockfileVersion":3,"packages":{}}');
    symlinkSync(shared, join(work, 'node_modules'));
    const r = spawnSync(process.execPath, [SCRIPT], { cwd: work, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('node_modules is a link to another install; not reinstalling it');
    expect(existsSync(join(shared, 'keep.txt'))).toBe(true);
  });
});
