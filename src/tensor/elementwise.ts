/**
 * Element-wise, row-broadcast and column-reduction operations for chapters 6 and 7 (Tanh,
 * Dropout, BatchNormalization, weight decay, the optimizers' updates), which the kernel
 * interface does not have. They loop over `tensor.data` in TypeScript on every backend.
 *
 * Conventions, as in ops.ts: shapes and dtypes are checked (errors name the operation and the
 * shapes); `out` is written when it already has the right shape, dtype and backend, else a new
 * tensor is returned; `out` may be one of the inputs; only functions named `…Into` modify an
 * argument. Each function allocates first and reads `.data` afterwards, and never keeps a view
 * across calls: allocating may grow a WebAssembly backend's memory, which detaches older views.
 * Row operations take a 2-D x (N, D) and a row of D elements broadcast over every row.
 */
import type { Tensor } from './Tensor.js';
import { ShapeError, fmtShape } from './ShapeError.js';
import { reuse, sameShape } from './ops.js';

function needSame(op: string, a: Tensor, b: Tensor, aName: string, bName: string): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(`${op}: ${aName} has shape ${fmtShape(a.shape)} but ${bName} has shape ${fmtShape(b.shape)}`);
  }
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: mixed dtypes ${a.dtype} (${aName}) and ${b.dtype} (${bName})`);
}

function need2d(op: string, x: Tensor): void {
  if (x.ndim !== 2) throw new ShapeError(`${op}: x must be 2-D (N, D), got shape ${fmtShape(x.shape)}; reshape it to (N, -1) first`);
}

function needRow(op: string, x: Tensor, row: Tensor, name: string): void {
  if (row.size !== x.shape[1]) {
    throw new ShapeError(`${op}: ${name} has ${row.size} elements but x has ${x.shape[1]} columns (x shape ${fmtShape(x.shape)}, ${name} shape ${fmtShape(row.shape)})`);
  }
  if (row.dtype !== x.dtype) throw new ShapeError(`${op}: mixed dtypes ${x.dtype} (x) and ${row.dtype} (${name})`);
}

function needFinite(op: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be a finite number, got ${v}`);
}

// ─── element-wise ────────────────────────────────────────────────────────────────────────────

