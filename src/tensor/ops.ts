/**
 * The operations layers call. Each checks shapes (naming the operation and both shapes),
 * then runs one kernel of the tensor's backend. An operation writes into `out` when given
 * one of the right shape (the allocation-free path of training loops), else allocates.
 */
import { Tensor } from './Tensor.js';
import { ShapeError, fmtShape } from './ShapeError.js';

/** `out` if it already has this shape, dtype and backend, else a new zero tensor like `ref`. */
export function reuse(out: Tensor | null | undefined, shape: readonly number[], ref: Tensor): Tensor {
  if (out && out.dtype === ref.dtype && out.backend === ref.backend && sameShape(out.shape, shape)) return out;
  return Tensor.zeros(shape, { dtype: ref.dtype, backend: ref.backend });
}

/** As `reuse`, but a new tensor's elements are unspecified: for outputs the kernel writes in full. */
export function reuseOutput(out: Tensor | null | undefined, shape: readonly number[], ref: Tensor): Tensor {
  if (out && out.dtype === ref.dtype && out.backend === ref.backend && sameShape(out.shape, shape)) return out;
  return Tensor.empty(shape, { dtype: ref.dtype, backend: ref.backend });
}

/** Whether two shapes are equal, dimension by dimension. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; // a plain loop: every() with a closure was 2% of a step's JavaScript
  return true;
}

function checkDtypes(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== ts[0].dtype) throw new ShapeError(`${op}: mixed dtypes ${ts.map((u) => u.dtype).join(' and ')}`);
  }
}

function need2d(op: string, name: string, t: Tensor): void {
  if (t.ndim !== 2) throw new ShapeError(`${op}: ${name} must be 2-D, got shape ${fmtShape(t.shape)}`);
}

function needShape(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (!sameShape(t.shape, shape)) {
    throw new ShapeError(`${op}: ${name} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`);
  }
}

/** [m, k, n] of op(A) · op(B) (op(A) m×k, op(B) k×n), after checking both are 2-D, of one dtype, and fit. */
function productShape(op: string, a: Tensor, b: Tensor, transA: boolean, transB: boolean): [number, number, number] {
  need2d(op, 'A', a);
  need2d(op, 'B', b);
  checkDtypes(op, a, b);
  const m = a.shape[transA ? 1 : 0], k = a.shape[transA ? 0 : 1];
  const k2 = b.shape[transB ? 1 : 0], n = b.shape[transB ? 0 : 1];
  if (k !== k2) {
    throw new ShapeError(
      `${op}: inner dimensions differ: op(A) is ${m}×${k}, op(B) is ${k2}×${n} ` +
        `(A shape ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''}, B shape ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''})`,
    );
  }
  return [m, k, n];
}

