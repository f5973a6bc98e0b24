// The program without its commands: name, description, --version, how errors end.
import { Command } from 'commander';
import { MEDEVAL_VERSION } from '../core/version.js';

export function emptyProgram(): Command {
  return new Command('medeval')
    .description('Evaluate and benchmark medical LLMs: accuracy, latency and memory of a baseline vs a compressed model')
    .version(MEDEVAL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}
