#!/usr/bin/env node
// A consumer's install of medeval, measured and used: packs this checkout (npm pack, which builds dist/ and
// the API docs first) or takes a tarball, installs it into an empty project the way a user does
// (`npm install ./medeval-x.tgz`, from the npm cache where it can), and reports the size of node_modules,
// its largest packages and which optional runtimes came along. Then, as that consumer:
//   1. `import { runSuite, loadRunnerProfile } from 'medeval'` and a run of the bundled smoke-test suite
//      against the project's llama-server protocol double on loopback (scripts/llama-server-double.ts);
//   2. `medeval report` on that run (charts written, or skipped with the package to install);
//   3. `medeval run` with an onnx profile (without onnxruntime-node: exit 2 naming it).
// It takes minutes (pack, install), so it is a script, not a test; test/core/optional-package.test.ts is
// the fast check of the same messages.
// usage: node scripts/consumer-install.mjs [--tarball FILE] [--json FILE] [--keep]
// ONNXRUNTIME_NODE_INSTALL=skip is set for the install: onnxruntime-node's install script downloads CUDA
// libraries (and fails offline) wherever onnxruntime-node is installed.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const OPTIONAL = ['onnxruntime-node', '@huggingface/transformers', '@napi-rs/canvas'];
const INSTALL_ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' };

const work = mkdtempSync(join(tmpdir(), 'medeval-consumer-'));
const log = (l) => process.stderr.write(`consumer-install: ${l}\n`);

/** Runs a command, timed from outside with GNU time when it is there (wall, user + sys CPU, peak RSS of the tree's largest process). */
function timed(cmd, cmdArgs, opts) {
  const gnuTime = existsSync('/usr/bin/time');
  const timeFile = join(work, 'time.txt');
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', cmd, ...cmdArgs], { encoding: 'utf8', maxBuffer: 64 << 20, ...opts })
    : spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  let time = null;
  if (gnuTime && existsSync(timeFile)) {
    const [wallS, userS, sysS, maxRssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    time = { wallS, cpuS: Math.round((userS + sysS) * 100) / 100, maxRssMb: Math.round(maxRssKb / 1024) };
  }
  return { ...r, time };
}

function mustRun(what, r) {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return r;
}

const kib = (path) => Number(spawnSync('du', ['-sk', path], { encoding: 'utf8' }).stdout.split('\t')[0]);

/** Every installed package folder (scoped ones one level down) with its size, largest first. */
function packageSizes(nodeModules) {
  const out = [];
  for (const e of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    if (e.name.startsWith('@')) {
      for (const s of readdirSync(join(nodeModules, e.name), { withFileTypes: true })) {
        if (s.isDirectory()) out.push({ name: `${e.name}/${s.name}`, kib: kib(join(nodeModules, e.name, s.name)) });
      }
    } else out.push({ name: e.name, kib: kib(join(nodeModules, e.name)) });
  }
  return out.sort((a, b) => b.kib - a.kib);
}

async function withDouble(use) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/llama-server-double.ts')], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout });
    let baseUrl = null;
    for await (const line of lines) {
      if (line.startsWith('listening ')) {
        baseUrl = line.slice('listening '.length);
        break;
      }
    }
    if (!baseUrl) throw new Error('the llama-server double did not start');
    return await use(baseUrl);
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await once(child, 'exit');
  }
}

const CHECK = `// As a library user writes it: the package's own entry, a profile file, a suite shipped in the package.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRunnerProfile, runSuite } from 'medeval';

const [baseUrl, out] = process.argv.slice(2);
const pkg = join(dirname(fileURLToPath(import.meta.resolve('medeval'))), '..');
writeFileSync('double.yaml', 'kind: llama-server\\nlabel: double\\nmode: attached\\nbaseUrl: ' + baseUrl + '\\n');
const runner = await loadRunnerProfile('double.yaml');
const { manifest, results } = await runSuite({ suite: join(pkg, 'suites/usmle-sample.yaml'), runner, out, limit: 6, cacheDir: false });
console.log(JSON.stringify({ status: manifest.status, records: results.length, answered: results.filter((r) => r.correct !== null).length }));
`;

