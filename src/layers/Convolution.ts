import type { Tensor } from '../tensor/Tensor.js';
import { addBias, matmul, sumColumns } from '../tensor/ops.js';
import { col2im, convGeometry, im2col, reuseView, transposeBatch } from '../tensor/conv.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Layer } from './Layer.js';

/**
 * The convolution layer (the book's `Convolution`, chapter 7): FN filters W (FN, C, FH, FW)
 * and biases b (FN) slide over a batch of images x (N, C, H, W), giving (N, FN, outH, outW)
 * with outH = (H + 2·pad − FH) // stride + 1, floored as in the book (a last partial window is
 * dropped: 3×3 filters with stride 2 on 8×8 give 3×3).
 *
 * As in the book, im2col turns the windows into rows of `col`, so the layer is an affine layer
 * on those rows: out = col · W_colᵀ + b, with W_col = W viewed as (FN, C·FH·FW). Backward:
 *   db = Σ dout,  dW = (colᵀ · dout)ᵀ = doutᵀ · col,  dcol = dout · W_col,  dx = col2im(dcol).
 *
 * @example
 * const conv = new Convolution(W, b, 1, 0);  // W: (30, 1, 5, 5), b: (30)
 * const out = conv.forward(x);               // x: (100, 1, 28, 28) → (100, 30, 24, 24)
 * const dx = conv.backward(dout);            // → (100, 1, 28, 28); sets conv.dW, conv.db
 */
export class Convolution implements Layer {
  /** The input of the last forward pass. */
  x: Tensor | null = null;
  /** The windows of x as rows: (N·outH·outW, C·FH·FW). */
  col: Tensor | null = null;
  /** Shaped like W. */
  dW: Tensor | null = null;
  /** db = Σ dout over the batch and positions, shaped like b. */
  db: Tensor | null = null;
  // Layer-owned buffers (and views of them), reused while the shapes stay the same.
  private wCol: Tensor | null = null;
  private colOut: Tensor | null = null;
  private colOut3: Tensor | null = null;
  private out: Tensor | null = null;
  private out4: Tensor | null = null;
  private dout3: Tensor | null = null;
  private doutT: Tensor | null = null;
  private doutT2: Tensor | null = null;
  private dWCol: Tensor | null = null;
  private dcol: Tensor | null = null;
  private dx: Tensor | null = null;

  /**
   * @param W Filters (FN, C, FH, FW).
   * @param b Biases (FN).
   * @param stride Step between windows (1).
   * @param pad Zero padding on each side (0).
   */
  constructor(public W: Tensor, public b: Tensor, readonly stride = 1, readonly pad = 0) {
    if (W.ndim !== 4) throw new ShapeError(`Convolution: W must be 4-D (FN, C, FH, FW), got shape ${fmtShape(W.shape)}`);
    if (b.size !== W.shape[0]) {
      throw new ShapeError(`Convolution: b has ${b.size} elements but W has ${W.shape[0]} filters (W shape ${fmtShape(W.shape)}, b shape ${fmtShape(b.shape)})`);
    }
    for (const [name, v, min] of [['stride', stride, 1], ['pad', pad, 0]] as const) {
      if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`Convolution: ${name} must be a whole number ≥ ${min}, got ${v}`);
    }
  }

  /** (N, C, H, W) → (N, FN, outH, outW): out = col · W_colᵀ + b. */
  forward(x: Tensor): Tensor {
    const [FN, C, FH, FW] = this.W.shape;
    if (x.ndim !== 4) {
      throw new ShapeError(`Convolution: input must be 4-D (N, C, H, W), got shape ${fmtShape(x.shape)} (W shape ${fmtShape(this.W.shape)})`);
    }
    if (x.shape[1] !== C) {
      throw new ShapeError(
        `Convolution: input has ${x.shape[1]} channels but W expects ${C} (x shape ${fmtShape(x.shape)}, W shape ${fmtShape(this.W.shape)})`,
      );
    }
    const { batch: N, outH, outW } = convGeometry(x.shape, FH, FW, this.stride, this.pad, 'Convolution');
    this.x = x;
    this.wCol = reuseView(this.wCol, this.W, [FN, C * FH * FW]);
    this.col = im2col(x, FH, FW, this.stride, this.pad, this.col); //               (N·outH·outW, C·FH·FW)
    this.colOut = matmul(this.col, this.wCol, { transB: true, out: this.colOut }); // col · W_colᵀ
    addBias(this.colOut, this.b, this.colOut); //                                      + b
    // (N, outH·outW, FN) → (N, FN, outH·outW): the book's transpose(0, 3, 1, 2)
    this.colOut3 = reuseView(this.colOut3, this.colOut, [N, outH * outW, FN]);
    this.out = transposeBatch(this.colOut3, this.out);
    this.out4 = reuseView(this.out4, this.out, [N, FN, outH, outW]);
    return this.out4;
  }

  /** Stores dW and db; returns dx, shaped like the input. */
  backward(dout: Tensor): Tensor;
  /** With `inputGradient: false`, only dW and db: a first layer's dx is never used. */
  backward(dout: Tensor, options: { inputGradient: false }): null;
  backward(dout: Tensor, options?: { inputGradient: boolean }): Tensor | null {
    if (!this.x || !this.col || !this.out4 || !this.wCol) throw new Error('Convolution: backward called before forward');
    const [N, FN, outH, outW] = this.out4.shape;
    if (dout.size !== this.out4.size) {
      throw new ShapeError(`Convolution: dout has shape ${fmtShape(dout.shape)} but the output was ${fmtShape(this.out4.shape)}`);
    }
    // (N, FN, outH·outW) → (N·outH·outW, FN): the book's dout.transpose(0, 2, 3, 1).reshape(-1, FN)
    this.dout3 = reuseView(this.dout3, dout, [N, FN, outH * outW]);
    this.doutT = transposeBatch(this.dout3, this.doutT);
    this.doutT2 = reuseView(this.doutT2, this.doutT, [N * outH * outW, FN]);
    const d = this.doutT2;
    this.db = sumColumns(d, this.db); //                                            db = Σ dout
    this.dWCol = matmul(d, this.col, { transA: true, out: this.dWCol }); //         dW = doutᵀ · col
    this.dW = reuseView(this.dW, this.dWCol, this.W.shape);
    if (options?.inputGradient === false) return null;
    this.dcol = matmul(d, this.wCol, { out: this.dcol }); //                        dcol = dout · W_col
    const [, , FH, FW] = this.W.shape;
    this.dx = col2im(this.dcol, this.x.shape, FH, FW, this.stride, this.pad, this.dx); // dx = col2im(dcol)
    return this.dx;
  }
}
