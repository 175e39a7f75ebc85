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
