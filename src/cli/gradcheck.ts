import { TwoLayerNet } from '../nets/TwoLayerNet.js';
import { gradientCheck } from '../nets/gradientCheck.js';
import { gatherRows } from '../tensor/ops.js';
import { choiceFlag, intFlag, parseFlags } from './args.js';
import { loadData } from './loadData.js';
import type { CliIO } from './io.js';

export const GRADCHECK_HELP = `Usage: backprop gradcheck [flags]

Compares backprop gradients of TwoLayerNet(784, 50, 10) with central-difference numerical
gradients on the first training images (the book's gradient_check.py) and prints the mean
absolute difference per parameter. Exits 1 if any is 1e-6 or more (float64).

  --dtype T      float64 (default) or float32 (expect differences near 1e-3: rounding)
  --seed N       seed of the initial weights (default 0)
  --samples N    images to use (default 3)
  --data DIR     MNIST-format IDX files instead of the bundled digits
                 (or mnist, fashion-mnist: the copy 'backprop data' downloaded)
`;

/** The bar the issue sets for float64: every mean difference below this. */
const TOLERANCE = 1e-6;

export async function gradcheckCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags('gradcheck', args, {
    dtype: { type: 'string' },
    seed: { type: 'string' },
    samples: { type: 'string' },
    data: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out(GRADCHECK_HELP);
    return 0;
  }
  const dtype = choiceFlag('dtype', values.dtype, 'float64', ['float32', 'float64'] as const);
  const seed = intFlag('seed', values.seed, 0, 0);
  const samples = intFlag('samples', values.samples, 3, 1, 1000);
  const data = loadData(values.data, { dtype });
  const index = Int32Array.from({ length: samples }, (_, i) => i);
  const x = gatherRows(data.train.x, index);
  const t = index.map((i) => data.train.labels[i]);
  const net = new TwoLayerNet(784, 50, 10, 0.01, { seed, dtype });
  const diff = gradientCheck(net, x, t);
  let ok = true;
  for (const [key, d] of Object.entries(diff)) {
    io.out(`${key}: ${d.toExponential(2)}\n`);
    ok &&= d < TOLERANCE;
  }
  if (dtype === 'float64') {
    io.out(ok ? `all below ${TOLERANCE}: backprop agrees with numerical gradients\n` : `FAILED: a difference is ${TOLERANCE} or more\n`);
    return ok ? 0 : 1;
  }
  io.out('float32: differences this size are rounding, not bugs; use --dtype float64 for the check\n');
  return 0;
}
