// Entry point of the `medeval` executable (bin/medeval.js loads the compiled copy of this file).
import { main } from './entry.js';

// `medeval ... | head` closes the pipe early: the reader has all it wanted, so a write that finds it closed
// is not a failure of the command (it would otherwise crash on an unhandled 'error' event). The command goes
// on and ends with its own exit code; a run keeps journalling to its folder.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

main().then((code) => {
  process.exitCode = code;
  // Native bindings (llama.cpp threads) can hold the event loop open after their work is done.
  setImmediate(() => process.exit(code));
});
