import type { Tensor } from '../tensor/Tensor.js';
import { matmul, matmulFused, sameShape, sumColumns } from '../tensor/ops.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import type { Layer } from './Layer.js';
import type { Relu } from './Relu.js';

/**
 * The fully connected layer: out = x · W + b, on a batch of rows.
 *
 * Input of any rank is flattened to (N, −1), like the book's `x.reshape(x.shape[0], -1)`,
 * and dx gets the input's original shape back. Backward stores dW and db:
 *   dx = dout · Wᵀ,  dW = xᵀ · dout,  db = Σ_rows dout.
 *
 * @example
 * ```ts
 * import { Affine, Tensor } from 'backprop-ts';
 *
 * const W = Tensor.from([[1, 2, 3], [4, 5, 6]]);         // (2 inputs, 3 outputs); MNIST: (784, 50)
 * const affine = new Affine(W, Tensor.from([1, 2, 3]));
 * const out = affine.forward(Tensor.from([[1, 1]]));    // x · W + b = [[6, 9, 12]]
 * const dx = affine.backward(Tensor.from([[1, 0, 0]])); // dout · Wᵀ = [[1, 4]]; sets affine.dW, affine.db
 * console.log(out.toArray(), dx.toArray(), affine.dW?.toArray(), affine.db?.toArray());
 * ```
 */
export class Affine implements Layer {
  /** The input, as (N, −1). */
  x: Tensor | null = null;
  /** The input's shape before flattening. */
  originalXShape: readonly number[] | null = null;
  /** dW = xᵀ · dout, after backward. */
  dW: Tensor | null = null;
  /** db = Σ_rows dout, after backward. */
  db: Tensor | null = null;
  /**
   * The input may hold many zeros (a first layer's images: 80% of an MNIST digit's pixels): the
   * products with x (forward's x · W, backward's xᵀ · dout) may then skip them (ops.matmulFused's
   * `sparseA`), which changes no number.
   * TwoLayerNet and Sequential set it on their first layer.
   */
  sparseInput = false;
  private out: Tensor | null = null;
  private dx: Tensor | null = null;
  private dxView: Tensor | null = null;

  /**
   * @param W Weights (inputs, outputs).
   * @param b Biases (outputs).
   */
  constructor(public W: Tensor, public b: Tensor) {
    if (W.ndim !== 2) throw new ShapeError(`Affine: W must be 2-D, got shape ${fmtShape(W.shape)}`);
    if (b.size !== W.shape[1]) {
      throw new ShapeError(`Affine: b has ${b.size} elements but W has ${W.shape[1]} columns (W shape ${fmtShape(W.shape)}, b shape ${fmtShape(b.shape)})`);
    }
  }

  /** out = x · W + b, with x seen as (N, −1). */
  forward(x: Tensor): Tensor {
    const x2 = this.acceptInput(x);
    this.out = matmulFused(x2, this.W, { bias: this.b, sparseA: this.sparseInput, out: this.out }); // x · W + b (b added as the product is stored)
    return x.ndim === 1 ? this.out.reshape([this.W.shape[1]]) : this.out;
  }

  /** Checks x and keeps it, as (N, −1), for backward. */
  private acceptInput(x: Tensor): Tensor {
    this.originalXShape = x.shape;
    const n = x.ndim === 1 ? 1 : x.shape[0];
    const features = n === 0 ? 0 : x.size / n;
    if (features !== this.W.shape[0]) {
      throw new ShapeError(
        `Affine: input has ${features} features but W expects ${this.W.shape[0]} (x shape ${fmtShape(x.shape)}, W shape ${fmtShape(this.W.shape)})`,
      );
    }
    this.x = x.ndim === 2 ? x : x.reshape([n, features]);
    return this.x;
  }

  /**
   * relu.forward(this.forward(x)) as one fused product, relu(x · W + b), stored as the Relu's
   * output so that its backward works as usual (the same numbers, bit for bit). This layer's
   * own output is not kept: nothing in backward needs it.
   */
  forwardRelu(x: Tensor, relu: Relu): Tensor {
    const x2 = this.acceptInput(x);
    if (x2.ndim !== 2) throw new ShapeError('Affine.forwardRelu: a 1-D input has no fused path; use forward');
    relu.out = matmulFused(x2, this.W, { bias: this.b, relu: true, sparseA: this.sparseInput, out: relu.out }); // max(0, x · W + b)
    return relu.out;
  }

  /**
   * relu.backward(this.backward(dout)) with the ReLU's mask fused into the product
   * dx = dout · Wᵀ: stores dW and db, returns the gradient at the Relu's input (bit-identical
   * to the two calls). `relu` is the Relu whose output fed this layer.
   */
  backwardRelu(dout: Tensor, relu: Relu): Tensor {
    const d = this.paramGradients(dout);
    if (!relu.out || !sameShape(relu.out.shape, this.x!.shape)) throw new Error('Affine.backwardRelu: the Relu did not produce this layer\'s input');
    this.dx = matmulFused(d, this.W, { transB: true, mask: relu.out, out: this.dx }); // dx = (dout · Wᵀ) · [out > 0]
    return this.dx;
  }

  /** Stores dW and db; returns dx in the input's shape. */
  backward(dout: Tensor): Tensor;
  /** With `inputGradient: false`, only dW and db: the first layer's dx is never used. */
  backward(dout: Tensor, options: { inputGradient: false }): null;
  backward(dout: Tensor, options?: { inputGradient: boolean }): Tensor | null {
    const d = this.paramGradients(dout);
    if (options?.inputGradient === false) return null;
    const originalXShape = this.originalXShape!;
    this.dx = matmul(d, this.W, { transB: true, out: this.dx }); // dx = dout · Wᵀ
    if (sameShape(originalXShape, this.dx.shape)) return this.dx;
    if (!this.dxView || this.dxView.storage !== this.dx.storage || !sameShape(this.dxView.shape, originalXShape)) {
      this.dxView = this.dx.reshape(originalXShape);
    }
    return this.dxView;
  }

  /** dW = xᵀ · dout and db = Σ_rows dout; returns dout as (N, out). */
  private paramGradients(dout: Tensor): Tensor {
    if (!this.x || !this.originalXShape) throw new Error('Affine: backward called before forward');
    const n = this.x.shape[0], outCols = this.W.shape[1];
    if (dout.size !== n * outCols) {
      throw new ShapeError(`Affine: dout has shape ${fmtShape(dout.shape)} but the output was [${n},${outCols}]`);
    }
    const d = dout.ndim === 2 ? dout : dout.reshape([n, outCols]);
    this.dW = matmulFused(this.x, d, { transA: true, sparseA: this.sparseInput, out: this.dW }); // dW = xᵀ · dout
    this.db = sumColumns(d, this.db); //                            db = Σ_rows dout
    return d;
  }
}
