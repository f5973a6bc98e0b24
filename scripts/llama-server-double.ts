// Serves the project's llama-server protocol double (test/doubles/) on loopback for a process that does not
// have the project's sources, such as a consumer install (scripts/consumer-install.mjs): prints
// `listening <baseUrl>` on stdout, answers every chat request "Answer: <letter>" (the letter follows the
// prompt's length, so some answers are right and some wrong), and stops when stdin closes.
// usage: node --import tsx scripts/llama-server-double.ts
import { LlamaServerDouble } from '../test/doubles/llama-server-double.js';

const server = await new LlamaServerDouble().start();
server.script = (body) => ({ chunks: [{ delayMs: 0, content: `Answer: ${'ABCDE'[JSON.stringify(body.messages).length % 5]}` }], finishReason: 'stop' });
process.stdout.write(`listening ${server.baseUrl}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.stop().then(() => process.exit(0)));
