/** Matrix products: matmul and linear (x · W + b, the book's Affine). */
import type { Tensor } from '../../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../../tensor/ShapeError.js';
import { matmul as matmulTensor, matmulFused } from '../../tensor/ops.js';
import { Function, isRecording } from '../Function.js';
import { pooledTensor } from '../pool.js';
import { type Variable, type VariableLike, asVariables } from '../Variable.js';
import { sumToInto } from './shape.js';

/**
 * C = op(A) · op(B), with op a transpose read through strides (no copy). Backward needs no
 * transposed copies either: each gradient is one more MatMul with the right flags. `sparseA`:
 * A is the data (a Linear's x): the backend may skip its zeros (the same numbers).
 */
class MatMul extends Function {
  get name(): string { return 'matmul'; }
  constructor(private readonly transA = false, private readonly transB = false, private readonly out: Tensor | null = null, private readonly sparseA = false) { super(); }
  override get symbol(): string { return 'dot'; } // the book's node (fig. 5-24)
  forward(a: Tensor, b: Tensor): Tensor {
    const shape = [this.transA ? a.shape[1] : a.shape[0], this.transB ? b.shape[0] : b.shape[1]];
    const options = { transA: this.transA, transB: this.transB, out: this.out ?? pooledTensor(shape, a) };
    return this.sparseA ? matmulFused(a, b, { ...options, sparseA: true }) : matmulTensor(a, b, options);
  }
  // dA = dC · op(B)ᵀ (transposed back when A was), dB = op(A)ᵀ · dC (likewise)
  backward(gy: Variable): (Variable | null)[] {
    const [a, b] = this.inputs;
    const { transA: tA, transB: tB } = this;
    return [
      this.needsGrad(0) ? (tA ? product(b, gy, tB, true) : product(gy, b, false, !tB)) : null,
      this.needsGrad(1) ? (tB ? product(gy, a, true, tA) : product(a, gy, !tA, false)) : null,
    ];
  }
}

const product = (a: Variable, b: Variable, transA: boolean, transB: boolean, out: Tensor | null = null, sparseA = false): Variable =>
  new MatMul(transA, transB, out, sparseA).apply(a, b);

/** Unrecorded, a parameter's gradient is written into the storage of the last step's (see Model.cleargrads). */
function spare(p: Variable): Tensor | null {
  return isRecording() || p.creator ? null : p.takeSpareGrad(p.shape);
}

class Linear extends Function {
  /** @param sparseX x is data (a leaf: made by no operation), whose zeros the products with x may skip. */
  constructor(private readonly sparseX: boolean) { super(); }
  get name(): string { return 'linear'; }
  override get symbol(): string { return 'Affine'; }
  forward(x: Tensor, W: Tensor, b?: Tensor): Tensor {
    const out = pooledTensor([x.shape[0], W.shape[1]], x);
    // x · W + b, b added as each row is stored (the same numbers as a product, then addBias);
    // x's zeros skipped where x is data (the same numbers again)
    return b || this.sparseX ? matmulFused(x, W, { bias: b ?? null, sparseA: this.sparseX, out }) : matmulTensor(x, W, { out });
  }
  // dx = dout · Wᵀ, dW = xᵀ · dout, db = Σ_rows dout (the book's Affine)
  backward(gy: Variable): (Variable | null)[] {
    const [x, W, b] = this.inputs;
    return [
      this.needsGrad(0) ? product(gy, W, false, true) : null,
      this.needsGrad(1) ? product(x, gy, true, false, spare(W), this.sparseX) : null,
      ...(b ? [this.needsGrad(2) ? sumToInto(gy, b.shape, spare(b)) : null] : []),
    ];
  }
}

/** The matrix product a · b of 2-D variables. @example F.matmul(x, W) */
export const matmul = (a: VariableLike, b: VariableLike): Variable => new MatMul().apply(...asVariables(a, b));

/**
 * x · W + b (b optional), the book's Affine on a batch of rows; b is added to every row.
 *
 * @example F.linear(x, W1, b1) // x: (100, 784), W1: (784, 50), b1: (50,) → (100, 50)
 */
export function linear(x: VariableLike, W: VariableLike, b?: VariableLike | null): Variable {
  const vs = b === undefined || b === null ? asVariables(x, W) : asVariables(x, W, b);
  const [xv, Wv, bv] = vs;
  if (xv.ndim !== 2 || Wv.ndim !== 2 || xv.shape[1] !== Wv.shape[0]) {
    throw new ShapeError(`linear: x · W needs x (N, D) and W (D, M), got x ${fmtShape(xv.shape)} and W ${fmtShape(Wv.shape)}`);
  }
  if (bv && !(bv.ndim === 1 && bv.shape[0] === Wv.shape[1])) {
    throw new ShapeError(`linear: b must have shape [${Wv.shape[1]}] for W ${fmtShape(Wv.shape)}, got ${fmtShape(bv.shape)}`);
  }
  // a leaf x (made by no operation) is taken for data, images say, whose zeros the products may skip
  return new Linear(xv.creator === null).apply(...vs);
}
