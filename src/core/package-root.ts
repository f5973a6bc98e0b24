import { fileURLToPath } from 'node:url';

/** The medeval package folder (src/core and dist/core are both two levels below it). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
