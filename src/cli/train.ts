import { TwoLayerNet } from '../nets/TwoLayerNet.js';
import { Random } from '../random.js';
import { BOOK_DEFAULTS, train } from '../train/train.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { renderTrainingChart } from '../plot/trainingChart.js';
import { choiceFlag, intFlag, parseFlags, positiveFlag } from './args.js';
import { UsageError } from './errors.js';
import { loadData } from './loadData.js';
import { Progress } from './progress.js';
import type { CliIO } from './io.js';

export const TRAIN_HELP = `Usage: backprop train [flags]

Trains the book's TwoLayerNet (784-hidden-10) by backprop and mini-batch SGD.

  --data DIR          MNIST-format IDX files (train-images-idx3-ubyte, ... raw or .gz);
                      default: the bundled 10,000 MNIST digits, split 8,000 / 2,000
  --iters N           iterations (default ${BOOK_DEFAULTS.iters})
  --batch-size N      mini-batch size (default ${BOOK_DEFAULTS.batchSize})
  --lr X              learning rate (default ${BOOK_DEFAULTS.lr})
  --hidden N          hidden units (default ${BOOK_DEFAULTS.hidden})
  --weight-std X      initial weight std (default ${BOOK_DEFAULTS.weightInitStd})
  --seed N            seed for weights and batches (default 0)
  --split-seed N      seed of the bundled digits' train/test split (default 0)
  --dtype T           float32 (default) or float64
  --report FILE       write a JSON report: config, per-epoch history, final accuracies
  --plot FILE.svg     draw the loss curve and train/test accuracy per epoch as an SVG chart
  --quiet             print only the final line
`;

/** `backprop train`: the book's train_neuralnet.py with flags. */
export async function trainCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseFlags('train', args, {
    data: { type: 'string' },
    iters: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    hidden: { type: 'string' },
    'weight-std': { type: 'string' },
    seed: { type: 'string' },
    'split-seed': { type: 'string' },
    dtype: { type: 'string' },
    report: { type: 'string' },
    plot: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return io.out(TRAIN_HELP);
  const config = {
    iters: intFlag('iters', values.iters, BOOK_DEFAULTS.iters, 1),
    batchSize: intFlag('batch-size', values['batch-size'], BOOK_DEFAULTS.batchSize, 1),
    lr: positiveFlag('lr', values.lr, BOOK_DEFAULTS.lr),
    hidden: intFlag('hidden', values.hidden, BOOK_DEFAULTS.hidden, 1, 100000),
    weightInitStd: positiveFlag('weight-std', values['weight-std'], BOOK_DEFAULTS.weightInitStd),
    seed: intFlag('seed', values.seed, 0, 0),
    dtype: choiceFlag('dtype', values.dtype, 'float32', ['float32', 'float64'] as const),
  };
  const splitSeed = intFlag('split-seed', values['split-seed'], 0, 0);
  if (values.data !== undefined && values['split-seed'] !== undefined) {
    throw new UsageError('--split-seed applies to the bundled digits only; IDX files come split into train and t10k');
  }

  const data = loadData(values.data, { dtype: config.dtype, splitSeed });
  const trainSize = data.train.x.shape[0];
  if (config.batchSize > trainSize) {
    throw new UsageError(`--batch-size ${config.batchSize} is larger than the training set (${trainSize} images)`);
  }
  const quiet = values.quiet ?? false;
  if (!quiet) {
    io.out(`data: ${data.info.source}: ${data.info.trainSize} training, ${data.info.testSize} test images\n`);
    io.out(`net: TwoLayerNet(784, ${config.hidden}, 10), ${config.dtype}; ${config.iters} iterations, batch ${config.batchSize}, lr ${config.lr}, seed ${config.seed}\n`);
  }

  const rng = new Random(config.seed);
  const net = new TwoLayerNet(784, config.hidden, 10, config.weightInitStd, { rng, dtype: config.dtype });
  const progress = new Progress(config.iters, io.out, io.isTTY, quiet);
  const result = train(net, data, { iters: config.iters, batchSize: config.batchSize, lr: config.lr, rng }, {
    onIteration: (i, loss) => progress.iteration(i, loss),
    onEpoch: (r) => progress.epoch(r),
  });
  const { final } = result;
  io.out(`final: train accuracy ${final.trainAccuracy.toFixed(4)}, test accuracy ${final.testAccuracy.toFixed(4)} after ${config.iters} iterations in ${final.seconds.toFixed(1)}s\n`);

  if (values.plot !== undefined) {
    const title = `TwoLayerNet(784, ${config.hidden}, 10) on ${values.data ?? 'the bundled digits'}: lr ${config.lr}, batch ${config.batchSize}`;
    writeFileAtomic(values.plot, renderTrainingChart(result, title));
    if (!quiet) io.out(`chart written to ${values.plot}\n`);
  }
  if (values.report !== undefined) {
    const report = {
      command: 'train',
      model: 'TwoLayerNet',
      config: { ...config, inputSize: 784, outputSize: 10, backend: net.params.W1.backend.name },
      data: data.info,
      history: result.history,
      final: { trainAccuracy: final.trainAccuracy, testAccuracy: final.testAccuracy, loss: final.loss, seconds: final.seconds },
    };
    writeFileAtomic(values.report, JSON.stringify(report, null, 2) + '\n');
    if (!quiet) io.out(`report written to ${values.report}\n`);
  }
}
