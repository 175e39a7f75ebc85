import { Tensor } from '../tensor/Tensor.js';
import { matmul, matmulBatch, sumColumns } from '../tensor/ops.js';
import { col2im, convGeometry, im2colT, reuseView, transposeBatch } from '../tensor/conv.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Layer } from './Layer.js';
import type { Relu } from './Relu.js';

/**
 * The convolution layer (the book's `Convolution`, chapter 7): FN filters W (FN, C, FH, FW)
 * and biases b (FN) slide over a batch of images x (N, C, H, W), giving (N, FN, outH, outW)
 * with outH = (H + 2·pad − FH) // stride + 1, floored as in the book (a last partial window is
 * dropped: 3×3 filters with stride 2 on 8×8 give 3×3).
 *
 * As in the book, im2col turns the windows into rows of `col`, so the layer is an affine layer
 * on those rows: out = col · W_colᵀ + b, with W_col = W viewed as (FN, C·FH·FW). Backward:
 *   db = Σ dout,  dW = (colᵀ · dout)ᵀ = doutᵀ · col,  dcol = dout · W_col,  dx = col2im(dcol).
 * Here each image n is one product, so that the output comes out in the book's (N, FN, outH, outW)
 * order with no transpose: out_n = W_col · col_nᵀ + b, and with dout_n (FN, outH·outW),
 *   db = (Σ_n dout_n) · 1,  dW = Σ_n dout_n · col_n,  dcol_n = dout_nᵀ · W_col.
 * The layer keeps col_nᵀ itself (im2colT): the forward's product then reads it as it lies.
 *
 * @example
 * const conv = new Convolution(W, b, 1, 0);  // W: (30, 1, 5, 5), b: (30)
 * const out = conv.forward(x);               // x: (100, 1, 28, 28) → (100, 30, 24, 24)
 * const dx = conv.backward(dout);            // → (100, 1, 28, 28); sets conv.dW, conv.db
 */
export class Convolution implements Layer {
  /** The input of the last forward pass. */
  x: Tensor | null = null;

  /** Shaped like W. */
  dW: Tensor | null = null;
  /** db = Σ dout over the batch and positions, shaped like b. */
  db: Tensor | null = null;
  // Layer-owned buffers (and views of them), reused while the shapes stay the same.
  private wCol: Tensor | null = null;
  private colT: Tensor | null = null;
  private colBook3: Tensor | null = null;
  private colBook: Tensor | null = null;
  /** Whether colBook predates the last forward pass (remade from colT when col is read). */
  private colStale = true;
  private out: Tensor | null = null;
  private out4: Tensor | null = null;
  private dout3: Tensor | null = null;
  private ones: Tensor | null = null;
  private doutRows: Tensor | null = null;
  private dbSum: Tensor | null = null;
  private dbSum2: Tensor | null = null;
  private dbCol: Tensor | null = null;
  private dWCol: Tensor | null = null;
  private dcol: Tensor | null = null;
  private dcol2: Tensor | null = null;
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

  /**
   * The windows of the last input as rows, (N·outH·outW, C·FH·FW): the book's col, as the last
   * forward pass saw x. The layer's products use col_nᵀ (image by image); col is made from it when
   * first read after a forward pass, then kept. Null before a forward pass.
   */
  get col(): Tensor | null {
    if (!this.colT) return null;
    if (this.colStale) {
      const [N, K, P] = this.colT.shape;
      this.colBook3 = transposeBatch(this.colT, this.colBook3); //                  col_n = (col_nᵀ)ᵀ, (N, P, K)
      this.colBook = reuseView(this.colBook, this.colBook3, [N * P, K]);
      this.colStale = false;
    }
    return this.colBook;
  }

  /** (N, C, H, W) → (N, FN, outH, outW): out_n = W_col · col_nᵀ + b, image by image. */
  forward(x: Tensor): Tensor {
    return this.convolve(x, false);
  }