async function main() {
  let tarball = opt('--tarball') ? resolve(opt('--tarball')) : null;
  const figures = { date: new Date().toISOString(), node: process.version, loadAverageAtStart: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100) };
  if (!tarball) {
    log('npm pack (prepack builds dist/ and dist-docs/) ...');
    const r = mustRun('npm pack', timed('npm', ['pack', '--pack-destination', work], { cwd: REPO }));
    tarball = join(work, r.stdout.trim().split('\n').pop());
    figures.pack = r.time;
  }
  figures.tarball = tarball;
  figures.tarballKib = kib(tarball);
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'medeval-consumer', private: true, type: 'module' }, null, 2) + '\n');
  log(`npm install ${tarball} (prefer the cache) ...`);
  const install = mustRun('npm install', timed('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: consumer, env: INSTALL_ENV }));
  figures.install = install.time;
  const nm = join(consumer, 'node_modules');
  figures.nodeModulesKib = kib(nm);
  figures.nodeModulesMib = Math.round(figures.nodeModulesKib / 1024);
  const sizes = packageSizes(nm);
  figures.packages = sizes.length;
  figures.largest = sizes.slice(0, 12).map((p) => ({ name: p.name, mib: Math.round(p.kib / 102.4) / 10 }));
  figures.optionalInstalled = OPTIONAL.filter((p) => existsSync(join(nm, p)));
  const llamaKib = sizes.filter((p) => p.name === 'node-llama-cpp' || p.name.startsWith('@node-llama-cpp/')).reduce((a, p) => a + p.kib, 0);
  figures.nodeLlamaCppMib = Math.round(llamaKib / 102.4) / 10;

  writeFileSync(join(consumer, 'check.mjs'), CHECK);
  const bin = join(nm, '.bin', 'medeval');
  await withDouble(async (baseUrl) => {
    log(`library run against the llama-server double at ${baseUrl} ...`);
    const r = timed(process.execPath, ['check.mjs', baseUrl, join(consumer, 'run')], { cwd: consumer });
    figures.libraryRun = { exit: r.status, result: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()) : null, stderr: r.status === 0 ? undefined : r.stderr.slice(-2000), time: r.time };
  });
  if (figures.libraryRun.exit === 0) {
    log('medeval report on that run ...');
    const rep = timed(bin, ['report', join(consumer, 'run'), '--out', join(consumer, 'report')], { cwd: consumer });
    figures.report = {
      exit: rep.status,
      chartsWritten: existsSync(join(consumer, 'report', 'charts')),
      filesWritten: existsSync(join(consumer, 'report')) ? readdirSync(join(consumer, 'report')).sort() : [],
      skippedLine: rep.stdout.split('\n').find((l) => l.includes('skipped:')) ?? null,
      time: rep.time,
    };
  }
  log('medeval run with an onnx profile ...');
  const onnx = timed(bin, ['run', '--suite', join(nm, 'medeval/suites/usmle-sample.yaml'), '--runner', join(nm, 'medeval/runners/onnx-tiny-fp32.yaml'), '--limit', '1', '--no-cache', '--out', join(consumer, 'onnx-run')], { cwd: consumer });
  figures.onnxRun = { exit: onnx.status, message: onnx.stderr.trim().split('\n').filter((l) => /onnxruntime|hint|medeval:/.test(l)).slice(0, 3) };

  const text = JSON.stringify(figures, null, 2);
  if (opt('--json')) writeFileSync(opt('--json'), text + '\n');
  console.log(text);
  if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}

main().catch((e) => {
  log(e.stack ?? String(e));
  log(`work folder kept: ${work}`);
  process.exit(1);
});
