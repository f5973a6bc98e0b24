// Entry point of the `medeval` executable (bin/medeval.js loads the compiled copy of this file).
import { main } from './entry.js';

main().then((code) => {
  process.exitCode = code;
  // Native bindings (llama.cpp threads) can hold the event loop open after their work is done.
  setImmediate(() => process.exit(code));
});