/** a + b, element-wise. @example add(Tensor.from([1, 2]), Tensor.from([10, 20])) // [11, 22] */
export function add(a: Tensor, b: Tensor, out?: Tensor | null): Tensor {
  needSame('add', a, b, 'a', 'b');
  const o = reuse(out, a.shape, a);
  const [x, y, z] = [a.data, b.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = x[i] + y[i];
  return o;
}

/** a − b, element-wise. @example sub(Tensor.from([5, 5]), Tensor.from([1, 2])) // [4, 3] */
export function sub(a: Tensor, b: Tensor, out?: Tensor | null): Tensor {
  needSame('sub', a, b, 'a', 'b');
  const o = reuse(out, a.shape, a);
  const [x, y, z] = [a.data, b.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = x[i] - y[i];
  return o;
}

/** a · b, element-wise (NumPy's `a * b`). @example mul(Tensor.from([2, 3]), Tensor.from([4, 5])) // [8, 15] */
export function mul(a: Tensor, b: Tensor, out?: Tensor | null): Tensor {
  needSame('mul', a, b, 'a', 'b');
  const o = reuse(out, a.shape, a);
  const [x, y, z] = [a.data, b.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = x[i] * y[i];
  return o;
}

/** a / b, element-wise. @example div(Tensor.from([1, 6]), Tensor.from([2, 3])) // [0.5, 2] */
export function div(a: Tensor, b: Tensor, out?: Tensor | null): Tensor {
  needSame('div', a, b, 'a', 'b');
  const o = reuse(out, a.shape, a);
  const [x, y, z] = [a.data, b.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = x[i] / y[i];
  return o;
}

/** alpha · x. @example scale(Tensor.from([1, -2]), 0.5) // [0.5, -1] */
export function scale(x: Tensor, alpha: number, out?: Tensor | null): Tensor {
  needFinite('scale', 'alpha', alpha);
  const o = reuse(out, x.shape, x);
  const [s, z] = [x.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = alpha * s[i];
  return o;
}

/** √(x + eps), element-wise (BatchNormalization's std = √(var + ε)). @example sqrtPlus(Tensor.from([3, 8]), 1) // [2, 3] */
export function sqrtPlus(x: Tensor, eps: number, out?: Tensor | null): Tensor {
  needFinite('sqrtPlus', 'eps', eps);
  const o = reuse(out, x.shape, x);
  const [s, z] = [x.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = Math.sqrt(s[i] + eps);
  return o;
}

/** tanh(x), element-wise. @example tanh(Tensor.from([0])) // [0] */
export function tanh(x: Tensor, out?: Tensor | null): Tensor {
  const o = reuse(out, x.shape, x);
  const [s, z] = [x.data, o.data];
  for (let i = 0; i < z.length; i++) z[i] = Math.tanh(s[i]);
  return o;
}

/** dx = dout · (1 − y²), with y = tanh(x) the forward output. @example tanhBackward(Tensor.from([2]), Tensor.from([0.5])) // [1.5] */
export function tanhBackward(dout: Tensor, y: Tensor, dx?: Tensor | null): Tensor {
  needSame('Tanh.backward', dout, y, 'dout', 'the output');
  const d = reuse(dx, y.shape, y);
  const [g, o, z] = [dout.data, y.data, d.data];
  for (let i = 0; i < z.length; i++) z[i] = g[i] * (1 - o[i] * o[i]);
  return d;
}

/** Σ x², over all elements (weight decay's ‖W‖²). @example sumOfSquares(Tensor.from([3, 4])) // 25 */
export function sumOfSquares(x: Tensor): number {
  const s = x.data;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i] * s[i];
  return sum;
}

// ─── rows: x (N, D) with a row of D elements broadcast over every row ─────────────────────────

/** x − row, the row subtracted from every row (xc = x − μ). @example subRow(Tensor.from([[1, 2], [3, 4]]), Tensor.from([1, 1])) // [[0, 1], [2, 3]] */
export function subRow(x: Tensor, row: Tensor, out?: Tensor | null): Tensor {
  need2d('subRow', x);
  needRow('subRow', x, row, 'row');
  const o = reuse(out, x.shape, x);
  const [s, r, z] = [x.data, row.data, o.data];
  const cols = x.shape[1];
  for (let i = 0, k = 0; i < x.shape[0]; i++) for (let j = 0; j < cols; j++, k++) z[k] = s[k] - r[j];
  return o;
}

/** x · row, every row multiplied element-wise by the row (dxn = γ · dout). @example mulRow(Tensor.from([[1, 2], [3, 4]]), Tensor.from([10, 0])) // [[10, 0], [30, 0]] */
export function mulRow(x: Tensor, row: Tensor, out?: Tensor | null): Tensor {
  need2d('mulRow', x);
  needRow('mulRow', x, row, 'row');
  const o = reuse(out, x.shape, x);
  const [s, r, z] = [x.data, row.data, o.data];
  const cols = x.shape[1];
  for (let i = 0, k = 0; i < x.shape[0]; i++) for (let j = 0; j < cols; j++, k++) z[k] = s[k] * r[j];
  return o;
}

/** x / row, every row divided element-wise by the row (xn = xc / std). @example divRow(Tensor.from([[2, 9]]), Tensor.from([2, 3])) // [[1, 3]] */
export function divRow(x: Tensor, row: Tensor, out?: Tensor | null): Tensor {
  need2d('divRow', x);
  needRow('divRow', x, row, 'row');
  const o = reuse(out, x.shape, x);
  const [s, r, z] = [x.data, row.data, o.data];
  const cols = x.shape[1];
  for (let i = 0, k = 0; i < x.shape[0]; i++) for (let j = 0; j < cols; j++, k++) z[k] = s[k] / r[j];
  return o;
}

/** x · scale + shift, per column (out = γ · xn + β). @example mulAddRow(Tensor.from([[1, 2]]), Tensor.from([2, 3]), Tensor.from([1, 1])) // [[3, 7]] */
export function mulAddRow(x: Tensor, scaleRow: Tensor, shiftRow: Tensor, out?: Tensor | null): Tensor {
  need2d('mulAddRow', x);
  needRow('mulAddRow', x, scaleRow, 'scale');
  needRow('mulAddRow', x, shiftRow, 'shift');
  const o = reuse(out, x.shape, x);
  const [s, a, b, z] = [x.data, scaleRow.data, shiftRow.data, o.data];
  const cols = x.shape[1];
  for (let i = 0, k = 0; i < x.shape[0]; i++) for (let j = 0; j < cols; j++, k++) z[k] = s[k] * a[j] + b[j];
  return o;
}

// ─── columns: reductions over the rows of x (N, D), giving D values ───────────────────────────

/** The largest element of each row of a 2-D tensor (NumPy's `x.max(axis=1)`), as a 1-D tensor. */
export function maxRows(x: Tensor, out?: Tensor | null): Tensor {
  need2d('maxRows', x);
  const [rows, cols] = x.shape;
  if (cols === 0) throw new ShapeError(`maxRows: rows of x have no elements (x shape ${fmtShape(x.shape)})`);
  const o = reuse(out, [rows], x);
  const d = x.data;
  const r = o.data;
  for (let i = 0; i < rows; i++) {
    let m = d[i * cols];
    for (let j = 1; j < cols; j++) if (d[i * cols + j] > m || Number.isNaN(d[i * cols + j])) m = d[i * cols + j];
    r[i] = m;
  }
  return o;
}

/** The mean of each column, as a 1-D tensor (μ = x.mean(axis=0)). @example meanColumns(Tensor.from([[1, 2], [3, 6]])) // [2, 4] */
export function meanColumns(x: Tensor, out?: Tensor | null): Tensor {
  need2d('meanColumns', x);
  const [rows, cols] = x.shape;
  const o = reuse(out, [cols], x);
  const [s, z] = [x.data, o.data];
  for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let k = j; k < s.length; k += cols) sum += s[k];
    z[j] = sum / rows;
  }
  return o;
}

/** The (biased) variance of each column about `mean`: mean((x − μ)², axis=0). @example varianceColumns(Tensor.from([[1, 2], [3, 6]]), Tensor.from([2, 4])) // [1, 4] */
export function varianceColumns(x: Tensor, mean: Tensor, out?: Tensor | null): Tensor {
  need2d('varianceColumns', x);
  needRow('varianceColumns', x, mean, 'mean');
  const [rows, cols] = x.shape;
  const o = reuse(out, [cols], x);
  const [s, m, z] = [x.data, mean.data, o.data];
  for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let k = j; k < s.length; k += cols) sum += (s[k] - m[j]) * (s[k] - m[j]);
    z[j] = sum / rows;
  }
  return o;
}

/** Σ_rows a · b, per column (dγ = Σ xn · dout). @example dotColumns(Tensor.from([[1, 2], [3, 4]]), Tensor.from([[1, 1], [2, 0]])) // [7, 2] */
export function dotColumns(a: Tensor, b: Tensor, out?: Tensor | null): Tensor {
  need2d('dotColumns', a);
  needSame('dotColumns', a, b, 'a', 'b');
  const cols = a.shape[1];
  const o = reuse(out, [cols], a);
  const [x, y, z] = [a.data, b.data, o.data];
  for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let k = j; k < x.length; k += cols) sum += x[k] * y[k];
    z[j] = sum;
  }
  return o;
}

