/**
 * NumPy broadcasting and axis operations on tensors of any rank, for autograd: broadcast
 * shapes, broadcastTo and its adjoint sumTo, element-wise binary operations on broadcast
 * shapes, reductions over axes, axis permutations and row scatter. Common cases run the
 * kernels (addBias, sumColumns, transposeBatch); the rest loop over `tensor.data` in TypeScript
 * on every backend, as elementwise.ts does. Each function allocates before reading `.data`.
 */
import { Tensor } from './Tensor.js';
import { ShapeError, fmtShape } from './ShapeError.js';
import { addBias, reuse, sameShape, sumColumns } from './ops.js';
import { add, div, mul, sub } from './elementwise.js';
import { transposeBatch } from './conv.js';

/**
 * The shape a and b broadcast to, by NumPy's rule: align the shapes from the right; each pair
 * of dimensions must be equal or one of them 1. `op` names the caller in the error.
 *
 * @example broadcastShape('add', [2, 3], [3])    // [2, 3]
 * @example broadcastShape('mul', [4, 1], [1, 5]) // [4, 5]
 */
export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let k = 1; k <= n; k++) {
    const da = a[a.length - k] ?? 1, db = b[b.length - k] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast: aligned from the right, axis −${k} has ${da} and ${db} ` +
          `(NumPy's rule: each pair of dimensions must be equal or one of them 1)`,
      );
    }
    out[n - k] = da === 1 ? db : da;
  }
  return out;
}

/** Strides of `shape` (row-major) seen from `to`, with 0 where an axis is broadcast or missing. */
function broadcastStrides(shape: readonly number[], to: readonly number[]): number[] {
  const strides = new Array<number>(to.length).fill(0);
  const off = to.length - shape.length;
  for (let d = shape.length - 1, s = 1; d >= 0; s *= shape[d], d--) strides[d + off] = shape[d] === 1 ? 0 : s;
  return strides;
}

/** For each element of a row-major `shape`, the offset Σ index[d]·strides[d] (an odometer). */
function offsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  const n = shape.length;
  if (size === 0) return out;
  const index = new Array<number>(n).fill(0);
  const inner = n ? shape[n - 1] : 1, innerStride = n ? strides[n - 1] : 0;
  for (let i = 0, base = 0; i < size; i += inner) {
    for (let j = 0; j < inner; j++) out[i + j] = base + j * innerStride;
    for (let d = n - 2; d >= 0; d--) { // carry
      index[d]++;
      base += strides[d];
      if (index[d] < shape[d]) break;
      base -= index[d] * strides[d];
      index[d] = 0;
    }
  }
  return out;
}

function checkBroadcastTo(op: string, from: readonly number[], to: readonly number[]): void {
  const b = broadcastShape(op, from, to);
  if (!sameShape(b, to)) {
    throw new ShapeError(`${op}: shape ${fmtShape(from)} cannot be broadcast to ${fmtShape(to)} (NumPy's rule: aligned from the right, each dimension must equal the target's or be 1)`);
  }
}

/**
 * x repeated along its size-1 (and missing leading) axes to `shape` (np.broadcast_to, as a copy).
 *
 * @example broadcastTo(Tensor.from([1, 2]), [2, 2]) // [[1, 2], [1, 2]]
 */
export function broadcastTo(x: Tensor, shape: readonly number[], out?: Tensor | null): Tensor {
  checkBroadcastTo('broadcastTo', x.shape, shape);
  const o = reuse(out, shape, x);
  if (sameShape(x.shape, shape)) {
    o.data.set(x.data);
    return o;
  }
  const idx = offsets(shape, broadcastStrides(x.shape, shape));
  const [s, z] = [x.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = s[idx[i]];
  return o;
}

/**
 * The adjoint of broadcastTo: x summed over the axes that broadcasting to x's shape repeated,
 * giving `shape` (DeZero's sum_to). A 2-D x summed to its row runs the sumColumns kernel.
 *
 * @example sumTo(Tensor.from([[1, 2], [3, 4]]), [2])    // [4, 6]
 * @example sumTo(Tensor.from([[1, 2], [3, 4]]), [2, 1]) // [[3], [7]]
 */
export function sumTo(x: Tensor, shape: readonly number[], out?: Tensor | null): Tensor {
  checkBroadcastTo('sumTo', shape, x.shape);
  if (x.ndim === 2 && shape.length <= 2 && shape[shape.length - 1] === x.shape[1] && (shape.length === 1 || shape[0] === 1)) {
    const o = reuse(out, shape, x);
    sumColumns(x, o.reshape([x.shape[1]])); // db = Σ_rows dout
    return o;
  }
  const o = reuse(out, shape, x);
  const idx = offsets(x.shape, broadcastStrides(shape, x.shape));
  const [s, z] = [x.data, o.data];
  z.fill(0);
  for (let i = 0; i < s.length; i++) z[idx[i]] += s[i];
  return o;
}

/** The largest element over the axes that broadcasting `shape` to x's shape would repeat (NaN wins). */
export function maxTo(x: Tensor, shape: readonly number[]): Tensor {
  checkBroadcastTo('max', shape, x.shape);
  const o = reuse(null, shape, x);
  const idx = offsets(x.shape, broadcastStrides(shape, x.shape));
  const [s, z] = [x.data, o.data];
  z.fill(-Infinity);
  for (let i = 0; i < s.length; i++) if (s[i] > z[idx[i]] || Number.isNaN(s[i])) z[idx[i]] = s[i];
  return o;
}

/** 1 where x equals its broadcast m (the arg max of a reduction), else 0: where max passes dout. */
export function equalMask(x: Tensor, m: Tensor): Tensor {
  return binary('equalMask', x, m, (a, b) => (a === b ? 1 : 0));
}

/** The kept-dimensions shape of a reduction over `axes` of `shape` (every axis when omitted). */
export function reducedShape(op: string, shape: readonly number[], axis?: number | readonly number[] | null): { keep: number[]; drop: number[] } {
  const axes = normalizeAxes(op, shape.length, axis);
  return {
    keep: shape.map((d, k) => (axes.includes(k) ? 1 : d)),
    drop: shape.filter((_, k) => !axes.includes(k)),
  };
}

/** Axes as non-negative indices: −1 is the last; all of them when omitted. */
export function normalizeAxes(op: string, ndim: number, axis?: number | readonly number[] | null): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, k) => k);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  return list.map((a) => {
    if (!(Number.isInteger(a) && a >= -ndim && a < ndim)) throw new ShapeError(`${op}: axis ${a} is out of range for ${ndim}-D input`);
    return a < 0 ? a + ndim : a;
  });
}

