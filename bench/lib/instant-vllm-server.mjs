#!/usr/bin/env node
// An instant vLLM-shaped OpenAI server for the client benchmarks (a protocol double, not vLLM): keep-alive,
// /health, /v1/models (max_model_len), /metrics, /tokenize ({count}), and /v1/chat/completions streamed the
// way vLLM streams it (a role chunk, content chunks, a finish chunk, a usage chunk with "choices": [], then
// "data: [DONE]"). Every answer is "The answer is B." at once: what is measured is the client.
// Runs in its own process so its CPU time and memory are not the client's; prints its port on stdout
// (or sends it over IPC when started with one). Usage: node instant-vllm-server.mjs [--port N]
import { createServer } from 'node:http';

const argv = process.argv.slice(2);
const portArg = argv.indexOf('--port');
const port = portArg >= 0 ? Number(argv[portArg + 1]) : 0;
const MODEL = 'bench/instant';
const meta = `"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1795534944,"model":"${MODEL}"`;
const chunk = (delta, finish) => `data: {${meta},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : 'null'}}]}\n\n`;
const WORDS = ['The', ' answer', ' is', ' B', '.'];
const STREAM = chunk({ role: 'assistant', content: '' }) + WORDS.map((w) => chunk({ content: w })).join('') + chunk({ content: '' }, 'stop') +
  `data: {${meta},"choices":[],"usage":{"prompt_tokens":120,"total_tokens":126,"completion_tokens":6}}\n\ndata: [DONE]\n\n`;
const MODELS = JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', created: 1795534944, owned_by: 'vllm', root: MODEL, parent: null, max_model_len: 32768, permission: [] }] });
let served = 0;

const json = (res, status, text) => {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const server = createServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (raw += d));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return json(res, 200, '');
    if (path === '/v1/models') return json(res, 200, MODELS);
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      return res.end(`# TYPE vllm:request_success_total counter\nvllm:request_success_total{engine="0",finished_reason="stop",model_name="${MODEL}"} ${served}.0\n`);
    }
    // A word count stands in for the tokenizer: the client only needs a number that fits the context.
    if (path === '/tokenize' && req.method === 'POST') return json(res, 200, `{"count":${raw.split(/\s+/).length},"max_model_len":32768,"tokens":[]}`);
    if (path === '/v1/chat/completions' && req.method === 'POST') {
      served++;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      return res.end(STREAM);
    }
    json(res, 404, '{"detail":"Not Found"}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const p = server.address().port;
  if (process.send) process.send(p);
  else process.stdout.write(`${p}\n`);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
