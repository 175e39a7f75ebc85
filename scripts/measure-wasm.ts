/**
 * Matrix-product throughput of the wasm backend (1 and 2 threads) against the js backend, in
 * GFLOPS (2·m·k·n per product), median of repeated timings. A measurement, not a test.
 *
 * Usage: node --import tsx scripts/measure-wasm.ts [--quick] [--copy] [--threshold] [--step [convnet|twolayer|autograd]] [--kernels] [--fashion] [--warmup]
 *   --quick      fewer repeats
 *   --copy       also time the copy path (plain Float32Arrays outside the wasm memory)
 *   --threshold  time 1 against 2 threads on growing products, to place threadThreshold
 *   --step       ms per training iteration (gather a batch of 100 bundled digits, gradient,
 *                SGD step) of SimpleConvNet (30 filters 5×5, hidden 100) and TwoLayerNet
 *                (784-50-10), and the latter in autograd, on wasm 1 and 2 threads; `--step convnet`,
 *                `twolayer` or `autograd` for one
 *   --kernels    with --step: also the time per step spent in each kernel (1 and 2 threads)
 *   --fashion    with --step: batches of Fashion-MNIST (installed by dataset-fashion-mnist), not digits
 *   --warmup     µs per (100×784)·(784×50) product, by hundreds, from a new backend's first
 *                product (1 and 2 threads, a fresh process for each): how soon the pool pays
 */
import type { Backend, FloatArray } from '../src/kernels/Backend.js';
import { JsBackend } from '../src/kernels/reference/JsBackend.js';
import { loadavg as osLoadavg } from 'node:os';
import { createWasmBackend } from '../src/kernels/wasm/index.js';

const loadavg = () => osLoadavg().map((l) => l.toFixed(2)).join(' ');

interface Shape { label: string; m: number; k: number; n: number; transA: boolean; transB: boolean }

const SHAPES: Shape[] = [
  { label: '(100×784)·(784×50)', m: 100, k: 784, n: 50, transA: false, transB: false },
  { label: '(100×784)ᵀ·(100×50)', m: 784, k: 100, n: 50, transA: true, transB: false },
  { label: '(100×50)·(784×50)ᵀ', m: 100, k: 50, n: 784, transA: false, transB: true },
  { label: '(1000×1000)²', m: 1000, k: 1000, n: 1000, transA: false, transB: false },
];

const quick = process.argv.includes('--quick');
const stepArg = process.argv.indexOf('--step');
const withCopy = process.argv.includes('--copy');
const SAMPLES = quick ? 7 : 21;
const SAMPLE_MS = quick ? 5 : 20;

/** An array getter: storage views must be re-read after any allocation (the memory may grow). */
function filled(backend: Backend, length: number, inMemory: boolean): () => FloatArray {
  const storage = inMemory ? backend.alloc(length, 'float32') : { data: new Float32Array(length) };
  const a = storage.data;
  for (let i = 0; i < length; i++) a[i] = Math.sin(i) * 0.5;
  return () => storage.data;
}

/** GFLOPS of one product shape on one backend: the median sample, and the best one. */
function measure(backend: Backend, s: Shape, inMemory: boolean): { median: number; best: number } {
  const a = filled(backend, s.m * s.k, inMemory);
  const b = filled(backend, s.k * s.n, inMemory);
  const c = filled(backend, s.m * s.n, inMemory);
  const run = () => backend.matmul(a(), b(), c(), s.m, s.k, s.n, s.transA, s.transB, false);
  // Warm up (lets V8 tier the kernels up), and find how many products fill one sample.
  let reps = 1;
  for (;;) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) run();
    if (performance.now() - t >= SAMPLE_MS) break;
    reps *= 2;
  }
  const samples: number[] = [];
  const sampleCount = backend.name === 'js' ? Math.min(SAMPLES, 3) : SAMPLES;
  for (let i = 0; i < sampleCount; i++) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) run();
    samples.push((performance.now() - t) / reps);
  }
  samples.sort((x, y) => x - y);
  const toGflops = (ms: number) => (2 * s.m * s.k * s.n) / (ms * 1e6);
  return { median: toGflops(samples[samples.length >> 1]), best: toGflops(samples[0]) };
}

