/**
 * ms per training iteration on the wasm backend, as the Trainer runs it: gather a batch of
 * 100 bundled digits (drawn during the step before and gathered meanwhile by gatherRowsAhead),
 * forward + backward (net.gradient), then the SGD step W −= 0.1·dW on every parameter. Median over several runs of many iterations. A measurement, not a test; run it
 * through scripts/measure-wasm.ts --step [convnet|twolayer|autograd] [--kernels] [--quick].
 *
 *   convnet   the book's SimpleConvNet: 30 filters 5×5, hidden 100, batch 100
 *   twolayer  the book's TwoLayerNet: 784-50-10, batch 100
 *   autograd  the same net written with autograd (AutogradTwoLayerNet), same weights: its
 *             kernels beside twolayer's show what the graph adds
 *
 * With --fashion, the batches are drawn from Fashion-MNIST's 60,000 training images (the
 * dataset-fashion-mnist package's files, as the bench uses when they are installed: 50% of their
 * pixels are 0, against 80% of a digit's) instead of the 8,000 bundled digits.
 *
 * With --kernels, the time of each kernel call is summed per step (1 and 2 threads), so what is left
 * over is the JavaScript around the kernels (layers, operations, argument checks).
 */
import { loadavg as osLoadavg } from 'node:os';
import type { Backend } from '../src/kernels/Backend.js';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { loadBundledDigits } from '../src/data/bundledDigits.js';
import { loadIdxDataset } from '../src/data/idxFiles.js';
import { toLabeledData, type ImageSet } from '../src/data/dataset.js';
import { axpyInto } from '../src/tensor/ops.js';
import { BatchRows } from '../src/train/BatchRows.js';
import type { Tensor } from '../src/tensor/Tensor.js';
import { SimpleConvNet } from '../src/nets/SimpleConvNet.js';
import { TwoLayerNet } from '../src/nets/TwoLayerNet.js';
import { AutogradTwoLayerNet } from '../src/nets/AutogradTwoLayerNet.js';
import { Random } from '../src/random.js';
import { FASHION_DIR } from '../bench/shared.js';

export type NetName = 'convnet' | 'twolayer' | 'autograd';
export const NET_NAMES: readonly NetName[] = ['convnet', 'twolayer', 'autograd'];

interface Trainable {
  gradient(x: Tensor, t: Int32Array): Record<string, Tensor>;
  params: Record<string, Tensor>;
}

const BATCH = 100;
const LR = 0.1;

/** The settings per net: iterations per run, runs, warm-up iterations. */
function settings(net: NetName, quick: boolean): { iters: number; runs: number; warmup: number } {
  if (net === 'convnet') return quick ? { iters: 10, runs: 5, warmup: 10 } : { iters: 30, runs: 9, warmup: 20 };
  return quick ? { iters: 300, runs: 5, warmup: 200 } : { iters: 2000, runs: 7, warmup: 500 };
}

function makeNet(name: NetName, backend: Backend): Trainable {
  if (name === 'convnet') {
    return new SimpleConvNet([1, 28, 28], { filterNum: 30, filterSize: 5, pad: 0, stride: 1 }, 100, 10, 0.01, { seed: 1, backend }) as unknown as Trainable;
  }
  const net = new TwoLayerNet(784, 50, 10, 0.01, { seed: 1, backend });
  if (name === 'twolayer') return net as unknown as Trainable;
  // autograd: the same weights; gradient = cleargrads, the loss's graph, backward (as its docs' loop)
  const graph = new AutogradTwoLayerNet(784, 50, 10, { params: net.params });
  let lastLoss = NaN;
  return {
    params: graph.paramTensors(),
    gradient(x: Tensor, t: Int32Array): Record<string, Tensor> {
      graph.cleargrads();
      const loss = graph.loss(x, t);
      loss.backward();
      lastLoss = loss.data.data[0];
      return graph.gradTensors();
    },
    get lastLayer() {
      return { loss: lastLoss };
    },
  } as Trainable;
}

/** Median ms per iteration, and all the runs' values. */
function timeSteps(name: NetName, backend: Backend, quick: boolean, train: ImageSet): { median: number; runs: number[]; loss: number } {
  const data = toLabeledData(train, { backend });
  const net = makeNet(name, backend);
  const rng = new Random(3);
  let [index, nextIndex] = [new Int32Array(BATCH), new Int32Array(BATCH)];
  const t = new Int32Array(BATCH);
  const rows = new BatchRows(data.x);
  const keys = Object.keys(net.params);
  // as the Trainer steps: each batch drawn during the step before and gathered meanwhile (gatherRowsAhead)
  const step = (): void => {
    let xBatch: Tensor;
    if (!rows.pending) {
      rng.choice(data.x.shape[0], BATCH, index);
      xBatch = rows.gather(index);
    } else {
      xBatch = rows.take();
      [nextIndex, index] = [index, nextIndex];
    }
    rng.choice(data.x.shape[0], BATCH, nextIndex);
    rows.ahead(nextIndex);
    for (let j = 0; j < BATCH; j++) t[j] = data.labels[index[j]];
    const grads = net.gradient(xBatch, t);
    for (const key of keys) axpyInto(-LR, grads[key], net.params[key]); // W ← W − lr·dW
  };
  const s = settings(name, quick);
  for (let i = 0; i < s.warmup; i++) step();
  const runs: number[] = [];
  for (let r = 0; r < s.runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < s.iters; i++) step();
    runs.push((performance.now() - t0) / s.iters);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  const loss = (net as unknown as { lastLayer: { loss: number | null } }).lastLayer.loss ?? NaN;
  return { median: sorted[sorted.length >> 1], runs, loss };
}