// ─── in place ────────────────────────────────────────────────────────────────────────────────

/** avg ← momentum · avg + (1 − momentum) · x, in place on avg (BatchNormalization's running mean and variance). */
export function movingAverageInto(avg: Tensor, x: Tensor, momentum: number): void {
  needSame('movingAverage', x, avg, 'x', 'the average');
  needFinite('movingAverage', 'momentum', momentum);
  const [a, s] = [avg.data, x.data];
  for (let i = 0; i < a.length; i++) a[i] = momentum * a[i] + (1 - momentum) * s[i];
}

/** dst ← src, element by element; shapes must match, dtypes and backends may differ (restoring saved state). */
export function copyInto(src: Tensor, dst: Tensor): void {
  if (!sameShape(src.shape, dst.shape)) {
    throw new ShapeError(`copy: source has shape ${fmtShape(src.shape)} but the destination has shape ${fmtShape(dst.shape)}`);
  }
  const s = src.data;
  dst.data.set(s);
}

/**
 * mask ← 1 where a uniform draw in [0, 1) exceeds `ratio`, else 0: the book's Dropout mask
 * `np.random.rand(*x.shape) > dropout_ratio`, so each element is kept with probability 1 − ratio.
 */
export function randomMaskInto(mask: Tensor, ratio: number, rng: { next(): number }): void {
  if (!(ratio >= 0 && ratio < 1)) throw new RangeError(`randomMask: ratio must be in [0, 1), got ${ratio}`);
  const m = mask.data;
  for (let i = 0; i < m.length; i++) m[i] = rng.next() > ratio ? 1 : 0;
}

