/**
 * The kernel interface: the only place where loops over tensor elements live.
 *
 * Layers call tensor operations (src/tensor/ops.ts); operations check shapes and call these
 * kernels. A backend implements every kernel for plain typed arrays, so a faster backend
 * (WebAssembly SIMD, threads) plugs in without touching a layer, and one kernel test suite
 * (test/kernels/) runs against every backend.
 *
 * Conventions: matrices are row-major and contiguous; `out` arguments are written, never
 * read unless the kernel says it accumulates; no kernel allocates unless it returns a value.
 * All array arguments of one call share one element type (all Float32Array or all Float64Array).
 */
export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;

/** Element storage owned by a backend: a WebAssembly backend keeps it inside its own memory. */
export interface Storage {
  /** A view of the elements; re-read it after any call that may grow the backend's memory. */
  readonly data: FloatArray;
  /** Number of elements. */
  readonly length: number;
  /** 'float32' or 'float64'. */
  readonly dtype: DType;
}

export interface Backend {
  /** Short name: 'js', 'wasm'. */
  readonly name: string;
  /** Threads its large kernels run on, the caller's included (the WebAssembly backend: 2 where possible); 1 when absent. */
  readonly threads?: number;
  /** Why it runs on one thread although more were asked for (no shared memory, a browser's main thread, ...), or null. */
  readonly singleThreadReason?: string | null;

  /** Zero-filled storage for `length` elements of `dtype`. */
  alloc(length: number, dtype: DType): Storage;

  /**
   * Storage whose elements are unspecified, for the output of a kernel that writes all of it
   * (a backend that reuses memory skips the zero fill); a backend without it uses `alloc`.
   */
  allocUninitialized?(length: number, dtype: DType): Storage;

