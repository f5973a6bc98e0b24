#!/usr/bin/env node
// Stand-in executable for llama-server in managed-mode tests: takes -m/--model, --host, --port, -c, -np,
// prints the real start-up log lines (recorded from a real build), answers /health 503 "Loading model"
// until "loaded", then 200, serves /props, /v1/models, /metrics and a short chat stream, and on SIGTERM
// prints the real exit lines and ends with status 134 (the real build aborts on SIGTERM). Like the real
// build it closes the connection after each streamed answer although it sends Keep-Alive.
// Like the real one it answers /v1/models with the --alias it was given (the model path without one) and
// logs every request ("srv  log_server_r: request: POST /v1/chat/completions 127.0.0.1 200").
// Test-only flags: --fake-exit-at-start MESSAGE (print it and exit 1), --fake-load-ms N|never (loading time),
// --fake-shared-port: when the port is taken, stay up without a socket. The real server binds with
// SO_REUSEPORT and the kernel splits connections between the two servers; Node 20 cannot set SO_REUSEPORT,
// so this stands for the case where every connection goes to the other server. --fake-ignore-sigterm: a
// server that does not stop on SIGTERM (to see the SIGKILL after the grace period). --fake-service-ms N: each
// chat answer takes N ms of service time, one at a time (-np 1 as a server with one slot: requests queue).
// --fake-hold-chat K: the K-th chat request gets no answer at all, and "fake: holding chat request K" is
// logged (a test kills the server then, with that request in flight). --fake-notify URL: POST one JSON
// object per event to URL ({pid, port, event: 'listening' | 'chat' | 'holding'}), so a test that does not
// own the process (medeval starts it) learns of it the moment it happens.
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const opt = (...names) => {
  for (const n of names) {
    const i = argv.indexOf(n);
    if (i >= 0) return argv[i + 1];
  }
  return undefined;
};
const model = opt('-m', '--model');
const host = opt('--host') ?? '127.0.0.1';
const port = Number(opt('--port') ?? 8080);
const ctx = Number(opt('-c', '--ctx-size') ?? 2048);
const slots = Number(opt('-np', '--parallel') ?? 4);
const loadMs = opt('--fake-load-ms') === 'never' ? null : Number(opt('--fake-load-ms') ?? 30);
const exitMsg = opt('--fake-exit-at-start');
const alias = opt('-a', '--alias');
const sharedPort = argv.includes('--fake-shared-port');
const serviceMs = Number(opt('--fake-service-ms') ?? 0);
const holdChat = Number(opt('--fake-hold-chat') ?? 0);
const notifyUrl = opt('--fake-notify');
const notify = (event) => {
  if (!notifyUrl) return;
  fetch(notifyUrl, { method: 'POST', body: JSON.stringify({ pid: process.pid, port, event }) }).catch((e) => say(`fake: notify failed: ${e.message}`));
};
let chats = 0;
/** One slot: service times do not overlap. */
let slotFreeAt = 0;

const log = readFileSync(fileURLToPath(new URL('../fixtures/servers/llama-server-log.txt', import.meta.url)), 'utf8').split('\n');
const untilLoaded = log.slice(0, log.findIndex((l) => l.startsWith('main: model loaded')) + 1);
const say = (l) => process.stderr.write(l + '\n');

if (exitMsg) {
  say(`error: ${exitMsg}`);
  process.exit(1);
}
if (!model) {
  say('error: no model given (-m)');
  process.exit(1);
}
try {
  statSync(model);
} catch {
  say(`llama_model_load: error loading model: failed to open ${model}: No such file or directory`);
  say('main: exiting due to model loading error');
  process.exit(1);
}

let loaded = false;
const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', Server: 'llama.cpp', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};
const server = createServer((req, res) => {
  res.on('finish', () => say(`srv  log_server_r: request: ${req.method} ${(req.url ?? '/').split('?')[0]} ${req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '-'} ${res.statusCode}`));
  let raw = '';
  req.on('data', (d) => (raw += d));
  req.on('end', () => {
    const path = (req.url ?? '/').split('?')[0];
    if (!loaded && path !== '/v1/models' && path !== '/models') {
      return json(res, 503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
    }
    if (path === '/health') return json(res, 200, { status: 'ok' });
    if (path === '/props') return json(res, 200, { default_generation_settings: { n_ctx: ctx / slots }, total_slots: slots, model_path: model, build_info: 'b0-fake' });
    if (path === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: alias ?? model, object: 'model', owned_by: 'llamacpp', meta: { n_params: 292800, size: 1171200, n_ctx_train: 2048 } }] });
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      return res.end('# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 0\n');
    }
    if (path === '/v1/chat/completions') notify(++chats === holdChat ? 'holding' : 'chat');
    if (path === '/v1/chat/completions' && chats === holdChat) return say(`fake: holding chat request ${chats}`);
    if (path === '/v1/chat/completions' && serviceMs > 0) {
      const now = performance.now();
      slotFreeAt = Math.max(slotFreeAt, now) + serviceMs;
      return setTimeout(() => answerChat(res), slotFreeAt - now);
    }
    if (path === '/v1/chat/completions') return answerChat(res);
    json(res, 404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
  });
});
function answerChat(res) {
  // As the real build: Keep-Alive announced, yet the connection is closed once the stream is written.
  res.writeHead(200, { 'Content-Type': 'text/event-stream', Server: 'llama.cpp', 'Keep-Alive': 'timeout=5, max=100' });
  const socket = res.socket;
  const base = { created: 1, id: 'chatcmpl-fake', model: 'gpt-3.5-turbo', object: 'chat.completion.chunk' };
  for (const t of ['Answer', ': A']) res.write(`data: ${JSON.stringify({ choices: [{ finish_reason: null, index: 0, delta: { content: t } }], ...base })}\n\n`);
  res.write(`data: ${JSON.stringify({ choices: [{ finish_reason: 'stop', index: 0, delta: {} }], ...base, usage: { completion_tokens: 2, prompt_tokens: 9, total_tokens: 11 }, timings: { prompt_n: 9, prompt_ms: 1, predicted_n: 2, predicted_ms: 1 } })}\n\n`);
  res.end('data: [DONE]\n\n', () => socket?.destroy());
}
const started = () => {
  say(`main: HTTP server is listening, hostname: ${host}, port: ${port}, http threads: 6`);
  for (const l of untilLoaded.slice(3)) {
    if (l.startsWith('main: HTTP server is listening')) continue;
    say(l.replace('models/stories260K.gguf', model).replace(/n_ctx_slot = \d+/, `n_ctx_slot = ${ctx / slots}`));
  }
  if (loadMs === null) return; // loads forever: /health stays 503
  setTimeout(() => {
    loaded = true;
    say(`main: server is listening on http://${host}:${port} - starting the main loop`);
    notify('listening');
  }, loadMs);
};
server.listen(port, host, started);
server.on('error', (e) => {
  if (sharedPort && e.code === 'EADDRINUSE') {
    setInterval(() => {}, 1 << 30); // no socket keeps the process alive: stay up like a server
    return started();
  }
  say(`couldn't bind HTTP server socket, hostname: ${host}, port: ${port}: ${e.message}`);
  process.exit(1);
});
if (argv.includes('--fake-ignore-sigterm')) process.on('SIGTERM', () => say('srv    operator(): ignoring SIGTERM (test-only flag)'));
else process.on('SIGTERM', () => {
  say('srv    operator(): operator(): cleaning up before exit...');
  say('terminate called without an active exception');
  process.exit(134);
});