/** Transposes and an output buffer for matmul. */
export interface MatmulOptions {
  /** Use Aᵀ: A is stored k×m. */
  transA?: boolean;
  /** Use Bᵀ: B is stored n×k. */
  transB?: boolean;
  /** Write here (must be m×n). */
  out?: Tensor | null;
  /** Add the product to `out` instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * Matrix product op(A) · op(B), with optional transposes read through strides (no copies).
 * @example matmul(x, W)                    // x · W
 * @example matmul(x, dout, { transA: true }) // dW = xᵀ · dout
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false } = options;
  const [m, k, n] = productShape('matmul', a, b, transA, transB);
  let out: Tensor;
  if (options.accumulate) {
    if (!options.out) throw new ShapeError('matmul: accumulate needs an out tensor');
    needShape('matmul', 'out', options.out, [m, n]);
    out = options.out;
  } else {
    out = reuseOutput(options.out, [m, n], a); // every element written, or zeroed when k = 0
  }
  checkDtypes('matmul', a, out);
  a.backend.matmul(a.data, b.data, out.data, m, k, n, transA, transB, options.accumulate ?? false);
  return out;
}

/** Transposes, the output buffer, and what is fused into the product's output (bias, ReLU, a ReLU mask). */
export interface MatmulFusedOptions {
  /** Use Aᵀ: A is stored k×m. */
  transA?: boolean;
  /** Use Bᵀ: B is stored n×k. */
  transB?: boolean;
  /** Write here (must be m×n). */
  out?: Tensor | null;
  /** Then add this row (n elements) to every row: x · W + b. */
  bias?: Tensor | null;
  /** Then max(0, ·): an Affine followed by a Relu. */
  relu?: boolean;
  /** Then zero where mask ≤ 0 (m×n, a Relu's forward output): the product of a backward, into Relu.backward. */
  mask?: Tensor | null;
  /** A has many zeros (images): the backend may skip them, with the same result (see FusedOutput.sparseA). */
  sparseA?: boolean;
}

/**
 * op(A) · op(B) with the next steps done as the product is stored, in one pass over the output:
 * + bias, then ReLU, then the ReLU's mask. Bit-identical to matmul, addBias, relu,
 * reluBackward called one after another (each step is the same arithmetic), without their
 * three extra passes over the output.
 * @example matmulFused(x, W1, { bias: b1, relu: true })   // relu(x · W1 + b1)
 * @example matmulFused(dout, W2, { transB: true, mask: h }) // Relu.backward(dout · W2ᵀ)
 */
export function matmulFused(a: Tensor, b: Tensor, options: MatmulFusedOptions = {}): Tensor {
  const { transA = false, transB = false, bias = null, relu = false, mask = null, sparseA = false } = options;
  const [m, k, n] = productShape('matmulFused', a, b, transA, transB);
  if (bias) {
    if (bias.size !== n) throw new ShapeError(`matmulFused: bias has ${bias.size} elements but the product has ${n} columns (bias shape ${fmtShape(bias.shape)})`);
    checkDtypes('matmulFused', a, bias);
  }
  if (mask) {
    needShape('matmulFused', 'mask', mask, [m, n]);
    checkDtypes('matmulFused', a, mask);
  }
  const out = reuseOutput(options.out, [m, n], a);
  a.backend.matmulFused(a.data, b.data, out.data, m, k, n, transA, transB, { bias: bias?.data ?? null, relu, mask: mask?.data ?? null, sparseA });
  return out;
}

/** Transposes, the output, the row bias and summing for matmulBatch. */
export interface MatmulBatchOptions {
  /** Use A_iᵀ: each A_i is stored k×m. */
  transA?: boolean;
  /** Use B_iᵀ: each B_i is stored n×k. */
  transB?: boolean;
  /** Write here: (batch, m, n), or (m, n) with `sum`. */
  out?: Tensor | null;
  /** Then add rowBias[r] to row r of every C_i (m elements; not with `sum`). */
  rowBias?: Tensor | null;
  /** Then max(0, ·) (not with `sum`): a convolution followed by a Relu. */
  relu?: boolean;
  /** C = Σ_i op(A_i) · op(B_i), (m, n). */
  sum?: boolean;
  /** With `sum`: add the sum to `out` instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * A product per matrix of a batch: C_i = op(A_i) · op(B_i) for A (batch, ·, ·) and B (batch, ·, ·);
 * a 2-D A or B is the same matrix for every i. Bit-identical to a loop of matmul calls (summed
 * in that order with `sum`), then the row bias as its own addition, then relu.
 * @example matmulBatch(Wcol, col3, { transB: true, rowBias: b }) // out_n = W_col · col_nᵀ + b
 * @example matmulBatch(dout3, col3, { sum: true })               // dW = Σ_n dout_n · col_n
 */
export function matmulBatch(a: Tensor, b: Tensor, options: MatmulBatchOptions = {}): Tensor {
  const { transA = false, transB = false, rowBias = null, relu = false, sum = false } = options;
  const op = 'matmulBatch';
  for (const [name, t] of [['A', a], ['B', b]] as const) {
    if (t.ndim !== 2 && t.ndim !== 3) throw new ShapeError(`${op}: ${name} must be 2-D or 3-D (batch, rows, cols), got shape ${fmtShape(t.shape)}`);
  }
  checkDtypes(op, a, b);
  if (a.ndim === 2 && b.ndim === 2) throw new ShapeError(`${op}: A or B must be 3-D (batch, rows, cols), got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  if (a.ndim === 3 && b.ndim === 3 && a.shape[0] !== b.shape[0]) {
    throw new ShapeError(`${op}: batches differ: A has shape ${fmtShape(a.shape)}, B ${fmtShape(b.shape)}`);
  }
  const batch = a.ndim === 3 ? a.shape[0] : b.shape[0];
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = transA ? [a1, a0] : [a0, a1];
  const [k2, n] = transB ? [b1, b0] : [b0, b1];
  if (k !== k2) {
    throw new ShapeError(`${op}: inner dimensions differ: op(A_i) is ${m}×${k}, op(B_i) is ${k2}×${n} (A shape ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''}, B shape ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''})`);
  }
  if (rowBias) {
    if (sum) throw new ShapeError(`${op}: rowBias is not applied to a sum`);
    if (rowBias.size !== m) throw new ShapeError(`${op}: rowBias has ${rowBias.size} elements but the products have ${m} rows (rowBias shape ${fmtShape(rowBias.shape)})`);
    checkDtypes(op, a, rowBias);
  }
  if (relu && sum) throw new ShapeError(`${op}: relu is not applied to a sum`);
  if (options.accumulate && !sum) throw new ShapeError(`${op}: accumulate is only for sum`);
  const shape = sum ? [m, n] : [batch, m, n];
  let out: Tensor;
  if (options.accumulate) {
    if (!options.out) throw new ShapeError(`${op}: accumulate needs an out tensor`);
    needShape(op, 'out', options.out, shape);
    out = options.out;
  } else {
    out = reuseOutput(options.out, shape, a);
  }
  checkDtypes(op, a, out);
  const strides = { a: a.ndim === 3 ? m * k : 0, b: b.ndim === 3 ? k * n : 0, c: sum ? 0 : m * n };
  a.backend.matmulBatch(a.data, b.data, out.data, batch, strides, m, k, n, transA, transB, options.accumulate ?? false, rowBias?.data ?? null, relu);
  return out;
}

/** x + b, with the bias row b (length cols) added to every row of x. */
export function addBias(x: Tensor, b: Tensor, out?: Tensor | null): Tensor {
  need2d('addBias', 'x', x);
  if (b.size !== x.shape[1]) {
    throw new ShapeError(`addBias: bias has ${b.size} elements but x has ${x.shape[1]} columns (x shape ${fmtShape(x.shape)}, b shape ${fmtShape(b.shape)})`);
  }
  checkDtypes('addBias', x, b);
  const o = reuse(out, x.shape, x);
  x.backend.addBias(x.data, b.data, o.data, x.shape[0], x.shape[1]);
  return o;
}

/** Column sums of a 2-D tensor (db = Σ_rows dout), as a 1-D tensor. */
export function sumColumns(x: Tensor, out?: Tensor | null): Tensor {
  need2d('sumColumns', 'x', x);
  const o = reuse(out, [x.shape[1]], x);
  x.backend.sumColumns(x.data, o.data, x.shape[0], x.shape[1]);
  return o;
}

/** max(0, x), element-wise. */
export function relu(x: Tensor, out?: Tensor | null): Tensor {
  const o = reuse(out, x.shape, x);
  x.backend.relu(x.data, o.data);
  return o;
}

/** dx = dout where the forward output was > 0, else 0. */
export function reluBackward(dout: Tensor, out: Tensor, dx?: Tensor | null): Tensor {
  needShape('Relu.backward', 'dout', dout, out.shape);
  checkDtypes('Relu.backward', dout, out);
  const d = reuse(dx, out.shape, out);
  out.backend.reluBackward(dout.data, out.data, d.data);
  return d;
}

/** 1 / (1 + exp(−x)), element-wise. */
export function sigmoid(x: Tensor, out?: Tensor | null): Tensor {
  const o = reuse(out, x.shape, x);
  x.backend.sigmoid(x.data, o.data);
  return o;
}

/** dx = dout · y · (1 − y), with y the forward output. */
export function sigmoidBackward(dout: Tensor, out: Tensor, dx?: Tensor | null): Tensor {
  needShape('Sigmoid.backward', 'dout', dout, out.shape);
  checkDtypes('Sigmoid.backward', dout, out);
  const d = reuse(dx, out.shape, out);
  out.backend.sigmoidBackward(dout.data, out.data, d.data);
  return d;
}

/** Row-wise softmax of a 2-D tensor, or of a 1-D tensor as a single row. */
export function softmaxRows(x: Tensor, out?: Tensor | null): Tensor {
  if (x.ndim !== 1 && x.ndim !== 2) throw new ShapeError(`softmax: expected 1-D or 2-D input, got ${fmtShape(x.shape)}`);
  const [rows, cols] = x.ndim === 2 ? x.shape : [1, x.shape[0]];
  const o = reuse(out, x.shape, x);
  x.backend.softmax(x.data, o.data, rows, cols);
  return o;
}

/** Mean over rows of −log(y[i, t_i] + 1e-7). */
export function crossEntropyLabels(y: Tensor, labels: Int32Array): number {
  need2d('crossEntropyError', 'y', y);
  return y.backend.crossEntropyLabels(y.data, labels, y.shape[0], y.shape[1]);
}

/** dx = (y − onehot(t)) · scale. */
export function softmaxLossBackward(y: Tensor, labels: Int32Array, scale: number, dx?: Tensor | null): Tensor {
  need2d('SoftmaxWithLoss.backward', 'y', y);
  const d = reuse(dx, y.shape, y);
  y.backend.softmaxLossBackward(y.data, labels, d.data, y.shape[0], y.shape[1], scale);
  return d;
}

/**
 * softmaxRows, crossEntropyLabels and softmaxLossBackward in one pass over the rows of the
 * scores x (2-D): y = softmax(x), the mean loss, and dx = (y − onehot(t)) · scale. Bit-identical
 * to the three operations in a row.
 */
export function softmaxCrossEntropy(
  x: Tensor, labels: Int32Array, scale: number, y?: Tensor | null, dx?: Tensor | null,
): {
  /** The mean cross-entropy error over the rows (the book's 1e-7 guard inside the log). */
  loss: number;
  /** softmax(x), row by row. */
  y: Tensor;
  /** (y − t) · scale: the gradient of the loss with scale = 1/N. */
  dx: Tensor;
} {
  need2d('softmaxCrossEntropy', 'x', x);
  const [rows, cols] = x.shape;
  const yOut = reuseOutput(y, x.shape, x);
  const dxOut = reuseOutput(dx, x.shape, x);
  const loss = x.backend.softmaxCrossEntropy(x.data, labels, yOut.data, dxOut.data, rows, cols, scale);
  return { loss, y: yOut, dx: dxOut };
}

/** The index of the largest element of each row. */
export function argmaxRows(x: Tensor, out?: Int32Array): Int32Array {
  const [rows, cols] = x.ndim === 2 ? x.shape : [1, x.size];
  const o = out && out.length === rows ? out : new Int32Array(rows);
  x.backend.argmaxRows(x.data, o, rows, cols);
  return o;
}

/** Rows of `src` picked by `index` (a mini-batch from a data set). */
export function gatherRows(src: Tensor, index: Int32Array, out?: Tensor | null): Tensor {
  const o = gatherOutput('gatherRows', src, index, out);
  src.backend.gatherRows(src.data, index, o.data, rowLength(src));
  return o;
}

/** Rows being gathered (see gatherRowsAhead). */
export interface PendingRows {
  /** Waits until the rows are in place (at once when they already are); returns their tensor. */
  wait(): Tensor;
}

/**
 * gatherRows started now and finished by `wait()`: on the wasm backend with threads, its idle
 * workers copy the rows between and during the caller's products, so the next mini-batch is
 * gathered while the current one trains; elsewhere the rows are copied at once. Until `wait()`,
 * don't read or write `out` or write `src`; `index` may be reused as soon as this returns. The
 * rows are the same as gatherRows's, bit for bit. One at a time per backend: a second call
 * first waits for the first.
 *
 * @example
 * let next = gatherRowsAhead(xTrain, firstIndex, bufferA);
 * for (let i = 0; i < iters; i++) {
 *   const xBatch = next.wait();
 *   if (i + 1 < iters) next = gatherRowsAhead(xTrain, indexOf(i + 1), i % 2 ? bufferA : bufferB);
 *   net.gradient(xBatch, tBatch); // ...
 * }
 */
export function gatherRowsAhead(src: Tensor, index: Int32Array, out?: Tensor | null): PendingRows {
  const o = gatherOutput('gatherRowsAhead', src, index, out);
  const backend = src.backend;
  if (!backend.gatherRowsAhead) {
    backend.gatherRows(src.data, index, o.data, rowLength(src));
    return { wait: () => o };
  }
  const done = backend.gatherRowsAhead(src.data, index, o.data, rowLength(src));
  return {
    wait: () => {
      done();
      return o;
    },
  };
}

/** The checked index's output tensor of a gather: `out` when it has the shape, else a new one. */
function gatherOutput(op: string, src: Tensor, index: Int32Array, out?: Tensor | null): Tensor {
  const rows = src.shape[0];
  for (let i = 0; i < index.length; i++) {
    if (!(index[i] >= 0 && index[i] < rows)) {
      throw new RangeError(`${op}: index ${index[i]} at position ${i} is outside 0..${rows - 1}`);
    }
  }
  return reuseOutput(out, [index.length, ...src.shape.slice(1)], src);
}

/** Elements per row of `src` (0 for no rows). */
function rowLength(src: Tensor): number {
  return src.shape[0] === 0 ? 0 : src.size / src.shape[0];
}

/** y += alpha · x, in place on y. */
export function axpyInto(alpha: number, x: Tensor, y: Tensor): void {
  needShape('axpy', 'x', x, y.shape);
  checkDtypes('axpy', x, y);
  y.backend.axpy(alpha, x.data, y.data);
}

/** A new tensor with fn applied to each element (for tests and small jobs, not hot loops). */
export function map(x: Tensor, fn: (v: number, i: number) => number): Tensor {
  const o = Tensor.zeros(x.shape, { dtype: x.dtype, backend: x.backend });
  const src = x.data;
  const dst = o.data;
  for (let i = 0; i < src.length; i++) dst[i] = fn(src[i], i);
  return o;
}