  /**
   * relu.forward(this.forward(x)) in one pass, max(0, W_col · col_nᵀ + b), stored as the Relu's
   * output so that its backward works as usual (the same numbers, bit for bit). This layer's own
   * output is then not kept apart: nothing in backward needs it.
   */
  forwardRelu(x: Tensor, relu: Relu): Tensor {
    relu.out = this.convolve(x, true);
    return relu.out;
  }

  private convolve(x: Tensor, relu: boolean): Tensor {
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
    this.colStale = true;
    this.wCol = reuseView(this.wCol, this.W, [FN, C * FH * FW]);
    this.colT = im2colT(x, FH, FW, this.stride, this.pad, this.colT); //            col_nᵀ: (N, C·FH·FW, outH·outW)
    // The book's (col · W_colᵀ + b).reshape(N, outH, outW, −1).transpose(0, 3, 1, 2), each image's
    // rows already in the output's order: out_n (FN, outH·outW) = W_col · col_nᵀ + b (b[f] on row f)
    this.out = matmulBatch(this.wCol, this.colT, { rowBias: this.b, relu, out: this.out });
    this.out4 = reuseView(this.out4, this.out, [N, FN, outH, outW]);
    return this.out4;
  }

  /** Stores dW and db; returns dx, shaped like the input. */
  backward(dout: Tensor): Tensor;
  /** With `inputGradient: false`, only dW and db: a first layer's dx is never used. */
  backward(dout: Tensor, options: { inputGradient: false }): null;
  backward(dout: Tensor, options?: { inputGradient: boolean }): Tensor | null {
    if (!this.x || !this.colT || !this.out4 || !this.wCol) throw new Error('Convolution: backward called before forward');
    const [N, FN, outH, outW] = this.out4.shape;
    if (dout.size !== this.out4.size) {
      throw new ShapeError(`Convolution: dout has shape ${fmtShape(dout.shape)} but the output was ${fmtShape(this.out4.shape)}`);
    }
    // dout_n (FN, outH·outW): the book's dout.transpose(0, 2, 3, 1).reshape(-1, FN) is dout_nᵀ stacked
    const P = outH * outW;
    this.dout3 = reuseView(this.dout3, dout, [N, FN, P]);
    const d = this.dout3;
    if (!this.ones || this.ones.size !== P || this.ones.dtype !== dout.dtype || this.ones.backend !== dout.backend) {
      this.ones = Tensor.from(new Array<number>(P).fill(1), [P, 1], { dtype: dout.dtype, backend: dout.backend });
    }
    this.doutRows = reuseView(this.doutRows, dout, [N, FN * P]);
    this.dbSum = sumColumns(this.doutRows, this.dbSum); //                           Σ_n dout_n, (FN·outH·outW)
    this.dbSum2 = reuseView(this.dbSum2, this.dbSum, [FN, P]);
    this.dbCol = matmul(this.dbSum2, this.ones, { out: this.dbCol }); //            db = (Σ_n dout_n) · 1
    this.db = reuseView(this.db, this.dbCol, this.b.shape);
    this.dWCol = matmulBatch(d, this.colT, { transB: true, sum: true, out: this.dWCol }); // dW = Σ_n dout_n · col_n
    this.dW = reuseView(this.dW, this.dWCol, this.W.shape);
    if (options?.inputGradient === false) return null;
    this.dcol = matmulBatch(d, this.wCol, { transA: true, out: this.dcol }); //    dcol_n = dout_nᵀ · W_col
    this.dcol2 = reuseView(this.dcol2, this.dcol, [N * P, this.colT.shape[1]]); //   dcol: (N·outH·outW, C·FH·FW)
    const [, , FH, FW] = this.W.shape;
    this.dx = col2im(this.dcol2, this.x.shape, FH, FW, this.stride, this.pad, this.dx); // dx = col2im(dcol)
    return this.dx;
  }
}
