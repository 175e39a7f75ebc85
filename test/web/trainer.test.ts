import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { toLabeledData } from '../../src/data/dataset.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { Random } from '../../src/random.js';
import { gatherRows } from '../../src/tensor/ops.js';
import { train } from '../../src/train/train.js';
import { TrainingError } from '../../src/train/TrainingError.js';
import { MAX_EPOCHS } from '../../web/protocol.js';
import { DivergedError, SteppedTrainer, checkSettings } from '../../web/trainer.js';

describe('the worker\'s stepped trainer', () => {
  const ds = loadBundledDigits();
  const data = { train: toLabeledData(ds.train), test: toLabeledData(ds.test) };

  it('learns the bundled digits: test accuracy above 0.5 after one epoch, measured as the book does', () => {
    const trainer = new SteppedTrainer(data, { lr: 0.1, hidden: 50, batchSize: 100 });
    assert.equal(trainer.iterPerEpoch, 80);
    const losses: number[] = [];
    while (trainer.epochs.length < 2) {
      const { loss, point } = trainer.step();
      losses.push(loss);
      assert.equal(point, trainer.iteration === 1 || trainer.iteration === 81 ? trainer.epochs.at(-1) : null);
    }
    assert.equal(trainer.iteration, 81);
    assert.deepEqual(trainer.epochs.map((p) => [p.epoch, p.iteration]), [[0, 1], [1, 81]]);
    assert.ok(trainer.epochs[1].testAccuracy > 0.5, String(trainer.epochs[1].testAccuracy));
    assert.ok(!('seconds' in trainer.epochs[0]), 'points carry no training time (it would count pauses)');
    assert.ok(losses.every(Number.isFinite) && losses[80] < losses[0], `loss ${losses[0]} → ${losses[80]}`);
    const probs = trainer.probabilities(data.test.x.data.subarray(0, 784));
    assert.equal(probs.length, 10);
    assert.ok(Math.abs(probs.reduce((s, p) => s + p, 0) - 1) < 1e-5);
    assert.deepEqual(trainer.weights(), Float32Array.from(trainer.net.params.W1.data));
    assert.equal(trainer.weights().length, 784 * 50);
  });

  it('computes exactly what the book\'s loop (src/train/train.ts) computes from the same seed', () => {
    // one generator makes the initial weights, then draws the batches with replacement
    const settings = { lr: 0.5, hidden: 20, batchSize: 37 };
    const trainer = new SteppedTrainer(data, settings, 3);
    const losses: number[] = [];
    while (trainer.epochs.length < 3) losses.push(trainer.step().loss);
    assert.equal(trainer.iterPerEpoch, 216); // round(8000 / 37)
    const rng = new Random(3);
    const net = new TwoLayerNet(784, settings.hidden, 10, 0.01, { rng });
    const book = train(net, data, { iters: trainer.iteration, batchSize: settings.batchSize, lr: settings.lr, rng });
    assert.deepEqual(trainer.epochs, book.history.map(({ seconds: _, ...point }) => point));
    assert.deepEqual(losses, Array.from(book.lossList));
    assert.deepEqual(trainer.weights(), Float32Array.from(net.params.W1.data));
  });

  it(`runs until the page stops it, at the point of epoch ${MAX_EPOCHS}`, () => {
    const rows = Int32Array.from({ length: 50 }, (_, i) => i * 160);
    const small = { train: { x: gatherRows(data.train.x, rows), labels: Int32Array.from(rows, (r) => data.train.labels[r]) }, test: data.test };
    const trainer = new SteppedTrainer(small, { lr: 0.1, hidden: 10, batchSize: 50 }); // one iteration per epoch
    assert.equal(trainer.iterPerEpoch, 1);
    let last = null;
    while (!last || last.epoch < MAX_EPOCHS) last = trainer.step().point;
    assert.deepEqual([last.epoch, last.iteration, trainer.epochs.length], [MAX_EPOCHS, MAX_EPOCHS + 1, MAX_EPOCHS + 1]);
  });

  it('stops with a TrainingError when the loss is no longer finite, in the page\'s words', () => {
    // the page caps the learning rate at 10, where the loss stays finite (stuck near chance);
    // the guard is for what gets past that: here a rate raised after the check
    const trainer = new SteppedTrainer(data, { lr: 0.1, hidden: 50, batchSize: 100 });
    trainer.optimizer.hyperparameters.lr = 1e30;
    assert.throws(
      () => { for (let i = 0; i < 50; i++) trainer.step(); },
      (e: Error) => e instanceof DivergedError && e instanceof TrainingError
        && /^the loss became NaN at iteration (\d+): training diverged; reset and try a smaller learning rate than 1e\+30$/.test(e.message)
        && e.message.includes(`iteration ${trainer.iteration + 1}:`)
        // what the worker posts to the page, which words it (web/failures.ts)
        && e.failure.kind === 'diverged' && Number.isNaN(e.failure.loss) && e.failure.iteration === trainer.iteration + 1 && e.failure.lr === 1e30,
    );
  });

  it('refuses settings out of range', () => {
    assert.equal(checkSettings({ lr: 0.1, hidden: 50, batchSize: 100 }, 8000), null);
    assert.match(checkSettings({ lr: 0, hidden: 50, batchSize: 100 }, 8000)!, /^learning rate/);
    assert.match(checkSettings({ lr: NaN, hidden: 50, batchSize: 100 }, 8000)!, /^learning rate/);
    assert.match(checkSettings({ lr: 11, hidden: 50, batchSize: 100 }, 8000)!, /^learning rate must be a number above 0 and at most 10/);
    assert.match(checkSettings({ lr: 0.1, hidden: 2.5, batchSize: 100 }, 8000)!, /^hidden units/);
    assert.match(checkSettings({ lr: 0.1, hidden: 50, batchSize: 9000 }, 8000)!, /^batch size must be a whole number from 1 to 8000/);
    assert.throws(() => new SteppedTrainer(data, { lr: 0.1, hidden: 0, batchSize: 100 }), { name: 'RangeError', message: /^hidden units/ });
    assert.throws(() => new SteppedTrainer(data, { lr: 20, hidden: 50, batchSize: 100 }), { name: 'RangeError', message: /^learning rate/ });
  });
});
