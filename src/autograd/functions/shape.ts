/** Shapes and indexing: reshape, transpose, broadcastTo, sumTo, getItem. */
import type { Tensor } from '../../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../../tensor/ShapeError.js';
import { sameShape, gatherRows } from '../../tensor/ops.js';
import { broadcastTo as broadcastTensor, normalizeAxes, scatterAddRows, sumTo as sumTensor, transposeAxes } from '../../tensor/broadcast.js';
import { Function } from '../Function.js';
import { pooledTensor } from '../pool.js';
import { type Variable, type VariableLike, asVariables } from '../Variable.js';

class Reshape extends Function {
  get name(): string { return 'reshape'; }
  constructor(private readonly shape: readonly number[]) { super(); }
  forward(x: Tensor): Tensor { return x.reshape(this.shape); }
  // the same elements: the gradient takes the input's shape back
  backward(gy: Variable): Variable[] { return [reshape(gy, this.inputs[0].shape)]; }
}

class Transpose extends Function {
  get name(): string { return 'transpose'; }
  constructor(private readonly axes?: readonly number[]) { super(); }
  override get symbol(): string { return 'T'; }
  forward(x: Tensor): Tensor { return transposeAxes(x, this.axes); }
  // the inverse permutation
  backward(gy: Variable): Variable[] {
    const n = this.inputs[0].ndim;
    if (!this.axes) return [transpose(gy)];
    const axes = normalizeAxes('transpose', n, this.axes);
    const inverse = axes.map((_, k) => axes.indexOf(k));
    return [transpose(gy, inverse)];
  }
}

class BroadcastTo extends Function {
  get name(): string { return 'broadcastTo'; }
  constructor(private readonly shape: readonly number[]) { super(); }
  forward(x: Tensor): Tensor { return broadcastTensor(x, this.shape); }
  // the adjoint of repeating is summing the repeats
  backward(gy: Variable): Variable[] { return [sumTo(gy, this.inputs[0].shape)]; }
}

class SumTo extends Function {
  get name(): string { return 'sumTo'; }
  constructor(private readonly shape: readonly number[], private readonly out: Tensor | null = null) { super(); }
  override get symbol(): string { return 'Σ'; }
  forward(x: Tensor): Tensor { return sumTensor(x, this.shape, this.out ?? pooledTensor(this.shape, x)); }
  // the adjoint of summing is repeating
  backward(gy: Variable): Variable[] { return [broadcastTo(gy, this.inputs[0].shape)]; }
}

/** Which rows getItem takes: one row (the axis is dropped), a list of rows, or a slice of rows. */
export type RowIndex = number | readonly number[] | Int32Array | RowSlice;

/** Rows start, start + step, … before stop (NumPy's start:stop:step; negative values count from the end). */
export interface RowSlice {
  /** The first row (default: the first, or the last for a negative step). */
  start?: number;
  /** The row to stop before (default: past the end). */
  stop?: number;
  /** The distance between rows (default 1; negative runs backwards). */
  step?: number;
}

/** The rows of an index along axis 0 of `rows` rows, checked, and whether the axis is dropped. */
function rowsOf(index: RowIndex, rows: number): { rows: Int32Array; drop: boolean } {
  if (typeof index === 'number') {
    const i = index < 0 ? index + rows : index;
    if (!(Number.isInteger(i) && i >= 0 && i < rows)) throw new RangeError(`getItem: row ${index} is outside 0..${rows - 1}`);
    return { rows: Int32Array.of(i), drop: true };
  }
  if (ArrayBuffer.isView(index) || Array.isArray(index)) {
    const list = Int32Array.from(index as ArrayLike<number>, (i) => (i < 0 ? i + rows : i));
    list.forEach((i, k) => {
      if (!(i >= 0 && i < rows)) throw new RangeError(`getItem: row ${(index as ArrayLike<number>)[k]} at position ${k} is outside 0..${rows - 1}`);
    });
    return { rows: list, drop: false };
  }
  const { step = 1 } = index as { step?: number };
  if (!(Number.isInteger(step) && step !== 0)) throw new RangeError(`getItem: slice step must be a whole number ≠ 0, got ${step}`);
  const clamp = (v: number | undefined, dflt: number): number =>
    v === undefined ? dflt : Math.min(Math.max(v < 0 ? v + rows : v, step > 0 ? 0 : -1), step > 0 ? rows : rows - 1);
  const { start, stop } = index as { start?: number; stop?: number };
  const [from, to] = [clamp(start, step > 0 ? 0 : rows - 1), clamp(stop, step > 0 ? rows : -1)];
  const list: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) list.push(i);
  return { rows: Int32Array.from(list), drop: false };
}

