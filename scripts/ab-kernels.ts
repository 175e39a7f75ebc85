/**
 * A against B of built kernel modules (kernels.wasm files, e.g. copies of
 * src/kernels/wasm/generated/ before and after a change), one thread, on the bench's
 * matrix-product shapes: alternating short samples timed on the process's CPU clock, so that
 * a shared machine's other processes (which stop the wall clock's samples, not this one's)
 * disturb the figures less. Prints GFLOPS (median and the fastest tenth) per module and shape,
 * and whether each module's C is bit-identical to the first's (else the largest difference).
 * A measurement, not a test. Run with --no-liftoff so that every module runs V8's optimised
 * code from its first product.
 *
 * Usage: node --no-liftoff --import tsx scripts/ab-kernels.ts NAME=FILE.wasm ... [--rounds N] [--shapes KEY,...]
 *   (shape keys: bench/shared.ts MATMUL_SHAPES; default all)
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import v8 from 'node:v8';
import { MATMUL_SHAPES } from '../bench/shared.js';
import { Heap } from '../src/kernels/wasm/Heap.js';
import { TMP_BYTES_PER_THREAD, WasmBackend, type KernelExports } from '../src/kernels/wasm/WasmBackend.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20: the relaxed-SIMD build compiles

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const modules = args.filter((a) => a.includes('=') && !a.startsWith('--')).map((a) => a.split('=') as [string, string]);
const rounds = Number(option('--rounds') ?? 21);
const keys = option('--shapes')?.split(',');
const shapes = keys ? MATMUL_SHAPES.filter((s) => keys.includes(s.key)) : MATMUL_SHAPES;
if (modules.length === 0 || shapes.length === 0 || !(rounds >= 1)) {
  process.stderr.write('usage: node --no-liftoff --import tsx scripts/ab-kernels.ts NAME=FILE.wasm ... [--rounds N] [--shapes KEY,...]\n');
  process.exit(2);
}

/** A one-thread backend on its own memory running `file` (a module built before panelFloats existed has 8-float panels). */
function backendOf(file: string): WasmBackend {
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536 });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), { env: { memory } }).exports;
  const kernels = { panelFloats: () => 8, ...exports } as unknown as KernelExports;
  const heap = new Heap(memory, kernels.heapBase(), 65536);
  return new WasmBackend(kernels, heap, null, { name: 'ab', threadThreshold: Infinity, tmp: heap.alloc(TMP_BYTES_PER_THREAD) });
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fastTenth = (xs: number[]) => [...xs].sort((a, b) => b - a)[Math.floor(xs.length / 10)];

const backends = modules.map(([name, file]) => ({ name, backend: backendOf(file) }));
console.log(`${rounds} alternating rounds per shape, CPU time; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const s of shapes) {
  const runs = backends.map(({ name, backend }) => {
    const a = backend.alloc(s.m * s.k, 'float32');
    const b = backend.alloc(s.k * s.n, 'float32');
    const c = backend.alloc(s.m * s.n, 'float32');
    a.data.forEach((_, i, d) => (d[i] = Math.sin(i) * 0.5));
    b.data.forEach((_, i, d) => (d[i] = Math.cos(i) * 0.5));
    const run = () => backend.matmul(a.data, b.data, c.data, s.m, s.k, s.n, s.transA, s.transB, false);
    let reps = 1; // products per sample: at least 3 ms
    for (;;) {
      const t = performance.now();
      for (let r = 0; r < reps; r++) run();
      if (performance.now() - t > 3) break;
      reps *= 2;
    }
    return { name, run, reps, c, gflops: [] as number[] };
  });
  const flops = 2 * s.m * s.k * s.n;
  for (let r = 0; r < rounds; r++) {
    for (const x of r % 2 ? [...runs].reverse() : runs) {
      const t = cpuMs();
      for (let i = 0; i < x.reps; i++) x.run();
      x.gflops.push((flops * x.reps) / ((cpuMs() - t) * 1e6));
    }
  }
  const ref = runs[0].c.data;
  const cells = runs.map((x) => {
    const d = x.c.data;
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(d[i] - ref[i]));
    return `${x.name} ${median(x.gflops).toFixed(1)} (fastest tenth ${fastTenth(x.gflops).toFixed(1)}) ${diff === 0 ? '=' : `Δ ${diff.toExponential(1)}`}`;
  });
  console.log(`${s.label.padEnd(30)} ${cells.join(' | ')}`);
}
console.log(`load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