type BinaryKind = 'add' | 'sub' | 'mul' | 'div';
const SAME_SHAPE = { add, sub, mul, div };
const SCALAR: Record<BinaryKind, (x: number, y: number) => number> = {
  add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y,
};

/**
 * a ∘ b with NumPy broadcasting, for ∘ one of + − × ÷. Equal shapes run elementwise.ts;
 * (N, D) + (D,) runs the addBias kernel.
 *
 * @example arithmetic('add', Tensor.from([[1, 2], [3, 4]]), Tensor.from([10, 20])) // [[11, 22], [13, 24]]
 */
export function arithmetic(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  if (sameShape(a.shape, b.shape)) return SAME_SHAPE[kind](a, b);
  if (kind === 'add' && a.ndim === 2 && b.ndim === 1 && b.shape[0] === a.shape[1] && a.dtype === b.dtype) return addBias(a, b);
  return binary(kind, a, b, SCALAR[kind]);
}

/** fn(a, b) element by element on the broadcast shape (the general path). */
export function binary(op: string, a: Tensor, b: Tensor, fn: (x: number, y: number) => number): Tensor {
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: mixed dtypes ${a.dtype} and ${b.dtype}`);
  const shape = broadcastShape(op, a.shape, b.shape);
  // the result lives where the operand of its shape does (a broadcast 0-D constant may be elsewhere)
  const o = Tensor.zeros(shape, { dtype: a.dtype, backend: (sameShape(a.shape, shape) ? a : sameShape(b.shape, shape) ? b : a).backend });
  const ia = offsets(shape, broadcastStrides(a.shape, shape));
  const ib = offsets(shape, broadcastStrides(b.shape, shape));
  const [x, y, z] = [a.data, b.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = fn(x[ia[i]], y[ib[i]]);
  return o;
}

/**
 * The axes of x permuted (np.transpose): out axis d is x's axis axes[d]; reversed when omitted.
 * A 2-D transpose and a swap of the last two axes of a 3-D tensor run the transposeBatch kernel.
 *
 * @example transposeAxes(Tensor.from([[1, 2, 3]])).shape // [3, 1]
 */
export function transposeAxes(x: Tensor, axes?: readonly number[]): Tensor {
  const n = x.ndim;
  const perm = axes ? normalizeAxes('transpose', n, axes) : Array.from({ length: n }, (_, k) => n - 1 - k);
  if (perm.length !== n || new Set(perm).size !== n) {
    throw new ShapeError(`transpose: axes [${axes?.join(',')}] are not a permutation of the ${n} axes of shape ${fmtShape(x.shape)}`);
  }
  if (n === 2 && perm[0] === 1) return transposeBatch(x.reshape([1, ...x.shape])).reshape([x.shape[1], x.shape[0]]);
  if (n === 3 && perm[0] === 0 && perm[1] === 2) return transposeBatch(x);
  const shape = perm.map((a) => x.shape[a]);
  const inStrides = broadcastStrides(x.shape, x.shape);
  const idx = offsets(shape, perm.map((a) => inStrides[a]));
  const o = Tensor.zeros(shape, { dtype: x.dtype, backend: x.backend });
  const [s, z] = [x.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = s[idx[i]];
  return o;
}

/**
 * The adjoint of gathering rows: a zero tensor of `shape` with each row of src added to row
 * index[i] (rows picked twice get both).
 *
 * @example scatterAddRows(Tensor.from([[1, 1], [2, 2]]), Int32Array.from([1, 1]), [3, 2]) // [[0, 0], [3, 3], [0, 0]]
 */
export function scatterAddRows(src: Tensor, index: Int32Array, shape: readonly number[]): Tensor {
  const o = Tensor.zeros(shape, { dtype: src.dtype, backend: src.backend });
  const cols = shape[0] === 0 ? 0 : o.size / shape[0];
  if (src.size !== index.length * cols) {
    throw new ShapeError(`scatterAddRows: ${index.length} rows of ${cols} do not match src of shape ${fmtShape(src.shape)}`);
  }
  const [s, z] = [src.data, o.data];
  for (let i = 0; i < index.length; i++) {
    const to = index[i] * cols;
    for (let j = 0; j < cols; j++) z[to + j] += s[i * cols + j];
  }
  return o;
}
