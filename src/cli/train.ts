import { existsSync } from 'node:fs';
import type { Backend, DType } from '../kernels/Backend.js';
import { Random } from '../random.js';
import { BOOK_DEFAULTS } from '../train/train.js';
import { Trainer, type TrainerState } from '../train/Trainer.js';
import { buildNetwork, MODEL_KINDS, type ModelSpec } from '../nets/buildNetwork.js';
import { CONV_PARAM_DEFAULTS } from '../nets/SimpleConvNet.js';
import { OPTIMIZER_NAMES } from '../optimizers/createOptimizer.js';
import type { WeightInit } from '../layers/init.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { loadModel, saveModel } from '../io/modelFiles.js';
import { ModelFileError } from '../io/ModelFileError.js';
import { renderTrainingChart } from '../plot/trainingChart.js';
import { choiceFlag, intFlag, parseFlags, positiveFlag } from './args.js';
import { Interrupted, UsageError } from './errors.js';
import { checkOutputPath } from './outputPath.js';
import { LoopBreaks } from './loopBreaks.js';
import { loadData } from './loadData.js';
import { Progress } from './progress.js';
import type { CliIO } from './io.js';
import { backendFlag, BACKEND_HELP } from './backendFlag.js';

export const TRAIN_HELP = `Usage: backprop train [flags]

Trains a network by backprop. The default is the book's chapter 5 recipe: TwoLayerNet
(784-50-10), SGD with lr 0.1, batch 100, 10,000 iterations.

Data
  --data DIR          MNIST-format IDX files (train-images-idx3-ubyte, ... raw or .gz);
                      or mnist, fashion-mnist: the full set 'backprop data' downloaded;
                      default: the bundled 10,000 MNIST digits, split 8,000 / 2,000
  --split-seed N      seed of the bundled digits' train/test split (default 0)

Model
  --model M           two-layer (default), mlp (MultiLayerNet) or cnn (SimpleConvNet)
  --hidden N[,N...]   hidden sizes (two-layer: 50; mlp: 100,100; cnn: 100)
  --activation A      relu (default), sigmoid or tanh (mlp)
  --init I            initial weights: a std (two-layer, cnn: 0.01), or he / xavier (mlp: he)
  --weight-std X      same as --init X
  --weight-decay X    L2 weight decay λ (mlp; default 0)
  --dropout P         dropout ratio after each hidden layer (mlp; default none)
  --batch-norm        batch normalization before each hidden activation (mlp)
  --dtype T           float32 (default) or float64

Training
  --optimizer O       ${OPTIMIZER_NAMES.join(', ')} (default sgd)
  --lr X              learning rate (default: sgd ${BOOK_DEFAULTS.lr}, adam 0.001, others 0.01)
  --iters N           iterations (default ${BOOK_DEFAULTS.iters} for two-layer)
  --epochs N          epochs instead of iterations (default 20 for mlp and cnn)
  --batch-size N      mini-batch size (default ${BOOK_DEFAULTS.batchSize})
  --seed N            seed for weights, batches and dropout (default 0)
  --no-divergence-check
                      keep training when an epoch's mean loss exceeds twice the loss at
                      the start (by default that stops the run: it has diverged)
${BACKEND_HELP}
Files
  --save FILE         save the model and the run's state (.safetensors) after every epoch
  --resume FILE       continue the run saved in FILE up to the requested --epochs/--iters,
                      with its optimizer state and random stream; saves back to FILE
                      unless --save says otherwise
  --report FILE       write a JSON report: config, per-epoch history, final accuracies
  --plot FILE.svg     draw the loss curve and train/test accuracy per epoch as an SVG chart
  --quiet             print only the final line

Ctrl-C stops the run and says what was kept (exit code 130).
`;

/** Flags that describe the architecture: taken from the file when resuming (given, they must agree with it). */
const ARCH_FLAGS = ['model', 'hidden', 'activation', 'init', 'weight-std', 'weight-decay', 'dropout', 'batch-norm', 'dtype'] as const;
/** Flags that describe how the run trains: also taken from the file when resuming. */
const RUN_FLAGS = ['optimizer', 'lr', 'batch-size', 'seed', 'split-seed'] as const;

