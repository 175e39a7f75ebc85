import type { Tensor } from '../tensor/Tensor.js';
import { Tensor as TensorClass } from '../tensor/Tensor.js';
import { Random } from '../random.js';
import { F, Variable } from '../autograd/index.js';
import { GraphError } from './errors.js';
import { type ExpressionBuilder, type Operator, parseWith } from './parser.js';

/** The variables of a tensor expression: shapes (values drawn from a seeded generator) and given values. */
export interface TensorVariables {
  /** name → shape, e.g. { x: [2, 3], W1: [3, 4] }. */
  shapes?: Readonly<Record<string, readonly number[]>>;
  /** name → values: one number (filling the shape, or a 0-D variable without one) or all of them, row-major. */
  values?: Readonly<Record<string, number | readonly number[]>>;
  /** Seed of the normal draws for variables without values (0). */
  seed?: number;
}

const OPERATORS: ReadonlySet<Operator> = new Set<Operator>(['+', '-', '*', '/', '@', '^']);
const unary = (f: (x: Variable) => Variable): [number, (...a: Variable[]) => Variable] => [1, (x) => f(x)];

/** The functions a tensor expression may call. */
const FUNCTIONS: Record<string, [number, (...args: Variable[]) => Variable]> = {
  exp: unary(F.exp), log: unary(F.log), sin: unary(F.sin), cos: unary(F.cos), tanh: unary(F.tanh),
  sigmoid: unary(F.sigmoid), relu: unary(F.relu), neg: unary(F.neg), softmax: unary(F.softmax),
  logSoftmax: unary(F.logSoftmax), sum: unary((x) => F.sum(x)), mean: unary((x) => F.mean(x)),
  max: unary((x) => F.max(x)), transpose: unary((x) => F.transpose(x)),
  matmul: [2, (a, b) => F.matmul(a, b)], meanSquaredError: [2, (a, b) => F.meanSquaredError(a, b)],
};

/** The names of the functions a tensor expression may call. */
export const TENSOR_FUNCTIONS: readonly string[] = Object.keys(FUNCTIONS);

/** The value of a number node, when it is one (exponents must be numbers). */
const constantOf = (v: Variable): number | undefined => (!v.requiresGrad && !v.creator && v.size === 1 ? v.data.data[0] : undefined);

/**
 * Builds an autograd computation, in float64, from an expression over tensors: the scalar
 * grammar plus `@` for the matrix product (`relu(x @ W1 + b1) @ W2 + b2`), NumPy broadcasting,
 * and the functions exp, log, sin, cos, tanh, sigmoid, relu, neg, softmax, logSoftmax, sum,
 * mean, max, transpose, matmul, meanSquaredError. Each variable is a leaf named after itself,
 * with a shape (values drawn from a seeded normal generator) or given values.
 *
 * @throws GraphSyntaxError with the column, for a syntax error or a variable with no shape or value.
 * @throws GraphError for values that do not fill a shape, an exponent that is not a number,
 *   or shapes an operation cannot take (the ShapeError's message).
 * @example
 * const y = parseTensorExpression('relu(x @ W + b)', { shapes: { x: [2, 3], W: [3, 4], b: [4] } });
 * y.shape; // [2, 4]
 */
export function parseTensorExpression(source: string, vars: TensorVariables): Variable {
  const shapes = vars.shapes ?? {}, values = vars.values ?? {};
  const rng = new Random(vars.seed ?? 0);
  const made = new Map<string, Variable>();
  const make = (name: string): Variable | undefined => {
    const shape = shapes[name];
    const given = values[name];
    if (!shape && given === undefined) return undefined;
    const list = given === undefined ? undefined : typeof given === 'number' ? [given] : given;
    const dims = shape ?? (list && list.length > 1 ? [list.length] : []);
    const t: Tensor = TensorClass.zeros(dims, { dtype: 'float64' });
    if (list && list.length !== 1 && list.length !== t.size) {
      throw new GraphError(`${name}: ${list.length} values do not fill shape (${dims.join(', ')}) of ${t.size} elements; give ${t.size} values or one`);
    }
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = list ? list[list.length === 1 ? 0 : i] : Number(rng.normal().toFixed(2));
    return new Variable(t, { name });
  };
  const builder: ExpressionBuilder<Variable> = {
    operators: OPERATORS,
    functions: FUNCTIONS,
    number: (v) => Variable.constant(TensorClass.from(v, [], { dtype: 'float64' })),
    variable(name) {
      let v = made.get(name);
      if (!v) {
        v = make(name);
        if (v) made.set(name, v);
      }
      return v;
    },
    known: () => [...new Set([...Object.keys(shapes), ...Object.keys(values)])],
    binary(op, a, b) {
      if (op === '^') {
        const c = constantOf(b);
        if (c === undefined) throw new GraphError('^: the exponent of a tensor expression must be a number (x ^ 2)');
        return F.pow(a, c);
      }
      return op === '+' ? F.add(a, b) : op === '-' ? F.sub(a, b) : op === '*' ? F.mul(a, b) : op === '/' ? F.div(a, b) : F.matmul(a, b);
    },
    negate: (x) => {
      const c = constantOf(x);
      return c === undefined ? F.neg(x) : builder.number(-c);
    },
  };
  try {
    return parseWith(source, builder);
  } catch (e) {
    if ((e as Error).name === 'ShapeError') throw new GraphError((e as Error).message);
    throw e;
  }
}
