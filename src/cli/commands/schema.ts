import type { Command } from 'commander';
import { isAbsolute, join, relative } from 'node:path';
import { printOut } from '../terminal.js';
import { CONFIG_SCHEMAS, writeConfigSchemas, yamlSchemaHint } from '../../run/json-schema.js';
import { checkOutDir } from '../out-path.js';

/** `medeval schema [--out DIR]`: JSON Schemas of runner profiles, suites and experiments, for editors. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('write JSON Schemas of runner profiles, suites and experiment files (editor completion and checks)')
    .option('-o, --out <dir>', 'folder to write the schema files into', 'schemas')
    .action((o: { out: string }) => {
      checkOutDir(o.out, 'schemas');
      const written = writeConfigSchemas(o.out);
      for (const path of written) printOut(`${path}\n`);
      // The schema path is relative to the YAML file: shown here for a file in runners/ or suites/.
      printOut('\nPut the matching line at the top of a YAML file in runners/ or suites/:\n');
      for (const c of CONFIG_SCHEMAS) {
        const target = join(o.out, c.file);
        printOut(`  ${yamlSchemaHint(isAbsolute(target) ? target : relative('runners', target))}\n`);
      }
    });
}
