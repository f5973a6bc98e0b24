// Regenerates schemas/*.schema.json from the zod schemas (run after changing a profile, suite or
// experiment schema): `npx tsx scripts/write-schemas.ts`. A test fails while the committed files are stale.
import { resolve } from 'node:path';
import { writeConfigSchemas } from '../src/run/json-schema.js';

const dir = resolve(import.meta.dirname, '../schemas');
for (const file of writeConfigSchemas(dir)) console.log(file);
