// Paths as stored in manifests and reports: relative to the working directory when the file is inside it
// (so a run folder or an example report made in one clone says "suites/demo.yaml", not the home folder
// of whoever ran it), absolute otherwise (a model on another disk stays findable).
import { isAbsolute, relative, sep } from 'node:path';

export function portablePath(p: string, cwd = process.cwd()): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(cwd, p);
  if (rel === '') return '.';
  if (rel.startsWith('..') || isAbsolute(rel)) return p;
  return rel.split(sep).join('/');
}