/** Median GFLOPS. */
function gflops(backend: Backend, s: Shape, inMemory: boolean): number {
  return measure(backend, s, inMemory).median;
}

const fmt = (g: { median: number; best: number }) => `${g.median.toFixed(1)} (${g.best.toFixed(1)})`;

if (stepArg >= 0) {
  const { measureSteps, NET_NAMES } = await import('./measure-step.js');
  const which = NET_NAMES.find((n) => n === process.argv[stepArg + 1]);
  await measureSteps({
    nets: which ? [which] : NET_NAMES,
    quick,
    kernels: process.argv.includes('--kernels'),
    fashion: process.argv.includes('--fashion'),
  });
  process.exit(0);
}

if (process.argv.includes('--warmup')) {
  // One backend per process: the JIT's state is per process, and what is measured is its start.
  const { execFileSync } = await import('node:child_process');
  const child = process.argv.indexOf('--warmup-child');
  if (child >= 0) {
    const threads = Number(process.argv[child + 1]);
    const backend = await createWasmBackend({ threads });
    const s = SHAPES[0];
    const [a, b, c] = [filled(backend, s.m * s.k, true), filled(backend, s.k * s.n, true), filled(backend, s.m * s.n, true)];
    const hundreds: string[] = [];
    for (let h = 0; h < (quick ? 10 : 30); h++) {
      const t = performance.now();
      for (let i = 0; i < 100; i++) backend.matmul(a(), b(), c(), s.m, s.k, s.n, false, false, false);
      hundreds.push(((performance.now() - t) * 10).toFixed(0));
    }
    console.log(`  ${threads} thread${threads > 1 ? 's' : ' '}: ${hundreds.join(' ')}`);
    await backend.close();
  } else {
    console.log(`µs per ${SHAPES[0].label} product, mean of each hundred from the backend's first product:`);
    for (const threads of [1, 2, 1, 2]) {
      const args = [...process.execArgv, process.argv[1], '--warmup', '--warmup-child', String(threads), ...(quick ? ['--quick'] : [])];
      process.stdout.write(execFileSync(process.execPath, args, { encoding: 'utf8' }));
    }
    console.log(`Load average at the end: ${loadavg()}.`);
  }
  process.exit(0);
}

if (process.argv.includes('--threshold')) {
  const one = await createWasmBackend({ threads: 1 });
  const two = await createWasmBackend({ threads: 2, threadThreshold: 0 });
  console.log('| product (M,K,N) | MFLOP | µs, 1 thread | µs, 2 threads | 2t / 1t |');
  console.log('|---|---|---|---|---|');
  for (const k of [4, 8, 16, 32, 64, 128, 256, 512, 1024]) {
    const s: Shape = { label: `(100×${k})·(${k}×50)`, m: 100, k, n: 50, transA: false, transB: false };
    const flop = 2 * s.m * s.k * s.n;
    const g1 = gflops(one, s, true);
    const g2 = gflops(two, s, true); // medians
    console.log(`| ${s.label} | ${(flop / 1e6).toFixed(2)} | ${(flop / g1 / 1e3).toFixed(1)} | ${(flop / g2 / 1e3).toFixed(1)} | ${(g2 / g1).toFixed(2)}× |`);
  }
  process.exit(0);
}

const js = new JsBackend();
const wasm1 = await createWasmBackend({ threads: 1 });
const wasm2 = await createWasmBackend({ threads: 2 });

const rows: string[][] = [];
for (const s of SHAPES) {
  const g1 = measure(wasm1, s, true);
  const g2 = measure(wasm2, s, true);
  const row = [s.label, gflops(js, s, false).toFixed(1), fmt(g1), fmt(g2), `${(g2.median / g1.median).toFixed(2)}× (${(g2.best / g1.best).toFixed(2)}×)`];
  if (withCopy) row.push(fmt(measure(wasm1, s, false)));
  rows.push(row);
}
const header = ['product', 'js', 'wasm, 1 thread', 'wasm, 2 threads', '2t / 1t'];
if (withCopy) header.push('wasm 1t, copy path');
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(
  `\nGFLOPS (2·m·k·n per product): median of ${SAMPLES} samples of ≥${SAMPLE_MS} ms, best sample in brackets ` +
    `(js: median of 3); arrays inside the wasm memory unless "copy path". Load average at the end: ${loadavg()}.`,
);