/** Wraps every kernel of `backend` to sum its time and calls; returns the totals. */
function instrument(backend: WasmBackend): Map<string, { ms: number; calls: number }> {
  const totals = new Map<string, { ms: number; calls: number }>();
  let depth = 0; // a kernel called by another (gatherRowsAhead's fallback gatherRows) counts in its caller only
  const proto = Object.getPrototypeOf(backend) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || name === 'alloc' || name === 'free' || name === 'close') continue;
    const desc = Object.getOwnPropertyDescriptor(proto, name);
    if (!desc || typeof desc.value !== 'function' || ['withArgs', 'scratch', 'jobFields', 'windowJob', 'product', 'newStorage', 'allocUninitialized'].includes(name)) continue;
    const fn = desc.value as (...args: unknown[]) => unknown;
    (backend as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (depth > 0) return fn.apply(backend, args);
      // products by shape: m×k×n, with ᵀ on a transposed operand
      const fused = name === 'matmulFused' ? (args[8] as { bias?: unknown; relu?: boolean; mask?: unknown }) : null;
      // a batched product: batch × (m×k×n), Σ when summed, +b with a row bias
      const batched = name === 'matmulBatch' ? { strides: args[4] as { c: number }, rowBias: args[11], relu: args[12] } : null;
      const key = batched ? `${name} ${args[3]}×(${args[5]}×${args[6]}×${args[7]})${args[8] ? ' Aᵀ' : ''}${args[9] ? ' Bᵀ' : ''}${batched.strides.c === 0 ? ' Σ' : ''}${batched.rowBias ? ' +b' : ''}${batched.relu ? ' relu' : ''}`
        : name !== 'matmul' && name !== 'matmulFused' ? name : `${name} ${args[3]}×${args[4]}×${args[5]}${args[6] ? ' Aᵀ' : ''}${args[7] ? ' Bᵀ' : ''}` +
        (fused ? `${fused.bias ? ' +b' : ''}${fused.relu ? ' relu' : ''}${fused.mask ? ' mask' : ''}` : '');
      let entry = totals.get(key);
      if (!entry) totals.set(key, (entry = { ms: 0, calls: 0 }));
      const t0 = performance.now();
      depth++;
      let r: unknown;
      try {
        r = fn.apply(backend, args);
      } finally {
        depth--;
      }
      entry.ms += performance.now() - t0;
      entry.calls++;
      if (name !== 'gatherRowsAhead') return r;
      // and its wait, timed as a kernel of its own
      const wait = r as () => void;
      return () => {
        let w = totals.get(`${name} (wait)`);
        if (!w) totals.set(`${name} (wait)`, (w = { ms: 0, calls: 0 }));
        const t1 = performance.now();
        depth++;
        try {
          wait();
        } finally {
          depth--;
        }
        w.ms += performance.now() - t1;
        w.calls++;
      };
    };
  }
  return totals;
}

export async function measureSteps(options: { nets: NetName[]; quick: boolean; kernels: boolean; fashion: boolean }): Promise<void> {
  // loadIdxDataset names the missing file and the package when it is not installed
  const train = options.fashion ? loadIdxDataset(FASHION_DIR).train : loadBundledDigits({ splitSeed: 0 }).train;
  console.log(`training images: ${options.fashion ? `Fashion-MNIST (${FASHION_DIR})` : 'the bundled digits'}, ${train.count}`);
  const one = await createWasmBackend({ threads: 1 });
  const two = await createWasmBackend({ threads: 2 });
  const fmt = (r: { median: number; runs: number[] }) =>
    `${r.median.toFixed(3)} (runs ${[...r.runs].sort((a, b) => a - b).map((v) => v.toFixed(3)).join(' ')})`;
  for (const name of options.nets) {
    const s = settings(name, options.quick);
    const r1 = timeSteps(name, one, options.quick, train);
    const r2 = timeSteps(name, two, options.quick, train);
    console.log(`${name}: ms per training iteration, median of ${s.runs} runs of ${s.iters} (after ${s.warmup} warm-up)`);
    console.log(`  wasm 1 thread : ${fmt(r1)}  loss ${r1.loss.toFixed(4)}`);
    console.log(`  wasm 2 threads: ${fmt(r2)}  loss ${r2.loss.toFixed(4)}`);
    for (const threads of options.kernels ? [1, 2] : []) {
      const b = await createWasmBackend({ threads });
      const totals = instrument(b);
      timeSteps(name, b, true, train); // warm
      for (const e of totals.values()) e.ms = e.calls = 0;
      const iters = settings(name, options.quick);
      const r = timeSteps(name, b, options.quick, train);
      const steps = iters.warmup + iters.runs * iters.iters;
      let sum = 0;
      const rows = [...totals].filter(([, e]) => e.calls > 0).sort((x, y) => y[1].ms - x[1].ms);
      console.log(`  per-kernel time per step, ${threads} thread${threads > 1 ? 's' : ''} (instrumented step ${r.median.toFixed(3)} ms):`);
      for (const [k, e] of rows) {
        sum += e.ms / steps;
        console.log(`    ${k.padEnd(28)} ${(e.ms / steps * 1000).toFixed(1).padStart(8)} µs  ${(e.calls / steps).toFixed(0)} calls`);
      }
      console.log(`    ${'all kernels'.padEnd(28)} ${(sum * 1000).toFixed(1).padStart(8)} µs; the rest ~${((r.median - sum) * 1000).toFixed(1)} µs`);
      await b.close();
    }
  }
  console.log(`Load average at the end: ${osLoadavg().map((l) => l.toFixed(2)).join(' ')}`);
  await one.close();
  await two.close();
}
