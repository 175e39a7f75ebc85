/**
 * Nothing leaks over 100,000 autograd training steps, measured as test/train/allocation.test.ts
 * measures the layers: the wasm heap's live bytes (after a garbage collection, which the
 * autograd graph's garbage waits for) and the wasm memory's size, plus the JS heap, on every
 * backend. A small net keeps the run short; it goes through every part of a step (forward,
 * backward, the optimizer, Model.cleargrads). On a backend that can free storage (wasm), the
 * book's two-layer net written with autograd allocates no storage at all after warm-up, as
 * the hand-written layers (test/train/allocation.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Backend } from '../../src/kernels/Backend.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { Random } from '../../src/random.js';
import { F, Linear, Model, Variable, type VariableLike } from '../../src/autograd/index.js';
import { axpyInto } from '../../src/tensor/ops.js';
import { Adam } from '../../src/optimizers/Adam.js';
import { SGD } from '../../src/optimizers/SGD.js';
import { AutogradTwoLayerNet } from '../../src/nets/AutogradTwoLayerNet.js';
import { allBackends } from '../kernels/backends.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Collect twice, letting the finalizers that return wasm blocks run in between. */
async function collect(): Promise<void> {
  for (let k = 0; k < 3; k++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

class Net extends Model {
  fc1: Linear;
  fc2: Linear;
  constructor(backend: Backend) {
    super();
    this.fc1 = new Linear(8, 16, { backend, rng: new Random(1), names: ['W1', 'b1'] });
    this.fc2 = new Linear(16, 4, { backend, rng: new Random(2), names: ['W2', 'b2'] });
  }
  forward(x: VariableLike): Variable {
    return this.fc2.forward(F.tanh(F.relu(this.fc1.forward(x))));
  }
}

const STEPS = 100_000;

for (const backend of await allBackends()) {
  if ((backend as { free?: unknown }).free) {
    it(`the autograd TwoLayerNet step allocates no tensor storage after the first iterations (backend ${backend.name})`, () => {
      const net = new AutogradTwoLayerNet(784, 50, 10, { backend, seed: 1 });
      const x = Tensor.zeros([100, 784], { backend });
      x.data.forEach((_, i) => (x.data[i] = (i % 7) / 7));
      const t = Int32Array.from({ length: 100 }, (_, i) => i % 10);
      const sgd = new SGD({ lr: 0.1 });
      const step = (): void => {
        net.cleargrads();
        net.loss(x, t).backward();
        sgd.update(net.paramTensors(), net.gradTensors());
      };
      for (let i = 0; i < 3; i++) step();
      let allocs = 0;
      const original = backend.alloc;
      backend.alloc = function (length, dtype) {
        allocs++;
        return original.call(this, length, dtype);
      };
      try {
        for (let i = 0; i < 40; i++) step();
      } finally {
        backend.alloc = original;
      }
      assert.equal(allocs, 0, 'tensor storage allocated during autograd training steps');
    });
  }
  describe(`autograd training steps leak nothing (backend ${backend.name})`, () => {
    it('plain Variables with cleargrad (DeZero\'s loops, no Model): the wasm heap stays flat over 20,000 steps', async () => {
      const rng = new Random(3);
      const W = new Variable(Tensor.from(Array.from({ length: 32 }, () => rng.normal()), [8, 4], { backend }), { name: 'W' });
      const b = new Variable(Tensor.zeros([4], { backend }), { name: 'b' });
      const x = Tensor.from(Array.from({ length: 80 }, () => rng.normal()), [10, 8], { backend });
      const y = Tensor.from(Array.from({ length: 40 }, () => rng.normal()), [10, 4], { backend });
      const step = (): number => {
        W.cleargrad();
        b.cleargrad();
        const loss = F.meanSquaredError(F.sigmoid(F.linear(x, W, b)), y);
        loss.backward();
        axpyInto(-0.1, W.grad!.data, W.data); // W ← W − lr · ∂L/∂W
        axpyInto(-0.1, b.grad!.data, b.data);
        return loss.data.data[0];
      };
      const first = step();
      for (let i = 0; i < 500; i++) step();
      await collect();
      const heap = (backend as { heap?: { liveBytes: number; byteLength: number } }).heap;
      const before = { live: heap?.liveBytes, memory: heap?.byteLength };
      let last = NaN;
      for (let i = 0; i < 20_000; i++) last = step();
      await collect();
      assert.ok(last < first, `the fit improved (loss ${first} → ${last})`);
      if (heap) {
        assert.equal(heap.liveBytes, before.live, 'wasm live bytes after the run');
        assert.ok(heap.byteLength - before.memory! <= 20_000 * 64 + 2 ** 20, `wasm memory grew from ${before.memory} to ${heap.byteLength} bytes`);
      }
    });

    it(`${STEPS.toLocaleString('en')} steps: wasm live bytes, wasm memory and JS heap stay flat`, { timeout: 300_000 }, async () => {
      const net = new Net(backend);
      const x = Tensor.zeros([10, 8], { backend });
      x.data.forEach((_, i) => (x.data[i] = Math.sin(i)));
      const t = Array.from({ length: 10 }, (_, i) => i % 4);
      const adam = new Adam({ lr: 0.001 });
      let first = NaN, last = NaN;
      const step = (): void => {
        net.cleargrads();
        const loss = F.softmaxCrossEntropy(net.forward(x), t);
        loss.backward();
        adam.update(net.paramTensors(), net.gradTensors());
        last = loss.data.data[0];
        if (Number.isNaN(first)) first = last;
      };
      for (let i = 0; i < 1000; i++) step();
      await collect();
      const heap = (backend as { heap?: { liveBytes: number; byteLength: number } }).heap;
      const before = { js: process.memoryUsage().heapUsed, live: heap?.liveBytes, memory: heap?.byteLength };
      for (let i = 0; i < STEPS; i++) step();
      await collect();
      assert.ok(last < first, `the net trained (loss ${first} → ${last})`);
      const jsGrowth = process.memoryUsage().heapUsed - before.js;
      assert.ok(jsGrowth < 2 * 2 ** 20, `JS heap grew by ${(jsGrowth / 2 ** 20).toFixed(1)} MB`);
      if (heap) {
        assert.equal(heap.liveBytes, before.live, 'wasm live bytes after the run');
        // each step's loss (one 64-byte block: cleargrads keeps it readable) waits for a garbage
        // collection; everything else is returned at once, so the memory grows by at most that
        assert.ok(heap.byteLength - before.memory! <= STEPS * 64 + 2 ** 20, `wasm memory grew from ${before.memory} to ${heap.byteLength} bytes`);
      }
    });
  });
}
