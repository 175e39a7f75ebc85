/** Convolution and pooling on the im2col/col2im and max-pooling kernels of chapter 7. */
import type { Tensor } from '../../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../../tensor/ShapeError.js';
import { col2im as col2imTensor, convGeometry, im2col as im2colTensor, maxPool, maxPoolBackward } from '../../tensor/conv.js';
import { Function } from '../Function.js';
import { Variable, type VariableLike, asVariables } from '../Variable.js';
import { add } from './arithmetic.js';
import { matmul } from './matmul.js';
import { reshape, transpose } from './shape.js';

/** Window sizes and placement: filterH × filterW windows moved by stride over the input padded by pad. */
interface Window { filterH: number; filterW: number; stride: number; pad: number }

class Im2col extends Function {
  get name(): string { return 'im2col'; }
  constructor(private readonly w: Window) { super(); }
  forward(x: Tensor): Tensor { return im2colTensor(x, this.w.filterH, this.w.filterW, this.w.stride, this.w.pad); }
  // the adjoint of gathering windows is adding them back: col2im
  backward(gy: Variable): Variable[] { return [new Col2im(this.inputs[0].shape, this.w).apply(gy)]; }
}

class Col2im extends Function {
  get name(): string { return 'col2im'; }
  constructor(private readonly shape: readonly number[], private readonly w: Window) { super(); }
  forward(col: Tensor): Tensor { return col2imTensor(col, this.shape, this.w.filterH, this.w.filterW, this.w.stride, this.w.pad); }
  // the adjoint of col2im is im2col
  backward(gy: Variable): Variable[] { return [new Im2col(this.w).apply(gy)]; }
}

class Pooling extends Function {
  get name(): string { return 'pooling'; }
  override get symbol(): string { return 'max pool'; }
  override get supportsCreateGraph(): boolean { return false; }
  private argMax: Int32Array | null = null;
  constructor(private readonly w: Window) { super(); }
  forward(x: Tensor): Tensor {
    const { out, argMax } = maxPool(x, this.w.filterH, this.w.filterW, this.w.stride, this.w.pad);
    this.argMax = argMax;
    return out;
  }
  // each window's dout goes to the position of its maximum (a tensor rule: no createGraph)
  backward(gy: Variable): Variable[] {
    const { filterH, filterW, stride, pad } = this.w;
    return [Variable.result(maxPoolBackward(gy.data, this.argMax!, this.inputs[0].shape, filterH, filterW, stride, pad))];
  }
}

/**
 * The book's im2col as an operation: each window of x (N, C, H, W) becomes a row of
 * (N·outH·outW, C·filterH·filterW). Its backward is col2im.
 */
export function im2col(x: VariableLike, filterH: number, filterW = filterH, stride = 1, pad = 0): Variable {
  return new Im2col({ filterH, filterW, stride, pad }).apply(...asVariables(x));
}

/**
 * Convolution as the book's Convolution layer computes it: im2col, one matrix product with
 * the filters W (FN, C, FH, FW) flattened, plus the bias b (FN,), then back to (N, FN, outH, outW).
 *
 * @example F.conv2d(x, W, b, 1, 0) // x: (N, 1, 28, 28), W: (30, 1, 5, 5) → (N, 30, 24, 24)
 */
export function conv2d(x: VariableLike, W: VariableLike, b?: VariableLike | null, stride = 1, pad = 0): Variable {
  const [xv, Wv] = asVariables(x, W);
  if (Wv.ndim !== 4 || xv.ndim !== 4 || Wv.shape[1] !== xv.shape[1]) {
    throw new ShapeError(`conv2d: x must be (N, C, H, W) and W (FN, C, FH, FW) with the same C, got x ${fmtShape(xv.shape)} and W ${fmtShape(Wv.shape)}`);
  }
  const [FN, C, FH, FW] = Wv.shape;
  const g = convGeometry(xv.shape, FH, FW, stride, pad, 'conv2d');
  const col = im2col(xv, FH, FW, stride, pad); //                         (N·outH·outW, C·FH·FW)
  let out = matmul(col, transpose(reshape(Wv, [FN, C * FH * FW]))); //      · Wᵀ → (N·outH·outW, FN)
  if (b !== undefined && b !== null) out = add(out, asVariables(b, Wv)[0]); // + b
  const perChannel = transpose(reshape(out, [g.batch, g.outH * g.outW, FN]), [0, 2, 1]);
  return reshape(perChannel, [g.batch, FN, g.outH, g.outW]);
}

/**
 * Max pooling of x (N, C, H, W) over poolH × poolW windows, as the book's Pooling layer
 * (stride 1 and no padding unless given). Its backward runs on tensors only: no createGraph.
 *
 * @example F.pooling(x, 2, 2, 2) // (N, 30, 24, 24) → (N, 30, 12, 12)
 */
export function pooling(x: VariableLike, poolH: number, poolW = poolH, stride = 1, pad = 0): Variable {
  return new Pooling({ filterH: poolH, filterW: poolW, stride, pad }).apply(...asVariables(x));
}
