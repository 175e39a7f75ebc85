/**
 * The window operations of chapter 7, which the Convolution and Pooling layers call: im2col,
 * its adjoint col2im, max pooling, and the axis swap between a convolution's matrix product
 * and its (N, C, H, W) output. Like ops.ts, each checks shapes, naming the operation and the
 * shapes, then runs one kernel; each writes into `out` when given one of the right shape.
 */
import type { ConvGeometry } from '../kernels/Backend.js';
import { Tensor } from './Tensor.js';
import { reuse, sameShape } from './ops.js';
import { ShapeError, fmtShape } from './ShapeError.js';

/**
 * The number of window positions along one side, as the book's im2col computes it:
 * (size + 2·pad − filter) // stride + 1, floored, so a last window that would run past the
 * padded input is dropped (pooling 2×2 with stride 2 on 7 gives 3). Throws a ShapeError only
 * when a single window is larger than the padded input.
 *
 * @example convOutputSize(28, 5, 1, 0) // 24
 * @example convOutputSize(7, 3, 2, 1)  // 4
 * @example convOutputSize(8, 3, 2, 0)  // 3 (the last partial window is dropped)
 */
export function convOutputSize(size: number, filter: number, stride = 1, pad = 0, who = 'convOutputSize'): number {
  checkWindow(who, filter, filter, stride, pad);
  return outputSize(who, size, filter, stride, pad, '');
}

/**
 * The geometry of filterH×filterW windows over an input of shape (N, C, H, W), checked.
 * `who` names the caller (an operation or a layer) in error messages.
 *
 * @example convGeometry([100, 1, 28, 28], 5, 5).outH // 24
 */
export function convGeometry(
  inputShape: readonly number[], filterH: number, filterW: number, stride = 1, pad = 0, who = 'im2col',
): ConvGeometry {
  if (inputShape.length !== 4) {
    throw new ShapeError(`${who}: input must be 4-D (N, C, H, W), got shape ${fmtShape(inputShape)}`);
  }
  checkWindow(who, filterH, filterW, stride, pad);
  const [batch, channels, height, width] = inputShape;
  const where = ` (input shape ${fmtShape(inputShape)}, window ${filterH}×${filterW}, stride ${stride}, pad ${pad})`;
  return {
    batch, channels, height, width, filterH, filterW, stride, pad,
    outH: outputSize(who, height, filterH, stride, pad, where),
    outW: outputSize(who, width, filterW, stride, pad, where),
  };
}

function outputSize(who: string, size: number, filter: number, stride: number, pad: number, where: string): number {
  const span = size + 2 * pad - filter;
  if (span < 0) {
    throw new ShapeError(`${who}: a window of ${filter} does not fit in ${size} padded by ${pad} on each side${where}`);
  }
  return Math.floor(span / stride) + 1; // out = (H + 2·pad − FH) // stride + 1
}

function checkWindow(who: string, filterH: number, filterW: number, stride: number, pad: number): void {
  for (const [name, v, min] of [['filter height', filterH, 1], ['filter width', filterW, 1], ['stride', stride, 1], ['pad', pad, 0]] as const) {
    if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`${who}: ${name} must be a whole number ≥ ${min}, got ${v}`);
  }
}

