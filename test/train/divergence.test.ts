import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { loadBundledDigits } from '../../src/data/bundledDigits.js';
import { subset } from '../../src/data/split.js';
import { toLabeledData, type LabeledData } from '../../src/data/dataset.js';
import { MultiLayerNet, type MultiLayerNetOptions } from '../../src/nets/MultiLayerNet.js';
import { SimpleConvNet } from '../../src/nets/SimpleConvNet.js';
import { TwoLayerNet } from '../../src/nets/TwoLayerNet.js';
import { Trainer, type TrainerNetwork, type TrainerOptions } from '../../src/train/Trainer.js';
import { train } from '../../src/train/train.js';
import { TrainingError } from '../../src/train/TrainingError.js';
import { divergenceThreshold } from '../../src/train/divergence.js';
import { OPTIMIZER_NAMES } from '../../src/optimizers/createOptimizer.js';
import { Random } from '../../src/random.js';
import '../../src/kernels/nodeBackends.js'; // Node's WebAssembly backend for useBackend, as the package's Node entry sets it
import { useBackend } from '../../src/kernels/useBackend.js';

// the WebAssembly kernels, as the CLI uses them: the book's recipes below take minutes on the js backend
await useBackend('auto');
const digits = loadBundledDigits();
const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const all = { train: toLabeledData(digits.train), test: toLabeledData(digits.test) };
/** The book's reduced training sets (x_train[:300], x_train[:1000]) with the full test set. */
const firstRows = (n: number): { train: LabeledData; test: LabeledData } => ({ train: toLabeledData(subset(digits.train, range(n))), test: all.test });

/** The rule written out: an epoch mean above 2 · max(first loss, ln C) has diverged. */
const limit = (first: number, classes: number): number => 2 * Math.max(first, Math.log(classes));

/** The error a run throws, or null if it finishes. */
function failure(run: () => unknown): unknown {
  try {
    run();
    return null;
  } catch (e) {
    return e;
  }
}

/**
 * A stand-in network whose batch losses follow a script (one per iteration): the rule seen
 * alone, with no training in the way. No parameters, so the optimizer has nothing to update.
 */
function scripted(losses: number[]): TrainerNetwork {
  let i = 0;
  const lastLayer = { loss: null as number | null };
  return {
    params: {},
    lastLayer,
    gradient: () => {
      lastLayer.loss = losses[i++];
      return {};
    },
    accuracy: () => 0.1,
  };
}

/** 100 rows of one feature, labels 0..9: ten classes, 10 iterations per epoch at batch 10. */
const tiny = {
  train: { x: Tensor.zeros([100, 1]), labels: Int32Array.from({ length: 100 }, (_, i) => i % 10) },
  test: { x: Tensor.zeros([10, 1]), labels: Int32Array.from({ length: 10 }, (_, i) => i) },
};

describe('divergence with a finite loss', () => {
  it('the threshold is twice the larger of the first loss and ln C', () => {
    assert.equal(divergenceThreshold(2.3031, 10), 4.6062);
    assert.equal(divergenceThreshold(0.05, 10), 2 * Math.log(10)); // trained weights: ln 10 is the floor
    assert.equal(divergenceThreshold(14.5, 10), 29);
    assert.equal(divergenceThreshold(0.1, 1), 2 * Math.log(2)); // at least two classes
  });

  it('the Trainer stops at the first whole epoch whose mean exceeds it, before recording or reporting that epoch', () => {
    const first = 2.5; // above ln 10: the threshold is 5
    for (const [mean, stops] of [[4.99, false], [5.01, true]] as const) {
      // iteration 1 alone is epoch 0's record; iterations 2..11 make epoch 1, with this mean
      const losses = [first, ...Array.from({ length: 10 }, (_, k) => mean + (k % 2 ? 0.5 : -0.5)), ...new Array(9).fill(1)];
      const epochs: number[] = [];
      const trainer = new Trainer(scripted(losses), tiny, { iters: 20, miniBatchSize: 10 }, { onEpoch: (r) => epochs.push(r.epoch) });
      const e = failure(() => trainer.train());
      if (!stops) {
        assert.equal(e, null);
        continue;
      }
      assert.ok(e instanceof TrainingError, String(e));
      assert.equal(e.message, `the loss rose to ${mean.toFixed(4)} at iteration 11, from ${first.toFixed(4)} at the start (optimizer sgd, lr 0.01): training diverged; try a smaller learning rate`);
      assert.equal(e.details?.iteration, 11);
      assert.ok(Math.abs(e.details!.loss - mean) < 1e-12);
      assert.deepEqual(epochs, [0], 'the diverged epoch was not recorded');
    }
  });

  it('the ln C floor: a run that starts low (trained weights) is measured from ln C', () => {
    // first loss 0.05; an epoch at 3 is below 2 ln 10 = 4.61: noise, not divergence
    const losses = [0.05, ...new Array(10).fill(3), ...new Array(10).fill(4.7)];
    const e = failure(() => new Trainer(scripted(losses), tiny, { iters: 21, miniBatchSize: 10 }).train());
    assert.ok(e instanceof TrainingError && /rose to 4\.7000 at iteration 21/.test(e.message), String(e));
  });

  it('divergenceCheck: false lets the same run finish', () => {
    const losses = [2.5, ...new Array(19).fill(14)];
    assert.ok(failure(() => new Trainer(scripted(losses), tiny, { iters: 20, miniBatchSize: 10 }).train()) instanceof TrainingError);
    assert.equal(failure(() => new Trainer(scripted(losses), tiny, { iters: 20, miniBatchSize: 10, divergenceCheck: false }).train()), null);
  });

  it('lr 1e6 on the two-layer net: the loss sits at the log guard\'s ceiling, finite, and the run stops at the first epoch', () => {
    const net = new TwoLayerNet(784, 50, 10, 0.01, { rng: new Random(0) });
    const trainer = new Trainer(net, all, { iters: 300, optimizer: 'sgd', optimizerParams: { lr: 1e6 }, seed: 0 });
    const e = failure(() => trainer.train());
    assert.ok(e instanceof TrainingError, String(e));
    const { iteration, loss } = e.details!;
    assert.equal(iteration, 81); // 8000 / 100 = 80 iterations after the first record
    assert.ok(Number.isFinite(loss) && loss > limit(trainer.lossList[0], 10) && loss < -Math.log(1e-7), `loss ${loss}`);
    assert.match(e.message, /^the loss rose to \d+\.\d{4} at iteration 81, from 2\.30\d\d at the start \(optimizer sgd, lr 1000000\): training diverged; try a smaller learning rate$/);
  });

  it('train() (the book\'s SGD loop) applies the same rule, and divergenceCheck: false turns it off', () => {
    const run = (divergenceCheck?: boolean) => train(new TwoLayerNet(784, 50, 10, 0.01, { rng: new Random(0) }), all, { iters: 200, batchSize: 100, lr: 1e6, rng: new Random(0), divergenceCheck });
    const e = failure(() => run());
    assert.ok(e instanceof TrainingError && /^the loss rose to .* at iteration 81, .*\(optimizer sgd, lr 1000000\)/.test(e.message), String(e));
    const r = run(false);
    assert.ok(r.final.loss > 10, 'diverged, and allowed to go on');
  });
});

