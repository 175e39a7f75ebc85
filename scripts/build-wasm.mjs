#!/usr/bin/env node
/**
 * Compiles the AssemblyScript kernels (src/kernels/wasm/assembly/) into two WebAssembly modules:
 *
 *   kernels.wasm         imports a plain memory          (one thread; works everywhere)
 *   kernels-shared.wasm  imports a shared memory         (threads; needs SharedArrayBuffer)
 *
 * and the same two with relaxed SIMD's relaxed_madd in the micro-kernels (kernels-relaxed.wasm,
 * kernels-relaxed-shared.wasm), and bundles the thread pool's worker script
 * (src/kernels/wasm/threadWorker.ts) into one file with no imports, run as it is by Node's
 * worker_threads and by browsers' Web Workers:
 *
 *   threadWorker.js
 *
 * and writes them to src/kernels/wasm/generated/ (build output, read by the sources under tsx;
 * scripts/build.mjs copies the folder into dist/ for the compiled package).
 *
 * Skips the work when the outputs are newer than the sources; `--force` rebuilds anyway.
 * Offline after `npm install`: it only runs the locally installed assemblyscript compiler.
 *
 * Usage: node scripts/build-wasm.mjs [--force]
 */
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const assemblyDir = path.join(root, 'src/kernels/wasm/assembly');
// Entry files of one module: the exports of each are the module's.
const entries = ['kernels.ts', 'sparse.ts'].map((f) => path.join(assemblyDir, f));
const wasmDir = path.join(root, 'src/kernels/wasm');
/** The worker script and the modules it is bundled from. */
const WORKER = { file: 'threadWorker.js', entry: path.join(wasmDir, 'threadWorker.ts'), sources: ['threadWorker.ts', 'threads.ts', 'support.ts'] };
const outDirs = [path.join(root, 'src/kernels/wasm/generated')];
const ascBin = fileURLToPath(import.meta.resolve('assemblyscript/bin/asc.js'));

// The largest wasm32 memory, in 64 KiB pages; a shared memory must declare its maximum.
const MAX_PAGES = 65536;
const common = ['-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--enable', 'simd'];
const shared = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', String(MAX_PAGES)];
// Each twice: plain SIMD, and relaxed SIMD's fused multiply-add in the micro-kernels (chosen at
// run time where the engine has it and it is faster: see create.ts).
const plain = ['--use', 'RELAXED_SIMD=0'];
const relaxed = ['--use', 'RELAXED_SIMD=1', '--enable', 'relaxed-simd'];
const targets = [
  { file: 'kernels.wasm', flags: [...common, ...plain] },
  { file: 'kernels-shared.wasm', flags: [...common, ...plain, ...shared] },
  { file: 'kernels-relaxed.wasm', flags: [...common, ...relaxed] },
  { file: 'kernels-relaxed-shared.wasm', flags: [...common, ...relaxed, ...shared] },
];

async function mtime(file) {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return -Infinity;
  }
}

async function upToDate() {
  const sources = (await readdir(assemblyDir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(assemblyDir, f));
  sources.push(fileURLToPath(import.meta.url), ...WORKER.sources.map((f) => path.join(wasmDir, f)));
  const newestSource = Math.max(...(await Promise.all(sources.map(mtime))));
  for (const dir of outDirs) {
    for (const t of [...targets, WORKER]) if ((await mtime(path.join(dir, t.file))) < newestSource) return false;
  }
  return true;
}

/** Bundles the worker script: ES module, no imports (nothing of Node's: it reaches worker_threads through process.getBuiltinModule). */
async function bundleWorker() {
  const out = path.join(outDirs[0], WORKER.file);
  await build({
    entryPoints: [WORKER.entry], outfile: out, bundle: true, format: 'esm', platform: 'neutral', target: ['es2022'],
    legalComments: 'none', logLevel: 'silent',
    banner: { js: '// The wasm backend\'s thread worker (bundled from src/kernels/wasm/threadWorker.ts by scripts/build-wasm.mjs).' },
  });
  return out;
}

/** Runs asc in a child process, so the two targets compile in parallel. */
function compile(target) {
  const out = path.join(outDirs[0], target.file);
  const args = ['--enable-source-maps', ascBin, ...entries, ...target.flags, '-o', out];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`asc failed for ${target.file} (exit code ${code}):\n${stderr}`));
    });
  });
}

const force = process.argv.includes('--force');
if (!force && (await upToDate())) {
  console.log('build-wasm: kernels are up to date');
} else {
  const started = performance.now();
  await Promise.all(outDirs.map((d) => mkdir(d, { recursive: true })));
  const built = await Promise.all([...targets.map(compile), bundleWorker()]);
  const sizes = await Promise.all(built.map(async (f) => `${path.basename(f)} ${(await stat(f)).size} B`));
  console.log(`build-wasm: ${sizes.join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
