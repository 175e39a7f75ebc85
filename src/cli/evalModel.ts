import { loadModel } from '../io/modelFiles.js';
import { Tensor } from '../tensor/Tensor.js';
import { argmaxRows, gatherRows, softmaxRows } from '../tensor/ops.js';
import { readDigitPng } from '../data/pngDigit.js';
import { intFlag, parseFlags } from './args.js';
import { UsageError } from './errors.js';
import { loadData } from './loadData.js';
import type { CliIO } from './io.js';
import { backendFlag, BACKEND_HELP } from './backendFlag.js';

export const EVAL_HELP = `Usage: backprop eval --model FILE [--data DIR] [--split-seed N]

Prints a saved model's test accuracy and its confusion matrix (rows: true class, columns:
predicted), on the data and test split it was trained on unless --data or --split-seed says otherwise.
--data takes a directory of IDX files, or mnist / fashion-mnist (downloaded by backprop data).
${BACKEND_HELP}`;

export const PREDICT_HELP = `Usage: backprop predict --model FILE IMAGE.png [IMAGE.png ...]

Classifies PNG images of handwritten digits (any size; scaled to 28×28 grey and centred as
MNIST) and prints the ten class probabilities of each.
${BACKEND_HELP}`;

/** Rows classified at a time. */
const CHUNK = 1000;

export async function evalCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseFlags('eval', args, {
    model: { type: 'string' },
    data: { type: 'string' },
    'split-seed': { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return io.out(EVAL_HELP);
  if (values.model === undefined) throw new UsageError('eval: --model FILE is required');
  const backend = await backendFlag(values.backend, io, values.threads);
  const model = loadModel(values.model, { backend });
  const source = values.data ?? model.data?.source;
  const splitSeed = intFlag('split-seed', values['split-seed'], model.data?.splitSeed ?? 0, 0);
  const data = loadData(source, { dtype: model.spec.dtype, backend, splitSeed });
  const { x, labels } = data.test;
  const classes = model.spec.outputSize;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let start = 0; start < labels.length; start += CHUNK) {
    const index = Int32Array.from({ length: Math.min(CHUNK, labels.length - start) }, (_, i) => start + i);
    const predicted = argmaxRows(model.network.predict(gatherRows(x, index)));
    predicted.forEach((p, i) => {
      const t = labels[start + i];
      if (t >= classes) throw new UsageError(`eval: label ${t} in the test set, but the model has only ${classes} classes`);
      confusion[t][p]++;
      if (p === t) correct++;
    });
  }
  io.out(`model: ${values.model} (${model.spec.model}, ${model.spec.dtype})\n`);
  io.out(`data: ${data.description}, test split\n`);
  io.out(`test accuracy: ${(correct / labels.length).toFixed(4)} (${correct} of ${labels.length})\n\n`);
  io.out(formatConfusion(confusion));
}

/** The confusion matrix as a table: rows true classes, columns predictions, then per-class recall. */
export function formatConfusion(m: number[][]): string {
  const w = Math.max(4, ...m.flat().map((v) => String(v).length)) + 1;
  const pad = (s: string | number): string => String(s).padStart(w);
  let out = `${'true\\pred'.padEnd(9)}${m.map((_, j) => pad(j)).join('')}${pad('recall').padStart(9)}\n`;
  m.forEach((row, i) => {
    const total = row.reduce((s, v) => s + v, 0);
    out += `${String(i).padEnd(9)}${row.map(pad).join('')}${(total ? (row[i] / total).toFixed(3) : '-').padStart(9)}\n`;
  });
  return out;
}

export async function predictCommand(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parseFlags('predict', args, {
    model: { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) return io.out(PREDICT_HELP);
  if (values.model === undefined) throw new UsageError('predict: --model FILE is required');
  if (positionals.length === 0) throw new UsageError('predict: give one or more PNG images to classify');
  const backend = await backendFlag(values.backend, io, values.threads);
  const model = loadModel(values.model, { backend });
  if (model.spec.inputSize !== 784) throw new UsageError(`predict: the model takes ${model.spec.inputSize} inputs, not 28×28 images`);
  for (const path of positionals) {
    const pixels = readDigitPng(path);
    const x = Tensor.from(pixels, [1, 784], { dtype: model.spec.dtype, backend });
    const probs = Array.from(softmaxRows(model.network.predict(x)).data);
    const best = probs.indexOf(Math.max(...probs));
    io.out(`${path}: ${best} (probability ${probs[best].toFixed(4)})\n`);
    probs.forEach((p, d) => io.out(`  ${d}  ${p.toFixed(4)}  ${'#'.repeat(Math.round(p * 40))}\n`));
  }
}
