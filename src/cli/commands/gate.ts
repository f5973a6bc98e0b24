// `medeval gate`: compare a current run folder with a stored baseline run folder and exit 1 when
// accuracy (or, if asked, latency / memory) regressed beyond the thresholds and beyond noise.
import { Option, type Command } from 'commander';
import { evaluateGate, gateReadOptions } from '../../gate/gate.js';
import { renderGateMarkdown } from '../../gate/markdown.js';
import { appendStepSummary, writeGateJson, writeGateJUnit } from '../../gate/outputs.js';
import { LATENCY_METRICS, MEMORY_PARTS } from '../../report/model.js';
import { readRunFolder } from '../../core/run-folder.js';
import { intOption, numberOption } from '../options.js';
import { printErr, printOut } from '../terminal.js';
import { checkOutFile } from '../out-path.js';

export function registerGate(program: Command): void {
  program
    .command('gate')
    .description('CI gate: exit 1 when the current run lost more accuracy than --max-drop against a baseline run AND the drop is significant (paired McNemar test); never runs a model')
    .requiredOption('--baseline <dir>', 'baseline run folder (stored from an accepted build)')
    .requiredOption('--current <dir>', 'run folder of this build')
    .requiredOption('--max-drop <points>', 'largest tolerated accuracy drop in percentage points (2 = two points)', numberOption)
    .option('--max-error-rate <share>', 'largest tolerated share of failed requests in the current run (0.05 = 5%)', numberOption, 0.05)
    .option('--max-latency-increase <pct>', 'also gate latency: largest tolerated increase of the mean, in percent', numberOption)
    .addOption(new Option('--latency-metric <metric>', 'latency figure for --max-latency-increase').choices([...LATENCY_METRICS]).default('e2eMs'))
    .option('--max-memory-increase <pct>', 'also gate memory: largest tolerated increase of --memory-part, in percent', numberOption)
    .addOption(new Option('--memory-part <part>', 'memory part for --max-memory-increase').choices([...MEMORY_PARTS]).default('weights'))
    .addOption(new Option('--pairing <mode>', 'auto: paired when both runs answered the same questions').choices(['auto', 'paired', 'unpaired']).default('auto'))
    .option('--min-coverage <share>', "smallest share of the baseline's questions the current run must have scored (1 = all, 0.9 = 90%)", numberOption, 1)
    .option('--allow-partial', 'let an unfinished current run, or one below --min-coverage, pass with a warning instead of failing')
    .option('--fail-on-warn', 'also fail when a drop is over the threshold but not significant (strict: gates on the point estimate)')
    .option('--confidence <level>', 'confidence of the intervals; significance level = 1 - confidence', numberOption, 0.95)
    .option('--seed <n>', 'bootstrap seed (the same runs and seed give the same result)', intOption)
    .option('--junit <file>', 'also write JUnit XML (one test case per check)')
    .option('--json <file>', 'also write the full result as JSON')
    .action((o) => {
      checkOutFile(o.junit, '--junit', 'gate/junit.xml');
      checkOutFile(o.json, '--json', 'gate/gate.json');
      const read = gateReadOptions({ maxLatencyIncreasePercent: o.maxLatencyIncrease });
      const baseline = readRunFolder(o.baseline, read);
      const current = readRunFolder(o.current, read);
      const result = evaluateGate({
        baseline,
        current,
        maxAccuracyDropPoints: o.maxDrop,
        maxErrorRate: o.maxErrorRate,
        maxLatencyIncreasePercent: o.maxLatencyIncrease,
        latencyMetric: o.latencyMetric,
        maxMemoryIncreasePercent: o.maxMemoryIncrease,
        memoryPart: o.memoryPart,
        pairing: o.pairing,
        confidence: o.confidence,
        seed: o.seed,
        failOnWarn: o.failOnWarn,
        minCoverage: o.minCoverage,
        allowPartial: o.allowPartial,
      });
      const markdown = renderGateMarkdown(result);
      printOut(markdown);
      appendStepSummary(markdown);
      if (o.junit) writeGateJUnit(result, o.junit);
      if (o.json) writeGateJson(result, o.json);
      printErr(`medeval gate: ${result.summary}\n`);
      // Exit 1 without an error trace: the summary above already says why.
      if (result.verdict === 'fail') process.exitCode = 1;
    });
}
