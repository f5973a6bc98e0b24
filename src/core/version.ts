import { readFileSync } from 'node:fs';

/** medeval's version, from package.json (dist/core or src/core are both two levels below it). */
export const MEDEVAL_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0-unknown';
  }
})();