describe('the book\'s recipes never trip the divergence check', () => {
  /**
   * Train with the check on; the run must finish, or (`nanAllowed`) stop at a loss that is no
   * longer finite, which the Trainer always refused and the book's NumPy would print as nan.
   */
  function clean(name: string, net: TrainerNetwork, data: { train: LabeledData; test: LabeledData }, options: TrainerOptions, nanAllowed = false): void {
    const e = failure(() => new Trainer(net, data, { ...options, divergenceCheck: true }).train());
    if (nanAllowed && e instanceof TrainingError && !Number.isFinite(e.details!.loss)) return;
    assert.equal(e, null, `${name}: ${String(e)}`);
  }
  const mlp = (hidden: number[], options: MultiLayerNetOptions): MultiLayerNet => new MultiLayerNet(784, hidden, 10, { seed: 0, ...options });

  it('weight_init_compare.py: std 0.01, Xavier and He, SGD 0.01, batch 128 (300 iterations, as the example)', () => {
    for (const init of [0.01, 'sigmoid', 'relu'] as const) {
      clean(`init ${init}`, mlp([100, 100, 100, 100], { weightInitStd: init }), all, { iters: 300, miniBatchSize: 128, optimizer: 'sgd', optimizerParams: { lr: 0.01 }, seed: 1, evaluateSampleNumPerEpoch: 500 });
    }
  });

  it('optimizer_compare_mnist.py: every optimizer at its default, batch 128 (300 iterations)', () => {
    for (const name of OPTIMIZER_NAMES) {
      clean(name, mlp([100, 100, 100, 100], {}), all, { iters: 300, miniBatchSize: 128, optimizer: name, seed: 1, evaluateSampleNumPerEpoch: 500 });
    }
  });

  it('batch_norm_test.py: weight std 1, 0.158, 0.0136 and 1e-4, with and without batch norm, 1,000 digits, 20 epochs', () => {
    for (const std of [1, 0.158, 0.0136, 1e-4]) {
      for (const useBatchnorm of [false, true]) {
        // std 1 without batch norm: the first losses sit near the ceiling (14.3, 15.0, 15.2) and
        // turn NaN by iteration 6, in float64 too; the rise rule never fires before that
        clean(`std ${std}${useBatchnorm ? ' with batch norm' : ''}`, mlp([100, 100, 100, 100, 100], { weightInitStd: std, useBatchnorm }), firstRows(1000), { epochs: 20, optimizer: 'sgd', optimizerParams: { lr: 0.01 }, seed: 1, evaluateSampleNumPerEpoch: 100 }, std === 1 && !useBatchnorm);
      }
    }
  });

  it('overfit_weight_decay.py and overfit_dropout.py: 300 digits, six hidden layers, 201 epochs', () => {
    for (const [name, options] of [['no regularisation', {}], ['weight decay 0.1', { weightDecayLambda: 0.1 }], ['dropout 0.2', { useDropout: true, dropoutRatio: 0.2 }]] as const) {
      clean(name, mlp([100, 100, 100, 100, 100, 100], options), firstRows(300), { epochs: 201, optimizer: 'sgd', optimizerParams: { lr: 0.01 }, seed: 1, evaluateSampleNumPerEpoch: 100 });
    }
  });

  it('train_convnet.py: SimpleConvNet, Adam 0.001, batch 100 (2 epochs)', () => {
    const net = new SimpleConvNet([1, 28, 28], { filterNum: 30, filterSize: 5, pad: 0, stride: 1 }, 100, 10, 0.01, { seed: 0 });
    clean('SimpleConvNet', net, all, { epochs: 2, optimizer: 'adam', optimizerParams: { lr: 0.001 }, seed: 1, evaluateSampleNumPerEpoch: 200 });
  });
});