/** `backprop train`: the book's training scripts with flags. */
export async function trainCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseFlags('train', args, {
    data: { type: 'string' },
    'split-seed': { type: 'string' },
    model: { type: 'string' },
    hidden: { type: 'string' },
    activation: { type: 'string' },
    init: { type: 'string' },
    'weight-std': { type: 'string' },
    'weight-decay': { type: 'string' },
    dropout: { type: 'string' },
    'batch-norm': { type: 'boolean' },
    dtype: { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    iters: { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    save: { type: 'string' },
    resume: { type: 'string' },
    report: { type: 'string' },
    plot: { type: 'string' },
    quiet: { type: 'boolean' },
    'no-divergence-check': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return io.out(TRAIN_HELP);
  if (values.iters !== undefined && values.epochs !== undefined) throw new UsageError('give --iters or --epochs, not both');
  // every file the run will write, checked before any work (without --save, --resume FILE is saved back)
  for (const flag of ['save', 'report', 'plot'] as const) checkOutputPath(flag, values[flag]);
  if (values.save === undefined && values.resume !== undefined && existsSync(values.resume)) checkOutputPath('resume', values.resume);

  const backend = await backendFlag(values.backend, io, values.threads);
  const resumed = values.resume !== undefined ? resumeFrom(values.resume, values, backend) : null;
  const spec = resumed?.spec ?? specFromFlags(values);
  const run = resumed?.run ?? runFromFlags(values);
  if (values['split-seed'] !== undefined && values.data !== undefined) {
    throw new UsageError('--split-seed applies to the bundled digits only; IDX files come split into train and t10k');
  }
  const length =
    values.epochs !== undefined ? { epochs: intFlag('epochs', values.epochs, 0, 1) }
    : values.iters !== undefined ? { iters: intFlag('iters', values.iters, 0, 1) }
    : resumed ? resumed.length
    : spec.model === 'two-layer' ? { iters: BOOK_DEFAULTS.iters } : { epochs: 20 };

  const dataSource = values.data ?? resumed?.dataSource;
  const data = loadData(dataSource, { dtype: spec.dtype, backend, splitSeed: run.splitSeed });
  const trainSize = data.train.x.shape[0];
  if (run.batchSize > trainSize) {
    throw new UsageError(`--batch-size ${run.batchSize} is larger than the training set (${trainSize} images)`);
  }
  const rng = new Random(run.seed);
  const network = buildNetwork(spec, { rng, backend });
  const quiet = values.quiet ?? false;
  const save = values.save ?? values.resume;
  let progress: Progress | null = null;
  const config = { ...run, ...length, model: spec.model, backend: backend.name };
  // what Ctrl-C leaves behind: the file and epoch of the last save (a resumed file holds its run)
  const lastRecord = resumed?.state.history.at(-1);
  let lastSave = resumed && lastRecord ? { file: values.resume!, epoch: lastRecord.epoch } : null;
  const saveNow = (state: TrainerState): void => {
    if (save === undefined) return;
    saveModel(save, { spec, network, training: state, data: data.info, config });
    lastSave = { file: save, epoch: state.history.at(-1)?.epoch ?? 0 };
  };
  const trainer: Trainer = new Trainer(network, data, {
    ...length,
    miniBatchSize: run.batchSize,
    optimizer: run.optimizer,
    optimizerParams: { lr: run.lr },
    rng,
    divergenceCheck: !values['no-divergence-check'],
  }, {
    onIteration: (i, loss) => progress?.iteration(i, loss),
    onEpoch: (r) => {
      progress?.epoch(r);
      saveNow(trainer.getState());
    },
  });
  progress = new Progress(trainer.maxIter, io.out, io.isTTY, quiet);
  if (resumed) {
    if (resumed.state.iteration > trainer.maxIter) {
      throw new UsageError(`${values.resume} has already run ${count(resumed.state.iteration, 'iteration')}, more than the ${trainer.maxIter} asked for; ask for more with --epochs or --iters`);
    }
    try {
      trainer.setState(resumed.state);
    } catch (e) {
      // a state that passed the file's own checks but not this run's (a damaged or edited file)
      if (!(e instanceof RangeError)) throw e;
      throw new ModelFileError(`${values.resume}: its training state does not fit the run it records (${e.message.replace(/^Trainer\.setState: /, '')}); it cannot be resumed`);
    }
  }

  // from here on Ctrl-C stops the run at the next iteration, saying what was kept
  const breaks = new LoopBreaks({ watchInterrupt: true });
  try {
    if (!quiet) {
      io.out(`data: ${data.description}\n`);
      io.out(`net: ${describe(spec)}, ${spec.dtype}, backend ${backend.name}; ${run.optimizer} lr ${run.lr}, batch ${run.batchSize}, ` +
        `${length.epochs !== undefined ? `${count(length.epochs, 'epoch')} (${count(trainer.maxIter, 'iteration')})` : count(trainer.maxIter, 'iteration')}, seed ${run.seed}\n`);
      if (resumed) io.out(`resuming ${values.resume} at iteration ${resumed.state.iteration}\n`);
    }
    // step by step, giving the event loop a turn now and then: Ctrl-C and a closed stdout stop it
    while (!trainer.done) {
      trainer.trainStep();
      await breaks.pause();
      if (breaks.interrupted) {
        if (io.isTTY) io.out('\n'); // below the progress bar
        const kept = lastSave ? `the last save (epoch ${lastSave.epoch}) is in ${lastSave.file}` : 'nothing was saved (--save FILE keeps every epoch)';
        throw new Interrupted(`interrupted at iteration ${trainer.iteration}; ${kept}`);
      }
    }
  } finally {
    breaks.dispose();
  }
  const result = trainer.train(); // the iterations have run: the final evaluation on every row
  saveNow(trainer.getState());
  const { final } = result;
  io.out(`final: train accuracy ${final.trainAccuracy.toFixed(4)}, test accuracy ${final.testAccuracy.toFixed(4)} after ${count(trainer.iteration, 'iteration')} in ${final.seconds.toFixed(1)}s\n`);
  if (save !== undefined && !quiet) io.out(`model saved to ${save}\n`);

  if (values.plot !== undefined) {
    const title = `${describe(spec)} on ${dataSource ?? 'the bundled digits'}: ${run.optimizer} lr ${run.lr}, batch ${run.batchSize}`;
    writeFileAtomic(values.plot, renderTrainingChart(result, title));
    if (!quiet) io.out(`chart written to ${values.plot}\n`);
  }
  if (values.report !== undefined) {
    const report = {
      command: 'train',
      model: spec.model,
      architecture: spec,
      config: { ...config, inputSize: spec.inputSize, outputSize: spec.outputSize, hidden: spec.model === 'two-layer' ? spec.hidden[0] : spec.hidden, dtype: spec.dtype },
      data: data.info,
      history: result.history,
      final: { trainAccuracy: final.trainAccuracy, testAccuracy: final.testAccuracy, loss: final.loss, seconds: final.seconds, iteration: trainer.iteration },
    };
    writeFileAtomic(values.report, JSON.stringify(report, null, 2) + '\n');
    if (!quiet) io.out(`report written to ${values.report}\n`);
  }
}

type Flags = Record<string, string | boolean | undefined>;

/** How a run trains (besides its length), as recorded in model files. */
interface RunConfig {
  optimizer: string;
  lr: number;
  batchSize: number;
  seed: number;
  splitSeed: number;
}

function runFromFlags(values: Flags): RunConfig {
  const optimizer = choiceFlag('optimizer', values.optimizer as string | undefined, 'sgd', OPTIMIZER_NAMES);
  const defaultLr = optimizer === 'sgd' ? BOOK_DEFAULTS.lr : optimizer === 'adam' ? 0.001 : 0.01;
  return {
    optimizer,
    lr: positiveFlag('lr', values.lr as string | undefined, defaultLr),
    batchSize: intFlag('batch-size', values['batch-size'] as string | undefined, BOOK_DEFAULTS.batchSize, 1),
    seed: intFlag('seed', values.seed as string | undefined, 0, 0),
    splitSeed: intFlag('split-seed', values['split-seed'] as string | undefined, 0, 0),
  };
}

function specFromFlags(values: Flags): ModelSpec {
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const model = choiceFlag('model', str('model'), 'two-layer', MODEL_KINDS);
  const defaults = { 'two-layer': [BOOK_DEFAULTS.hidden], mlp: [100, 100], cnn: [100] }[model];
  const hidden = str('hidden') === undefined ? defaults : str('hidden')!.split(',').map((h) => intFlag('hidden', h.trim(), 0, 1, 100000));
  if (model !== 'mlp' && hidden.length !== 1) throw new UsageError(`--hidden takes one size for --model ${model}, got ${str('hidden')}`);
  if (str('init') !== undefined && str('weight-std') !== undefined) throw new UsageError('give --init or --weight-std, not both');
  const initText = str('init') ?? str('weight-std');
  let init: WeightInit = model === 'mlp' ? 'he' : BOOK_DEFAULTS.weightInitStd;
  if (initText !== undefined) {
    if (['he', 'xavier', 'relu', 'sigmoid'].includes(initText)) {
      if (model !== 'mlp') throw new UsageError(`--init ${initText} applies to --model mlp; ${model} takes a fixed std such as --init 0.01`);
      init = initText as WeightInit;
    } else {
      init = positiveFlag(str('init') !== undefined ? 'init' : 'weight-std', initText, 0.01);
    }
  }
  const mlpOnly = (flag: string): void => {
    if (values[flag] !== undefined && model !== 'mlp') throw new UsageError(`--${flag} applies to --model mlp (MultiLayerNet), not ${model}`);
  };
  ['activation', 'weight-decay', 'dropout', 'batch-norm'].forEach(mlpOnly);
  const weightDecay = str('weight-decay') === undefined ? 0 : nonNegative('weight-decay', str('weight-decay')!);
  const dropout = str('dropout') === undefined ? 0 : nonNegative('dropout', str('dropout')!);
  if (dropout >= 1) throw new UsageError(`--dropout must be below 1 (the fraction of units dropped), got ${dropout}`);
  const spec: ModelSpec = {
    model,
    inputSize: 784,
    outputSize: 10,
    hidden,
    activation: choiceFlag('activation', str('activation'), 'relu', ['relu', 'sigmoid', 'tanh'] as const),
    init,
    weightDecay,
    dropout,
    batchNorm: values['batch-norm'] === true,
    dtype: choiceFlag('dtype', str('dtype'), 'float32', ['float32', 'float64'] as const) as DType,
  };
  if (model === 'cnn') {
    spec.conv = { ...CONV_PARAM_DEFAULTS };
    spec.inputDim = [1, 28, 28];
  }
  return spec;
}

function nonNegative(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got '${text}'`);
  if (n < 0) throw new UsageError(`--${flag} must be 0 or more, got ${n}`);
  return n;
}

/**
 * Read a saved run: its architecture, settings, data and state. Flags may repeat what the file
 * records (the same command line with --resume added); a flag that would change it is refused.
 */
function resumeFrom(path: string, values: Flags, backend: Backend) {
  if (!existsSync(path)) throw new UsageError(`--resume ${path}: no such file`);
  const model = loadModel(path, { backend });
  if (!model.training) throw new UsageError(`${path} holds weights but no training state to resume (it was not saved by backprop train --save)`);
  const c = (model.config ?? {}) as Record<string, unknown>;
  const num = (k: string): number => {
    if (typeof c[k] !== 'number') throw new UsageError(`${path}: __metadata__.config.${k} is missing; cannot resume`);
    return c[k] as number;
  };
  const run: RunConfig = {
    optimizer: String(c.optimizer ?? model.training.optimizer.name),
    lr: num('lr'),
    batchSize: num('batchSize'),
    seed: num('seed'),
    splitSeed: typeof c.splitSeed === 'number' ? c.splitSeed : 0,
  };
  refuseChanges(path, values, model.spec, run);
  const length = typeof c.epochs === 'number' ? { epochs: c.epochs } : { iters: num('iters') };
  const dataSource = model.data?.source;
  return { spec: model.spec, run, state: model.training, length, dataSource };
}

/** The recorded run as the flags that would give it, for the given `--init` or `--weight-std` spelling. */
function recordedFlags(spec: ModelSpec, run: RunConfig, values: Flags): Flags {
  const flags: Flags = {
    model: spec.model,
    hidden: spec.hidden.join(','),
    [values['weight-std'] !== undefined ? 'weight-std' : 'init']: String(spec.init),
    dtype: spec.dtype,
    optimizer: run.optimizer,
    lr: String(run.lr),
    'batch-size': String(run.batchSize),
    seed: String(run.seed),
    'split-seed': String(run.splitSeed),
  };
  if (spec.model === 'mlp') {
    Object.assign(flags, { activation: spec.activation, 'weight-decay': String(spec.weightDecay), dropout: String(spec.dropout) });
    if (spec.batchNorm) flags['batch-norm'] = true;
  }
  return flags;
}

/** He and Xavier each have two names. */
const INIT_NAMES: Record<string, string> = { relu: 'he', sigmoid: 'xavier' };

/**
 * The value each architecture or run flag stands for, for comparing: read by the same parsers
 * as a new run (`--lr 0.10` is `--lr 0.1`, `--init relu` is `--init he`).
 */
function flagMeanings(spec: ModelSpec, run: RunConfig): Record<(typeof ARCH_FLAGS)[number] | (typeof RUN_FLAGS)[number], string> {
  const init = String(INIT_NAMES[String(spec.init)] ?? spec.init);
  return {
    model: spec.model, hidden: spec.hidden.join(','), activation: spec.activation, init, 'weight-std': init,
    'weight-decay': String(spec.weightDecay), dropout: String(spec.dropout), 'batch-norm': spec.batchNorm ? 'on' : 'off', dtype: spec.dtype,
    optimizer: run.optimizer, lr: String(run.lr), 'batch-size': String(run.batchSize), seed: String(run.seed), 'split-seed': String(run.splitSeed),
  };
}

/** A UsageError for the first architecture or run flag whose value differs from what `path` records. */
function refuseChanges(path: string, values: Flags, spec: ModelSpec, run: RunConfig): void {
  const given = [...ARCH_FLAGS, ...RUN_FLAGS].filter((f) => values[f] !== undefined);
  if (given.length === 0) return;
  const refuse = (flag: string, recorded: string, asked: string): never => {
    throw new UsageError(`--${flag} differs from the run saved in ${path}: recorded ${recorded}, given ${asked}; a resumed run keeps its settings (leave out --${flag}, or start a new run without --resume)`);
  };
  // a different model first: the other flags' meanings depend on it
  if (values.model !== undefined && values.model !== spec.model) refuse('model', spec.model, String(values.model));
  const asked: Flags = { ...recordedFlags(spec, run, values) };
  for (const f of given) asked[f] = values[f];
  const recorded = flagMeanings(spec, run);
  const meant = flagMeanings(specFromFlags(asked), runFromFlags(asked));
  for (const f of given) {
    if (meant[f] !== recorded[f]) refuse(f, recorded[f], values[f] === true ? 'on' : String(values[f]));
  }
}

function describe(spec: ModelSpec): string {
  switch (spec.model) {
    case 'two-layer':
      return `TwoLayerNet(${spec.inputSize}, ${spec.hidden[0]}, ${spec.outputSize})`;
    case 'mlp': {
      const extras = [spec.activation, spec.batchNorm ? 'batch norm' : '', spec.dropout ? `dropout ${spec.dropout}` : '', spec.weightDecay ? `weight decay ${spec.weightDecay}` : '']
        .filter(Boolean)
        .join(', ');
      return `MultiLayerNet(${spec.inputSize}, [${spec.hidden.join(', ')}], ${spec.outputSize}; ${extras})`;
    }
    case 'cnn':
      return `SimpleConvNet(conv ${spec.conv!.filterNum}×${spec.conv!.filterSize}×${spec.conv!.filterSize}, hidden ${spec.hidden[0]})`;
  }
}

/** '1 epoch', '20 epochs'. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