function checkDtypes(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: mixed dtypes ${a.dtype} and ${b.dtype}`);
}

/**
 * The book's im2col: every filterH×filterW window of x (N, C, H, W) becomes one row of a
 * (N·outH·outW, C·filterH·filterW) matrix, so that a convolution is one matrix product.
 *   col[(n, oy, ox), (c, ky, kx)] = x[n, c, oy·stride + ky − pad, ox·stride + kx − pad]
 *
 * @example
 * im2col(x, 5, 5).shape;          // x: (1, 3, 7, 7) → [9, 75]
 * im2col(x, 3, 3, 2, 1).shape;    // x: (10, 3, 7, 7) → [160, 27]
 */
export function im2col(x: Tensor, filterH: number, filterW: number, stride = 1, pad = 0, out?: Tensor | null): Tensor {
  const g = convGeometry(x.shape, filterH, filterW, stride, pad, 'im2col');
  const o = reuse(out, [g.batch * g.outH * g.outW, g.channels * filterH * filterW], x);
  x.backend.im2col(x.data, o.data, g);
  return o;
}

/**
 * im2col of each image transposed: (N, C·filterH·filterW, outH·outW), col_nᵀ for image n, the
 * same values as im2col(x, …) viewed as (N, outH·outW, C·filterH·filterW) with each image's
 * matrix transposed. The Convolution layer's form: its forward W_col · col_nᵀ then reads the
 * windows as they lie instead of transposing them into the product's panels.
 *
 * @example im2colT(x, 5, 5).shape // x: (100, 1, 28, 28) → [100, 25, 576]
 */
export function im2colT(x: Tensor, filterH: number, filterW: number, stride = 1, pad = 0, out?: Tensor | null): Tensor {
  const g = convGeometry(x.shape, filterH, filterW, stride, pad, 'im2colT');
  const o = reuse(out, [g.batch, g.channels * filterH * filterW, g.outH * g.outW], x);
  x.backend.im2colT(x.data, o.data, g);
  return o;
}

/**
 * The book's col2im, the adjoint of im2col: each element of col is added back to the pixel of
 * an input of `inputShape` it came from, summing where windows overlap (dx from dcol).
 * ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c.
 *
 * @example col2im(dcol, [10, 3, 7, 7], 3, 3, 2, 1).shape // dcol: (160, 27) → [10, 3, 7, 7]
 */
export function col2im(
  col: Tensor, inputShape: readonly number[], filterH: number, filterW: number, stride = 1, pad = 0, out?: Tensor | null,
): Tensor {
  const g = convGeometry(inputShape, filterH, filterW, stride, pad, 'col2im');
  const expected = [g.batch * g.outH * g.outW, g.channels * filterH * filterW];
  if (!sameShape(col.shape, expected)) {
    throw new ShapeError(
      `col2im: col has shape ${fmtShape(col.shape)} but input shape ${fmtShape(inputShape)} with ${filterH}×${filterW} windows, ` +
        `stride ${stride}, pad ${pad} needs ${fmtShape(expected)}`,
    );
  }
  const o = reuse(out, inputShape, col);
  checkDtypes('col2im', col, o);
  col.backend.col2im(col.data, o.data, g);
  return o;
}

/**
 * Swaps the last two axes of a 3-D tensor: (B, R, C) → (B, C, R). A convolution's product
 * (N, outH·outW, FN) becomes (N, FN, outH·outW), and dout goes back the other way.
 *
 * @example transposeBatch(Tensor.from([[[1, 2, 3], [4, 5, 6]]])) // [[[1, 4], [2, 5], [3, 6]]]
 */
export function transposeBatch(x: Tensor, out?: Tensor | null): Tensor {
  if (x.ndim !== 3) throw new ShapeError(`transposeBatch: x must be 3-D (B, R, C), got shape ${fmtShape(x.shape)}`);
  const [batch, rows, cols] = x.shape;
  const o = reuse(out, [batch, cols, rows], x);
  x.backend.transposeBatch(x.data, o.data, batch, rows, cols);
  return o;
}

/** The output of max pooling and, for the backward pass, where each maximum came from. */
export interface MaxPoolResult {
  /** (N, C, outH, outW). */
  out: Tensor;
  /** For each output element, the index in x of its maximum, or −1 for a padding cell. */
  argMax: Int32Array;
}

/**
 * Max pooling: the largest value of each poolH×poolW window of x (N, C, H, W), per channel,
 * as (N, C, outH, outW), keeping the arg max (the first on ties) for the backward pass.
 * Padding cells count as 0, as in the book (np.pad then max).
 *
 * @example maxPool(x, 2, 2).out.shape // x: (1, 30, 24, 24) → [1, 30, 12, 12]
 */
export function maxPool(
  x: Tensor, poolH: number, poolW: number, stride = 2, pad = 0, out?: Tensor | null, argMax?: Int32Array | null,
): MaxPoolResult {
  const g = convGeometry(x.shape, poolH, poolW, stride, pad, 'maxPool');
  const o = reuse(out, [g.batch, g.channels, g.outH, g.outW], x);
  const a = argMax && argMax.length === o.size ? argMax : new Int32Array(o.size);
  x.backend.maxPoolForward(x.data, o.data, a, g);
  return { out: o, argMax: a };
}

/**
 * The backward pass of max pooling: each dout element goes to the input position that was its
 * window's maximum (summed where windows share one); every other position gets 0. With `mask`
 * (the ReLU output that was pooled), also 0 where mask ≤ 0: the ReLU's backward in the same pass.
 *
 * @example
 * const { out, argMax } = maxPool(x, 2, 2);                // x: (1, 1, 2, 2) = [[1, 3], [2, 0]]
 * maxPoolBackward(dout, argMax, x.shape, 2, 2);            // dout [[[[5]]]] → [[[[0, 5], [0, 0]]]]
 */
export function maxPoolBackward(
  dout: Tensor, argMax: Int32Array, inputShape: readonly number[],
  poolH: number, poolW: number, stride = 2, pad = 0, dx?: Tensor | null, mask?: Tensor | null,
): Tensor {
  const g = convGeometry(inputShape, poolH, poolW, stride, pad, 'maxPoolBackward');
  const outShape = [g.batch, g.channels, g.outH, g.outW];
  if (!sameShape(dout.shape, outShape)) {
    throw new ShapeError(`maxPoolBackward: dout has shape ${fmtShape(dout.shape)} but the pooled output was ${fmtShape(outShape)}`);
  }
  if (argMax.length !== dout.size) {
    throw new ShapeError(`maxPoolBackward: argMax has ${argMax.length} entries for ${dout.size} outputs`);
  }
  if (mask && !sameShape(mask.shape, inputShape)) {
    throw new ShapeError(`maxPoolBackward: mask has shape ${fmtShape(mask.shape)} but the input was ${fmtShape(inputShape)}`);
  }
  const d = reuse(dx, inputShape, dout);
  dout.backend.maxPoolBackward(dout.data, argMax, d.data, g, mask?.data ?? null);
  return d;
}

/**
 * `t` viewed with `shape` (sharing storage), reusing `cached` when it already is that view:
 * how layers hand out reshaped buffers without a new Tensor object per call.
 *
 * @example this.out4 = reuseView(this.out4, this.out, [N, FN, outH, outW]);
 */
export function reuseView(cached: Tensor | null | undefined, t: Tensor, shape: readonly number[]): Tensor {
  if (cached && cached.storage === t.storage && sameShape(cached.shape, shape)) return cached;
  return sameShape(t.shape, shape) ? t : t.reshape(shape);
}
