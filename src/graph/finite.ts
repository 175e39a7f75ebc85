import { GraphValueError, type NonFiniteReason } from './errors.js';
import { formatNumber } from './format.js';
import { OPS, type Op } from './ops.js';

/**
 * A scalar graph never holds NaN or ±Infinity: an operation whose result (or whose gradient in
 * backward) is not a finite number stops with a GraphValueError that names the operation, its
 * inputs, and why — `log(-1) is NaN: log needs an input above 0` — instead of drawing a NaN
 * that spreads silently through the rest of the graph.
 */

const INFIX: Partial<Record<Op, string>> = { add: '+', sub: '−', mul: '×', div: '÷', pow: '^' };

/** A value as written inside an expression: negative numbers in parentheses where they are a base. */
const num = (x: number, base = false): string => (base && x < 0 ? `(${formatNumber(x)})` : formatNumber(x));

/** The operation applied to its input values, as text: `log(-1)`, `1 ÷ 0`, `(-8)^0.5`. */
function describe(op: Op, xs: readonly number[], param?: number): string {
  const infix = INFIX[op];
  if (infix === '^') return `${num(xs[0], true)}^${num(xs[1])}`;
  if (infix) return `${num(xs[0])} ${infix} ${num(xs[1])}`;
  if (op === 'powConst') return `${num(xs[0], true)}^${num(param ?? NaN)}`;
  if (op === 'reciprocal') return `1/${num(xs[0], true)}`;
  return `${OPS[op].symbol(param)}(${xs.map((x) => num(x)).join(', ')})`;
}

/** The English reason of each code (a page in another language words the code itself). */
export const NON_FINITE_REASONS: Readonly<Record<NonFiniteReason, string>> = {
  'log-domain': 'log needs an input above 0',
  'division-by-zero': 'division by 0',
  'negative-base': 'a negative base needs a whole-number exponent',
  'zero-negative-power': '0 to a negative power is a division by 0',
  'exp-overflow': 'exp overflows the float64 range for inputs above 709.78',
  overflow: 'the result overflows the float64 range (±1.8e308)',
  'infinite-slope': 'x^c has no finite slope at x = 0 for c < 1',
  'log-of-base': '∂(x^y)/∂y = x^y·ln x needs x above 0',
  'gradient-overflow': 'the local derivative times dout overflows the float64 range',
};

/** Why `op` gives a non-finite result on these (finite) inputs. */
function reason(op: Op, xs: readonly number[], param?: number): NonFiniteReason {
  const [x, y] = xs;
  const exponent = op === 'powConst' ? param ?? NaN : y;
  const power = op === 'pow' || op === 'powConst';
  if (op === 'log') return 'log-domain';
  if ((op === 'div' && y === 0) || (op === 'reciprocal' && x === 0)) return 'division-by-zero';
  if (power && x < 0 && !Number.isInteger(exponent)) return 'negative-base';
  if (power && x === 0 && exponent < 0) return 'zero-negative-power';
  if (op === 'exp') return 'exp-overflow';
  return 'overflow';
}

/**
 * OPS[op].forward(xs, param), or a GraphValueError when it is not a finite number.
 *
 * @example
 * forwardValue('log', [-1]); // GraphValueError: log(-1) is NaN: log needs an input above 0
 */
export function forwardValue(op: Op, xs: readonly number[], param?: number): number {
  const value = OPS[op].forward(xs, param);
  if (!Number.isFinite(value)) {
    const [expression, why] = [describe(op, xs, param), reason(op, xs, param)];
    throw new GraphValueError(`${expression} is ${formatNumber(value)}: ${NON_FINITE_REASONS[why]}`, expression, value, why);
  }
  return value;
}

/**
 * The gradients backward passes from a node `op` (inputs `xs`, upstream `dout`) to its inputs,
 * checked: a GraphValueError names the input whose gradient is not a finite number.
 *
 * @example
 * checkedGradients('powConst', [0], 1, 0, 0.5, ['x']); // GraphValueError: backward through 0^0.5: …
 */
export function checkedGradients(op: Op, xs: readonly number[], dout: number, out: number, param: number | undefined, inputNames: readonly string[]): number[] {
  const grads = OPS[op].backward(dout, xs, out, param);
  const k = grads.findIndex((g) => !Number.isFinite(g));
  if (k >= 0) {
    const why: NonFiniteReason = op === 'pow' && k === 1 && xs[0] <= 0
      ? 'log-of-base'
      : (op === 'pow' || op === 'powConst') && xs[0] === 0 ? 'infinite-slope' : 'gradient-overflow';
    const expression = describe(op, xs, param);
    throw new GraphValueError(
      `backward through ${expression}: the gradient for its input ${inputNames[k]} is ${formatNumber(grads[k])} (dout ${formatNumber(dout)}): ${NON_FINITE_REASONS[why]}`,
      expression, grads[k], why, inputNames[k],
    );
  }
  return grads;
}
