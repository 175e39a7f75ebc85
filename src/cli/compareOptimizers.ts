import type { Tensor } from '../tensor/Tensor.js';
import { gatherRows } from '../tensor/ops.js';
import { MultiLayerNet } from '../nets/MultiLayerNet.js';
import type { Optimizer, OptimizerName } from '../optimizers/Optimizer.js';
import { OPTIMIZER_NAMES, createOptimizer } from '../optimizers/createOptimizer.js';
import { Random } from '../random.js';
import { divergedError, divergenceThreshold } from '../train/divergence.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { renderLineChart, smoothCurve, type Marker } from '../plot/lineChart.js';
import { intFlag, parseFlags } from './args.js';
import { UsageError } from './errors.js';
import { loadData } from './loadData.js';
import type { CliIO } from './io.js';
import { BACKEND_HELP, backendFlag } from './backendFlag.js';
import { checkOutputPath } from './outputPath.js';
import { LoopBreaks } from './loopBreaks.js';

/** The book's optimizer_compare_mnist.py settings. */
const BOOK = { iters: 2000, batchSize: 128, hidden: [100, 100, 100, 100], optimizers: ['sgd', 'momentum', 'adagrad', 'adam'] as OptimizerName[] };
/** The loss is printed every this many iterations, as the book prints it. */
const PRINT_EVERY = 100;

/** The book's spelling of each optimizer, for the table and the legend. */
const DISPLAY: Record<OptimizerName, string> = { sgd: 'SGD', momentum: 'Momentum', nesterov: 'Nesterov', adagrad: 'AdaGrad', rmsprop: 'RMSprop', adam: 'Adam' };
/** The book's markers: SGD 'o', Momentum 'x', AdaGrad 's', Adam 'D'. */
const MARKERS: Record<OptimizerName, Marker> = { sgd: 'circle', momentum: 'cross', nesterov: 'plus', adagrad: 'square', rmsprop: 'plus', adam: 'diamond' };

export const COMPARE_OPTIMIZERS_HELP = `Usage: backprop compare-optimizers [flags]

Compares optimizers training the same net on the same mini-batches (the book's
optimizer_compare_mnist.py, section 6.1.8): MultiLayerNet(784, [100, 100, 100, 100], 10) with
ReLU and He initial weights, one identically initialised copy per optimizer, each at its
default learning rate (the book's: SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001). Prints
each one's loss every ${PRINT_EVERY} iterations, then its final test accuracy and seconds.

  --data DIR          MNIST-format IDX files (train-images-idx3-ubyte, ... raw or .gz);
                      or mnist, fashion-mnist: the full set 'backprop data' downloaded;
                      default: the bundled 10,000 MNIST digits, split 8,000 / 2,000
  --iters N           iterations (default ${BOOK.iters}, as the book)
  --batch-size N      mini-batch size (default ${BOOK.batchSize})
  --seed N            seed of the initial weights and the batches (default 0)
  --optimizers LIST   comma-separated, from ${OPTIMIZER_NAMES.join(', ')}
                      (default ${BOOK.optimizers.join(',')})
${BACKEND_HELP}  --plot FILE.svg     draw the smoothed loss curves, one line per optimizer (the book's fig. 6-9)
  --quiet             print only the final results
  --no-divergence-check
                      keep going when an optimizer's mean loss over ${PRINT_EVERY} iterations exceeds
                      twice its loss at the start (by default that stops the comparison)
`;

/** What one optimizer's run produced. */
interface Run {
  name: OptimizerName;
  label: string;
  optimizer: Optimizer;
  network: MultiLayerNet;
  /** The loss after each iteration's update, on that iteration's batch (the book's train_loss). */
  losses: number[];
  /** The loss before the first update: divergence is measured from it. */
  startLoss: number;
  seconds: number;
}