  /**
   * C = op(A) · op(B), or C += op(A) · op(B) when `accumulate`.
   * op(A) is m×k: A is stored m×k, or k×m when `transA` (read through strides, no copy).
   * op(B) is k×n: B is stored k×n, or n×k when `transB`.
   */
  matmul(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void;

  /**
   * C = op(A) · op(B) as `matmul` (never accumulating), with the next kernels fused into the
   * product's output, in this order: C += bias (row vector, as addBias), C = max(0, C) (as relu),
   * C = mask > 0 ? C : 0 (as reluBackward, `mask` being a ReLU's output laid out as C). Each
   * step is the same arithmetic as its own kernel, so the result is bit-identical to the
   * unfused calls. Used by Affine (+ b), the inference path (+ b, ReLU) and the backward of
   * Affine2 into Relu1 (mask).
   */
  matmulFused(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, fused: FusedOutput,
  ): void;

  /**
   * A batch of products, as `matmul` on the slices X_i = x[i·strideX …] for i < batch (a stride
   * of 0: the same matrix for every i): C_i = op(A_i) · op(B_i), then C_i[r, j] += rowBias[r]
   * when rowBias is given (length m), then C_i = max(0, C_i) with `relu` (as relu). With strideC = 0 the products are summed in order into one
   * C (C += op(A_0)·op(B_0), then op(A_1)·op(B_1), … as accumulating matmul calls; C is first
   * zeroed unless `accumulate`). A convolution per image: out_n = W_col · col_nᵀ + b,
   * dW = Σ_n dout_n · col_n, dcol_n = dout_nᵀ · W_col.
   */
  matmulBatch(
    a: FloatArray, b: FloatArray, c: FloatArray, batch: number, strides: BatchStrides,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean, rowBias: FloatArray | null, relu: boolean,
  ): void;

  /** out[i, j] = x[i, j] + bias[j] for a rows×cols matrix. `out` may be `x`. */
  addBias(x: FloatArray, bias: FloatArray, out: FloatArray, rows: number, cols: number): void;

  /** out[j] = Σ_i x[i, j] (column sums of a rows×cols matrix: db = Σ dout). */
  sumColumns(x: FloatArray, out: FloatArray, rows: number, cols: number): void;

  /** out = max(0, x). `out` may be `x`. */
  relu(x: FloatArray, out: FloatArray): void;

  /** dx = dout where out > 0, else 0 (the book's mask is x <= 0, i.e. out <= 0). */
  reluBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void;

  /** out = 1 / (1 + exp(−x)). */
  sigmoid(x: FloatArray, out: FloatArray): void;

  /** dx = dout · out · (1 − out). */
  sigmoidBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void;

  /** Row-wise softmax of a rows×cols matrix, max subtracted first so exp never overflows. */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;

  /**
   * Mean cross-entropy of softmax output `y` against label indices:
   * −(1/rows) Σ_i log(y[i, t_i] + 1e-7), the book's guard against log(0).
   */
  crossEntropyLabels(y: FloatArray, labels: Int32Array, rows: number, cols: number): number;

  /** dx = (y − onehot(t)) · scale, with t as label indices (scale is 1 / batch). */
  softmaxLossBackward(
    y: FloatArray, labels: Int32Array, dx: FloatArray, rows: number, cols: number, scale: number,
  ): void;

  /**
   * softmax(x) into y, then the mean cross-entropy against label indices (returned), then
   * dx = (y − onehot(t)) · scale: SoftmaxWithLoss's forward and backward in one pass over the
   * rows, bit-identical to softmax, crossEntropyLabels and softmaxLossBackward in a row.
   */
  softmaxCrossEntropy(
    x: FloatArray, labels: Int32Array, y: FloatArray, dx: FloatArray, rows: number, cols: number, scale: number,
  ): number;

  /** out[i] = argmax_j x[i, j] (the first index on ties). */
  argmaxRows(x: FloatArray, out: Int32Array, rows: number, cols: number): void;

  /** out[i, :] = src[index[i], :] for rows of length cols. */
  gatherRows(src: FloatArray, index: Int32Array, out: FloatArray, cols: number): void;

  /**
   * gatherRows, possibly done on other threads while the caller goes on (the wasm backend's
   * idle workers); returns a function that waits until `out` holds the rows. Until it is called,
   * `out` must not be read or written, nor `src` written; `index` is read before this returns.
   * Optional: without it, gatherRows runs at once.
   */
  gatherRowsAhead?(src: FloatArray, index: Int32Array, out: FloatArray, cols: number): () => void;

  /** y += alpha · x (the SGD update W −= lr · dW is axpy(−lr, dW, W)). */
  axpy(alpha: number, x: FloatArray, y: FloatArray): void;

  /**
   * im2col: each window of a batch of images x (N, C, H, W) becomes one row of
   * col (N·outH·outW rows × C·FH·FW columns), rows ordered (n, oy, ox), columns (c, ky, kx):
   *   col[(n, oy, ox), (c, ky, kx)] = x[n, c, oy·stride + ky − pad, ox·stride + kx − pad],
   * 0 where the window covers the padding.
   */
  im2col(x: FloatArray, col: FloatArray, g: ConvGeometry): void;

  /**
   * im2col of each image transposed, col_nᵀ: colT (N × C·FH·FW × outH·outW), for image n rows
   * (c, ky, kx) and columns (oy, ox): colT[n, (c, ky, kx), (oy, ox)] = col[(n, oy, ox), (c, ky, kx)].
   * A convolution's forward is then W_col · col_nᵀ with op(B) = B (read where it lies).
   */
  im2colT(x: FloatArray, colT: FloatArray, g: ConvGeometry): void;

  /**
   * col2im, the adjoint of im2col: x is zeroed, then every col element is added back to the
   * pixel it was read from (overlapping windows accumulate; padding is dropped).
   */
  col2im(col: FloatArray, x: FloatArray, g: ConvGeometry): void;

  /**
   * out[b, j, i] = x[b, i, j]: swaps the last two axes of `batch` rows×cols matrices
   * (a convolution's (N, outH·outW, FN) product to (N, FN, outH·outW), and back for dout).
   */
  transposeBatch(x: FloatArray, out: FloatArray, batch: number, rows: number, cols: number): void;

  /**
   * Max pooling of x (N, C, H, W) into out (N, C, outH, outW). argMax[i] is the index in x of
   * out[i]'s maximum (the first in the window's row-major order on ties; a NaN wins), or −1
   * when it lies in the padding, whose cells count as 0 as in the book's im2col.
   */
  maxPoolForward(x: FloatArray, out: FloatArray, argMax: Int32Array, g: ConvGeometry): void;

  /**
   * dx is zeroed, then dx[argMax[i]] += dout[i] for every output i whose max is not padding
   * (argMax as maxPoolForward gives it: each index inside its own window); with
   * a `mask` (a ReLU's output laid out as dx: the pooling's own input), only where mask > 0, the
   * ReLU's backward fused in (bit-identical to reluBackward(dx, mask) afterwards).
   */
  maxPoolBackward(dout: FloatArray, argMax: Int32Array, dx: FloatArray, g: ConvGeometry, mask?: FloatArray | null): void;
}

/** Elements between the matrices of a `matmulBatch` (0: one matrix for all, or C summed). */
export interface BatchStrides {
  /** From A_i to A_(i+1); 0: one A for all. */
  readonly a: number;
  /** From B_i to B_(i+1); 0: one B for all. */
  readonly b: number;
  /** From C_i to C_(i+1); 0: one C, the sum. */
  readonly c: number;
}

/** What `matmulFused` applies to a product's output (see there); every field optional. */
export interface FusedOutput {
  /** Added to every row (length n). */
  readonly bias?: FloatArray | null;
  /** Then max(0, ·). */
  readonly relu?: boolean;
  /** Then zero where mask ≤ 0 or NaN (m×n, a ReLU's forward output). */
  readonly mask?: FloatArray | null;
  /**
   * A hint: A has many zero elements (images: half of Fashion-MNIST's pixels, 80% of MNIST's).
   * A backend may then skip them, with the same result (for a finite B, a zero of A adds ±0 to
   * a sum; the js reference's product always skips them).
   */
  readonly sparseA?: boolean;
}

/**
 * Where the windows of a convolution or pooling lie: input (N, C, H, W) = (batch, channels,
 * height, width), windows filterH×filterW moved by `stride` over the input padded by `pad`,
 * giving outH = ⌊(H + 2·pad − filterH) / stride⌋ + 1 rows and outW columns of windows (the book's
 * `//`: a last window that would run past the padded input is dropped).
 */
export interface ConvGeometry {
  /** N, images in the batch. */
  readonly batch: number;
  /** C, channels per image. */
  readonly channels: number;
  /** H, input rows. */
  readonly height: number;
  /** W, input columns. */
  readonly width: number;
  /** Window height. */
  readonly filterH: number;
  /** Window width. */
  readonly filterW: number;
  /** Step between windows. */
  readonly stride: number;
  /** Zero padding on each side. */
  readonly pad: number;
  /** Windows down: (H + 2·pad − filterH) / stride + 1. */
  readonly outH: number;
  /** Windows across: (W + 2·pad − filterW) / stride + 1. */
  readonly outW: number;
}
