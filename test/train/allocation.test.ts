import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/kernels/Backend.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { MultiLayerNet } from '../../src/nets/MultiLayerNet.js';
import { Trainer } from '../../src/train/Trainer.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { subset } from '../../src/data/split.js';
import { toLabeledData } from '../../src/data/dataset.js';
import { Random } from '../../src/random.js';
import { allBackends } from '../kernels/backends.js';
import { gatherRows } from '../../src/tensor/ops.js';
import { SGD } from '../../src/optimizers/SGD.js';

const digits = loadBundledDigits();

/** Counts the tensor storage a backend hands out (its alloc is wrapped for the test's duration). */
function counting(backend: Backend): { backend: Backend; count: () => number; restore: () => void } {
  let n = 0;
  const original = backend.alloc;
  backend.alloc = function (length, dtype) {
    n++;
    return original.call(this, length, dtype);
  };
  return { backend, count: () => n, restore: () => void (backend.alloc = original) };
}

for (const base of await allBackends()) {
  describe(`a training step allocates nothing after the first iterations (backend ${base.name})`, () => {
    const nets = {
      TwoLayerNet: (backend: Backend, rng: Random) => new TwoLayerNet(784, 50, 10, 0.01, { rng, backend }),
      'MultiLayerNet with batch norm and dropout': (backend: Backend, rng: Random) =>
        new MultiLayerNet(784, [40, 30], 10, { rng, backend, useBatchnorm: true, useDropout: true, dropoutRatio: 0.2 }),
    };
    for (const [name, make] of Object.entries(nets)) {
      for (const optimizer of ['sgd', 'adam']) {
        it(`${name}, ${optimizer}`, () => {
          const { backend, count, restore } = counting(base);
          const data = { train: toLabeledData(subset(digits.train, Int32Array.from({ length: 5000 }, (_, i) => i)), { backend }), test: toLabeledData(subset(digits.test, [0, 1]), { backend }) };
          const rng = new Random(1);
          const trainer = new Trainer(make(backend, rng), data, { epochs: 1, miniBatchSize: 100, optimizer, rng });
          for (let i = 0; i < 3; i++) trainer.trainStep(); // the first records epoch 0; buffers and optimizer slots appear
          const before = count();
          const heapBefore = (backend as { heap?: { liveBytes: number } }).heap?.liveBytes;
          for (let i = 0; i < 40; i++) trainer.trainStep(); // no epoch ends among these (50 iterations per epoch)
          assert.equal(count() - before, 0, 'tensor storage allocated during training steps');
          if (heapBefore !== undefined) assert.equal((backend as unknown as { heap: { liveBytes: number } }).heap.liveBytes, heapBefore, 'wasm heap grew');
          restore();
        });
      }
    }
  });
}

/**
 * The book's loop as a library user writes it: a fresh batch tensor every step
 * (`x_batch = x_train[batch_mask]`: ops.gatherRows without `out`), then net.gradient and
 * SGD.update. The dropped batches must come back to the wasm heap inside the synchronous loop,
 * so its memory stays flat. A small net and batch keep the 100,000 steps to a few seconds.
 */
describe('a loop that allocates a fresh batch every step runs in flat wasm memory', async () => {
  const { createWasmBackend } = await import('../../src/kernels/wasm/index.js');
  const freshBatchLoop = (backend: Backend, steps: number, sample: (step: number) => void) => {
    const train = toLabeledData(subset(digits.train, Int32Array.from({ length: 2000 }, (_, i) => i)), { backend });
    const rng = new Random(3);
    const net = new TwoLayerNet(784, 8, 10, 0.01, { rng, backend });
    const optimizer = new SGD({ lr: 0.1 });
    const index = new Int32Array(16);
    const t = new Int32Array(16);
    for (let step = 0; step < steps; step++) {
      rng.choice(train.x.shape[0], index.length, index);
      const xBatch = gatherRows(train.x, index); // a new tensor each step, dropped at the next
      for (let j = 0; j < index.length; j++) t[j] = train.labels[index[j]];
      optimizer.update(net.params, net.gradient(xBatch, t));
      sample(step);
    }
  };

  // The heap lets up to 512 MiB of dropped blocks pile up between reclaims (Heap.ts,
  // RECLAIM_POLICY): 10,000 of these 50 KB batches. So the memory settles within the first two
  // such cycles and must not grow in the eight or more after.
  it('100,000 steps: the memory after the first 20,000 is the memory at the end', async () => {
    const backend = await createWasmBackend({ threads: 1 });
    const heap = backend.heap;
    let afterFifth = 0;
    let reclaimsAfterFifth = 0;
    freshBatchLoop(backend, 100_000, (step) => {
      if (step === 19_999) [afterFifth, reclaimsAfterFifth] = [heap.byteLength, heap.reclaims];
    });
    assert.ok(heap.reclaims - reclaimsAfterFifth >= 5, `${heap.reclaims - reclaimsAfterFifth} reclaims of dropped blocks in the last 80,000 steps`);
    assert.equal(heap.byteLength, afterFifth, `wasm memory grew from ${afterFifth} to ${heap.byteLength} bytes`);
    // 100,000 batches of 16 × 784 floats are 5 GB: flat means well under a GB.
    assert.ok(heap.byteLength < 2 ** 30, `wasm memory ${heap.byteLength} bytes`);
  });

  it('without reclaiming (reclaim: false) the same loop grows the memory: the test above can fail', async () => {
    const backend = await createWasmBackend({ threads: 1, reclaim: false });
    const start = backend.heap.byteLength;
    freshBatchLoop(backend, 3_000, () => {});
    assert.equal(backend.heap.reclaims, 0);
    assert.ok(backend.heap.byteLength - start > 3_000 * 16 * 784 * 4 * 0.9, `grew only ${backend.heap.byteLength - start} bytes`);
  });
});