class GetItem extends Function {
  get name(): string { return 'getItem'; }
  constructor(private readonly rows: Int32Array, private readonly drop: boolean) { super(); }
  override get symbol(): string { return '[ ]'; }
  forward(x: Tensor): Tensor {
    if (x.ndim === 0) throw new ShapeError('getItem: a 0-D variable has no rows');
    const picked = gatherRows(x.ndim === 1 ? x.reshape([x.shape[0], 1]) : x, this.rows);
    return picked.reshape(this.drop ? x.shape.slice(1) : [this.rows.length, ...x.shape.slice(1)]);
  }
  // each picked row's gradient goes back to the row it came from
  backward(gy: Variable): Variable[] { return [new GetItemGrad(this.rows, this.inputs[0].shape).apply(gy)]; }
}

/** The adjoint of GetItem: rows added into a zero tensor of the input's shape. */
class GetItemGrad extends Function {
  get name(): string { return 'getItemGrad'; }
  constructor(private readonly rows: Int32Array, private readonly shape: readonly number[]) { super(); }
  forward(gy: Tensor): Tensor { return scatterAddRows(gy, this.rows, this.shape); }
  backward(ggx: Variable): Variable[] { return [new GetItem(this.rows, false).apply(ggx).reshape(...this.inputs[0].shape)]; }
}

/** The same elements with another shape (one dimension may be −1). @example F.reshape(x, [2, -1]) */
export function reshape(x: VariableLike, shape: readonly number[]): Variable {
  const [v] = asVariables(x);
  return sameShape(v.shape, shape) ? v : new Reshape(shape).apply(v);
}
/** The axes permuted (np.transpose); reversed when omitted. @example F.transpose(W) // Wᵀ */
export const transpose = (x: VariableLike, axes?: readonly number[]): Variable => new Transpose(axes).apply(...asVariables(x));
/** x repeated along size-1 axes to `shape` (NumPy broadcasting). @example F.broadcastTo(b, [100, 50]) */
export function broadcastTo(x: VariableLike, shape: readonly number[]): Variable {
  const [v] = asVariables(x);
  return sameShape(v.shape, shape) ? v : new BroadcastTo(shape).apply(v);
}
/** x summed over the axes broadcasting would repeat, down to `shape` (DeZero's sum_to). @example F.sumTo(dout, [50]) // db */
export function sumTo(x: VariableLike, shape: readonly number[]): Variable {
  const [v] = asVariables(x);
  return sameShape(v.shape, shape) ? v : new SumTo(shape).apply(v);
}
/** @internal sumTo writing into `out` when it fits (a gradient's recycled storage). */
export function sumToInto(x: Variable, shape: readonly number[], out: Tensor | null): Variable {
  return sameShape(x.shape, shape) ? x : new SumTo(shape, out).apply(x);
}

/**
 * Rows of x: one row (`F.getItem(x, 1)`, the axis dropped), a list (`[0, 2, 2]`) or a slice
 * (`{ start: 1, stop: 3 }`, `{ step: -1 }`), as NumPy's x[1], x[[0, 2, 2]], x[1:3].
 */
export function getItem(x: VariableLike, index: RowIndex): Variable {
  const [v] = asVariables(x);
  if (v.ndim === 0) throw new ShapeError(`getItem: a 0-D variable (shape ${fmtShape(v.shape)}) has no rows`);
  const { rows, drop } = rowsOf(index, v.shape[0]);
  return new GetItem(rows, drop).apply(v);
}

