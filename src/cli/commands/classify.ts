// `medeval classify FILE`: the question-type distribution of any dataset under the current rules, with
// the rule that fired, so the rules can be checked (and edited) on the user's own data. Runs no model.
import type { Command } from 'commander';
import { Option } from 'commander';
import { join } from 'node:path';
import { loadDataset, DATASET_FORMATS } from '../../datasets/index.js';
import type { DatasetFormat } from '../../datasets/index.js';
import { DEFAULT_PROMPTS_DIR, RULES_FILE, formatTypeDistribution, loadTypeRules, questionAsk, typeDistribution } from '../../prompts/index.js';
import { printErr, printOut } from '../terminal.js';

interface ClassifyOptions {
  format: DatasetFormat | 'auto';
  rules?: string;
  list?: boolean;
  skipInvalid?: boolean;
}

export function registerClassify(program: Command): void {
  program
    .command('classify')
    .description('print how the question-type rules split a dataset: per type counts and the rule that fired (runs no model)')
    .argument('<file>', 'dataset file (an MMLU folder of CSV files also works)')
    .addOption(new Option('-f, --format <format>', 'dataset format').choices(['auto', ...DATASET_FORMATS]).default('auto'))
    .option('--rules <file>', `question-type rules file (default: the bundled ${RULES_FILE})`)
    .option('--list', 'also print one tab-separated line per item: id, type, rule, matched text, ask')
    .option('--skip-invalid', 'skip invalid records (listed on stderr) instead of failing')
    .action(async (file: string, o: ClassifyOptions) => {
      const rulesFile = o.rules ?? join(DEFAULT_PROMPTS_DIR, RULES_FILE);
      const rules = await loadTypeRules(rulesFile);
      const dataset = await loadDataset({ format: o.format, path: file, skipInvalid: o.skipInvalid });
      for (const w of dataset.warnings) printErr(`warning: ${w}\n`);
      for (const s of dataset.skipped) printErr(`skipped ${s.place}: ${s.reason}\n`);
      const { distribution, each } = typeDistribution(dataset.items.map((i) => i.question), rules);
      printOut(formatTypeDistribution(distribution, rulesFile));
      const stated = dataset.items.filter((i) => i.meta.questionType).length;
      if (stated) printOut(`note: ${stated} items state their own type in the dataset; a run uses that type for them, not the rules'\n`);
      if (o.list) {
        printOut('\nid\ttype\trule\tmatched\task\n');
        dataset.items.forEach((item, i) => {
          const c = each[i]!;
          printOut(`${item.id}\t${c.type}\t${c.rule}\t${c.matched ?? ''}\t${questionAsk(item.question).replace(/\t/g, ' ')}\n`);
        });
      }
    });
}