// ─── optimizer updates, in place on the parameter and the optimizer's slots ────────────────────

function needUpdate(op: string, W: Tensor, grad: Tensor, slots: [string, Tensor][]): void {
  needSame(op, W, grad, 'the parameter', 'its gradient');
  for (const [name, s] of slots) needSame(op, W, s, 'the parameter', name);
}

/** Momentum: v ← momentum · v − lr · g;  W ← W + v. */
export function momentumUpdateInto(W: Tensor, v: Tensor, grad: Tensor, lr: number, momentum: number): void {
  needUpdate('Momentum.update', W, grad, [['v', v]]);
  const [w, vv, g] = [W.data, v.data, grad.data];
  for (let i = 0; i < w.length; i++) {
    const vi = momentum * vv[i] - lr * g[i];
    vv[i] = vi;
    w[i] += vv[i];
  }
}

/**
 * Nesterov, in the book's order (common/optimizer.py): W moves by the *old* velocity first,
 * then the velocity is updated:  W ← W + momentum² · v;  W ← W − (1 + momentum) · lr · g;
 * v ← momentum · v − lr · g.
 */
export function nesterovUpdateInto(W: Tensor, v: Tensor, grad: Tensor, lr: number, momentum: number): void {
  needUpdate('Nesterov.update', W, grad, [['v', v]]);
  const [w, vv, g] = [W.data, v.data, grad.data];
  const mm = momentum * momentum;
  const step = (1 + momentum) * lr;
  for (let i = 0; i < w.length; i++) {
    w[i] += mm * vv[i]; //    params += momentum · momentum · v   (the old v)
    w[i] -= step * g[i]; //   params −= (1 + momentum) · lr · grads
    vv[i] *= momentum; //     v *= momentum
    vv[i] -= lr * g[i]; //    v −= lr · grads
  }
}

/** AdaGrad: h ← h + g²;  W ← W − lr · g / (√h + eps). */
export function adaGradUpdateInto(W: Tensor, h: Tensor, grad: Tensor, lr: number, eps: number): void {
  needUpdate('AdaGrad.update', W, grad, [['h', h]]);
  const [w, hh, g] = [W.data, h.data, grad.data];
  for (let i = 0; i < w.length; i++) {
    hh[i] += g[i] * g[i];
    w[i] -= (lr * g[i]) / (Math.sqrt(hh[i]) + eps);
  }
}

/** RMSprop: h ← decayRate · h + (1 − decayRate) · g²;  W ← W − lr · g / (√h + eps). */
export function rmspropUpdateInto(W: Tensor, h: Tensor, grad: Tensor, lr: number, decayRate: number, eps: number): void {
  needUpdate('RMSprop.update', W, grad, [['h', h]]);
  const [w, hh, g] = [W.data, h.data, grad.data];
  const keep = 1 - decayRate;
  for (let i = 0; i < w.length; i++) {
    let hi = hh[i] * decayRate;
    hi += keep * g[i] * g[i];
    hh[i] = hi;
    w[i] -= (lr * g[i]) / (Math.sqrt(hh[i]) + eps);
  }
}

/**
 * Adam with the bias correction folded into the step size lrT = lr·√(1−β2ᵗ)/(1−β1ᵗ) (computed
 * by the caller): m ← m + (1−β1)(g − m);  v ← v + (1−β2)(g² − v);  W ← W − lrT · m / (√v + eps).
 */
export function adamUpdateInto(W: Tensor, m: Tensor, v: Tensor, grad: Tensor, lrT: number, beta1: number, beta2: number, eps: number): void {
  needUpdate('Adam.update', W, grad, [['m', m], ['v', v]]);
  const [w, mm, vv, g] = [W.data, m.data, v.data, grad.data];
  const [k1, k2] = [1 - beta1, 1 - beta2];
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    mm[i] += k1 * (gi - mm[i]);
    vv[i] += k2 * (gi * gi - vv[i]);
    w[i] -= (lrT * mm[i]) / (Math.sqrt(vv[i]) + eps);
  }
}
