/** Softmax and the losses: softmax, logSoftmax, softmaxCrossEntropy, meanSquaredError. */
import { Tensor } from '../../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../../tensor/ShapeError.js';
import { crossEntropyLabels, softmaxCrossEntropy as softmaxCrossEntropyRows, softmaxLossBackward, softmaxRows } from '../../tensor/ops.js';
import { toLabels, type Targets } from '../../functions/targets.js';
import { getBackend } from '../../kernels/registry.js';
import { Function, isRecording } from '../Function.js';
import { pooledTensor, recycle } from '../pool.js';
import { Variable, type VariableLike, asVariables } from '../Variable.js';
import { div, mul, pow, sub } from './arithmetic.js';
import { exp } from './math.js';
import { sum } from './reduce.js';

/** x as rows: the last axis is the one softmax normalizes. */
function rowsOf(op: string, x: Tensor): Tensor {
  if (x.ndim === 0) throw new ShapeError(`${op}: expected at least 1-D input, got shape ${fmtShape(x.shape)}`);
  const cols = x.shape[x.ndim - 1];
  return x.reshape([cols === 0 ? 0 : x.size / cols, cols]);
}

class Softmax extends Function {
  get name(): string { return 'softmax'; }
  forward(x: Tensor): Tensor { return softmaxRows(rowsOf('softmax', x)).reshape(x.shape); }
  // dx = y·dout − y·Σ(y·dout) along the last axis
  backward(gy: Variable): Variable[] {
    const y = this.output!;
    const ygy = mul(y, gy);
    return [sub(ygy, mul(y, sum(ygy, -1, true)))];
  }
}

class LogSoftmax extends Function {
  get name(): string { return 'logSoftmax'; }
  forward(x: Tensor): Tensor {
    const rows = rowsOf('logSoftmax', x);
    const o = Tensor.zeros(x.shape, { dtype: x.dtype, backend: x.backend });
    const [s, z] = [rows.data, o.data];
    const cols = rows.shape[1];
    for (let i = 0; i < rows.shape[0]; i++) { // y = x − max − ln Σ exp(x − max)
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, s[i * cols + j]);
      let e = 0;
      for (let j = 0; j < cols; j++) e += Math.exp(s[i * cols + j] - m);
      const lse = m + Math.log(e);
      for (let j = 0; j < cols; j++) z[i * cols + j] = s[i * cols + j] - lse;
    }
    return o;
  }
  // dx = dout − softmax(x)·Σ dout along the last axis, with softmax(x) = exp(y)
  backward(gy: Variable): Variable[] { return [sub(gy, mul(exp(this.output!), sum(gy, -1, true)))]; }
}

/** Softmax and the cross-entropy as one node (the targets t are its second, constant input, drawn as the book draws them). */
class SoftmaxCrossEntropy extends Function {
  get name(): string { return 'softmaxCrossEntropy'; }
  override get symbol(): string { return 'SoftmaxWithLoss'; }
  private y: Tensor | null = null;
  /** (y − t)/N, the gradient for dout = 1 (loss.backward()'s), made in forward where a graph is recorded. */
  private dx: Tensor | null = null;
  constructor(private readonly labels: Int32Array) { super(); }
  forward(x: Tensor): Tensor {
    const n = x.shape[0];
    const loss = pooledTensor([], x) ?? Tensor.zeros([], { dtype: x.dtype, backend: x.backend });
    if (isRecording()) {
      // y = softmax(x), the loss and dx = (y − t)/N in one pass: bit for bit the three below
      const r = softmaxCrossEntropyRows(x, this.labels, 1 / n, pooledTensor(x.shape, x), pooledTensor(x.shape, x));
      [this.y, this.dx] = [r.y, r.dx];
      loss.data[0] = r.loss;
    } else {
      this.y = softmaxRows(x, pooledTensor(x.shape, x));
      loss.data[0] = crossEntropyLabels(this.y, this.labels); // −(1/N) Σ log(y[n, t_n] + 1e-7)
    }
    return loss;
  }
  // dx = (y − t) · dout / N (the book's SoftmaxWithLoss, appendix A); t gets none
  backward(gy: Variable): (Variable | null)[] {
    const x = this.inputs[0];
    const n = x.shape[0];
    if (isRecording()) return [mul(sub(new Softmax().apply(x), Variable.constant(this.oneHot(x.data))), div(gy, n)), null];
    const dout = gy.data.data[0];
    if (dout === 1 && this.dx) { // made in forward, for this dout: handed on
      const dx = this.dx;
      this.dx = null;
      return [Variable.result(dx), null];
    }
    return [Variable.result(softmaxLossBackward(this.y!, this.labels, dout / n, pooledTensor(x.shape, x.data))), null];
  }
  override release(keepOutput = false): void {
    super.release(keepOutput);
    if (this.y) recycle(this.y);
    if (this.dx) recycle(this.dx);
    this.y = this.dx = null;
  }
  private oneHot(like: Tensor): Tensor {
    const t = Tensor.zeros(like.shape, { dtype: like.dtype, backend: like.backend });
    const [d, cols] = [t.data, like.shape[1]];
    this.labels.forEach((label, i) => (d[i * cols + label] = 1));
    return t;
  }
}

/** Softmax along the last axis. */
export const softmax = (x: VariableLike): Variable => new Softmax().apply(...asVariables(x));
/** ln softmax(x) along the last axis, computed stably (x − max − ln Σ exp(x − max)). */
export const logSoftmax = (x: VariableLike): Variable => new LogSoftmax().apply(...asVariables(x));

/**
 * The book's SoftmaxWithLoss as one operation: the mean over rows of −log(softmax(x)[n, t_n] + 1e-7),
 * with t as labels (an Int32Array or number[]) or one-hot rows; backward (y − t)/N. A 1-D x is
 * one row. (The gradient is the book's, which leaves out the 1e-7: relative error ≤ 1e-7/y_t.)
 *
 * @example F.softmaxCrossEntropy(scores, [3, 1, 4]) // scores: (3, 10) → a scalar
 */
export function softmaxCrossEntropy(x: VariableLike, t: Targets | Variable): Variable {
  let [v] = asVariables(x);
  if (v.ndim === 1) v = v.reshape(1, v.size);
  if (v.ndim !== 2) throw new ShapeError(`softmaxCrossEntropy: scores must be 1-D (one sample) or 2-D (a batch), got ${fmtShape(v.shape)}`);
  const labels = toLabels(t instanceof Variable ? t.data : t, v.shape[0], v.shape[1], 'softmaxCrossEntropy');
  const given = t instanceof Variable ? t : t instanceof Tensor ? Variable.constant(t, { name: 't' }) : null;
  // the labels as an input only for pictures: on the js backend, out of the kernels' way
  const targets = given ?? Variable.constant(Tensor.from(labels, [labels.length], { dtype: v.dtype, backend: getBackend('js') }), { name: 't' });
  return new SoftmaxCrossEntropy(labels).apply(v, targets);
}

/**
 * DeZero's mean squared error: Σ (a − b)² / N, with N the length of the first axis (1 for a
 * scalar), written with sub, pow, sum and div.
 */
export function meanSquaredError(a: VariableLike, b: VariableLike): Variable {
  const [x, y] = asVariables(a, b);
  const diff = sub(x, y);
  return div(sum(pow(diff, 2)), diff.ndim ? diff.shape[0] : 1);
}