/** `backprop compare-optimizers`: the book's optimizer comparison on MNIST-format data. */
export async function compareOptimizersCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseFlags('compare-optimizers', args, {
    data: { type: 'string' },
    iters: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    optimizers: { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    plot: { type: 'string' },
    quiet: { type: 'boolean' },
    'no-divergence-check': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return io.out(COMPARE_OPTIMIZERS_HELP);
  // a long run should not end in a failed write: check the chart's path first
  checkOutputPath('plot', values.plot);
  const iters = intFlag('iters', values.iters, BOOK.iters, 1);
  const batchSize = intFlag('batch-size', values['batch-size'], BOOK.batchSize, 1);
  const seed = intFlag('seed', values.seed, 0, 0);
  const names = parseOptimizers(values.optimizers);
  const quiet = values.quiet ?? false;
  const backend = await backendFlag(values.backend, io, values.threads);
  const data = loadData(values.data, { dtype: 'float32', backend });
  const trainSize = data.train.x.shape[0];
  if (batchSize > trainSize) throw new UsageError(`--batch-size ${batchSize} is larger than the training set (${trainSize} images)`);
  const inputSize = data.train.x.shape[1];
  let maxLabel = 0;
  for (const set of [data.train, data.test]) for (const t of set.labels) maxLabel = Math.max(maxLabel, t);
  const outputSize = Math.max(10, maxLabel + 1); // 10 classes, as MNIST and Fashion-MNIST

  // Every network draws its weights from a generator seeded alike, so all start identical; the
  // batches come from the same stream after the weights, as in `backprop train`.
  const runs: Run[] = names.map((name) => ({
    name,
    label: DISPLAY[name],
    optimizer: createOptimizer(name),
    network: new MultiLayerNet(inputSize, BOOK.hidden, outputSize, { seed, backend }),
    losses: [],
    startLoss: NaN,
    seconds: 0,
  }));
  const rng = new Random(seed);
  rng.setState(runs[0].network.rng.getState());

  const labels = runs.map((r) => r.label);
  const width = Math.max(8, ...labels.map((l) => l.length));
  const row = (head: string, cells: string[]): string => head.padEnd(10) + cells.map((c) => c.padStart(width + 2)).join('') + '\n';
  if (!quiet) {
    io.out(`data: ${data.description}\n`);
    io.out(`net: MultiLayerNet(${inputSize}, [${BOOK.hidden.join(', ')}], ${outputSize}), ReLU, He initial weights, float32, backend ${backend.name}, seed ${seed}; ${iters} iterations, batch ${batchSize}\n`);
    io.out(`optimizers: ${runs.map((r) => `${r.label}(${fmtHyper(r.optimizer)})`).join(', ')}\n\n`);
    io.out('loss after each iteration\'s update, on its batch\n');
    io.out(row('iteration', labels));
  }

  const batchIndex = new Int32Array(batchSize);
  const tBatch = new Int32Array(batchSize);
  let xBatch: Tensor | null = null;
  const checkDivergence = !values['no-divergence-check'];
  const breaks = new LoopBreaks(); // a turn for the event loop now and then: `| head` stops it
  for (let i = 0; i < iters; i++) {
    await breaks.pause();
    rng.choice(trainSize, batchSize, batchIndex); // np.random.choice(train_size, batch_size)
    xBatch = gatherRows(data.train.x, batchIndex, xBatch);
    for (let j = 0; j < batchSize; j++) tBatch[j] = data.train.labels[batchIndex[j]];

    for (const run of runs) {
      const start = performance.now();
      const grads = run.network.gradient(xBatch, tBatch);
      // the loss before any update is the start that divergence is measured from
      if (i === 0) run.startLoss = run.network.lastLoss ?? NaN;
      run.optimizer.update(run.network.params, grads);
      const loss = run.network.loss(xBatch, tBatch); // after the update, as the book records it
      run.seconds += (performance.now() - start) / 1000;
      const diverged = (l: number, start?: number) => divergedError({ label: run.label, iteration: i + 1, loss: l, start, optimizer: run.name, lr: run.optimizer.hyperparameters.lr });
      if (!Number.isFinite(loss)) throw diverged(loss);
      run.losses.push(loss);
      if (checkDivergence && (i + 1) % PRINT_EVERY === 0) {
        const mean = run.losses.slice(i + 1 - PRINT_EVERY).reduce((a, b) => a + b, 0) / PRINT_EVERY;
        if (mean > divergenceThreshold(run.startLoss, outputSize)) throw diverged(mean, run.startLoss);
      }
    }
    if (!quiet && (i % PRINT_EVERY === 0 || i === iters - 1)) io.out(row(String(i), runs.map((r) => r.losses[i].toFixed(4))));
  }

  const testAcc = runs.map((r) => r.network.accuracy(data.test.x, data.test.labels));
  if (quiet) io.out(row('', labels));
  else io.out('\n' + row('', labels));
  io.out(row('test acc', testAcc.map((a) => a.toFixed(4))));
  io.out(row('seconds', runs.map((r) => r.seconds.toFixed(1))));

  if (values.plot !== undefined) {
    const title = `MultiLayerNet(${inputSize}, [${BOOK.hidden.join(', ')}], ${outputSize}) on ${values.data ?? 'the bundled digits'}, batch ${batchSize}`;
    writeFileAtomic(values.plot, lossChart(runs, title));
    if (!quiet) io.out(`chart written to ${values.plot}\n`);
  }
}

/** The --optimizers list: known names (any letter case), each once. */
function parseOptimizers(value: string | undefined): OptimizerName[] {
  if (value === undefined) return BOOK.optimizers;
  const given = value.split(',').map((s) => s.trim());
  if (given.some((n) => n === '')) throw new UsageError(`--optimizers must be a comma-separated list of ${OPTIMIZER_NAMES.join(', ')}, got '${value}'`);
  const names = given.map((n) => n.toLowerCase());
  const unknown = given.filter((_, i) => !(OPTIMIZER_NAMES as string[]).includes(names[i]));
  if (unknown.length) {
    throw new UsageError(`--optimizers: unknown optimizer${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (expected ${OPTIMIZER_NAMES.join(', ')})`);
  }
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) throw new UsageError(`--optimizers: '${twice[0]}' is listed twice`);
  return names as OptimizerName[];
}

/** 'lr 0.01, momentum 0.9': the hyperparameters worth showing (not eps). */
function fmtHyper(optimizer: Optimizer): string {
  return Object.entries(optimizer.hyperparameters)
    .filter(([k]) => k !== 'eps')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/**
 * The book's fig. 6-9: each optimizer's loss by iteration, smoothed by smooth_curve, a marker
 * every 100 iterations, y from 0 to 1 (the book's plt.ylim(0, 1)), or higher if the curves end above 1.
 */
function lossChart(runs: Run[], title: string): string {
  const curves = runs.map((r) => smoothCurve(r.losses));
  const iters = runs[0].losses.length;
  const ends = curves.map((c) => c[c.length - 1]);
  const top = Math.max(...ends) <= 1 ? 1 : Math.ceil(Math.max(...curves.flat()) * 2) / 2;
  return renderLineChart(
    {
      title: 'training loss (smoothed)',
      xLabel: 'iterations',
      yLabel: 'loss',
      xRange: [0, Math.max(1, iters - 1)],
      yRange: [0, top],
      series: runs.map((r, k) => ({
        name: r.label,
        points: curves[k].map((y, i): [number, number] => [i, y]),
        marker: MARKERS[r.name],
        markEvery: PRINT_EVERY,
      })),
    },
    { title, panelWidth: 640, panelHeight: 400 },
  );
}
