/**
 * The WebAssembly SIMD backend: kernels compiled from assembly/kernels.ts, storage inside the
 * module's linear memory, and extra threads for large matrix products (and for the window,
 * element-wise and gather kernels on large arrays: see windowJob). The matrix product runs
 * in wasm for float32 and float64; the other kernels (element-wise, rows, and the window kernels
 * of convolution and pooling) run in wasm for float32, and their float64 forms (gradient checks,
 * exact book reproductions: small and rare) in the reference TypeScript.
 */
import type { Backend, BatchStrides, ConvGeometry, DType, FloatArray, FusedOutput, Storage } from '../Backend.js';
import { JsBackend } from '../reference/JsBackend.js';
import { type Collector, Heap } from './Heap.js';
import { ThreadPool, type MatmulKernels } from './threads.js';

/** The exports of kernels.wasm; pointers are byte offsets into the memory. */
export interface KernelExports extends MatmulKernels {
  heapBase(): number;
  /** Columns of a packed float32 panel of B: 8, or 12 in the relaxed-SIMD build (its 3×12 micro-kernel). */
  panelFloats(): number;
  addBias(x: number, bias: number, out: number, rows: number, cols: number): void;
  sumColumns(x: number, out: number, rows: number, cols: number): void;
  relu(x: number, out: number, n: number): void;
  reluBackward(dout: number, out: number, dx: number, n: number): void;
  sigmoid(x: number, out: number, n: number): void;
  sigmoidBackward(dout: number, out: number, dx: number, n: number): void;
  softmax(x: number, out: number, rows: number, cols: number): void;
  crossEntropyLabels(y: number, labels: number, rows: number, cols: number): number;
  softmaxLossBackward(y: number, labels: number, dx: number, rows: number, cols: number, scale: number): void;
  argmaxRows(x: number, out: number, rows: number, cols: number): void;
  softmaxCrossEntropy(x: number, labels: number, y: number, dx: number, rows: number, cols: number, scale: number): number;
  axpy(alpha: number, x: number, y: number, n: number): void;
  im2col(x: number, col: number, ...geometry: GeometryArgs): void;
  im2colT(x: number, colT: number, ...geometry: GeometryArgs): void;
  col2im(col: number, x: number, ...geometry: GeometryArgs): void;
  transposeBatch(x: number, out: number, batch: number, rows: number, cols: number): void;
  maxPoolForward(x: number, out: number, argMax: number, ...geometry: GeometryArgs): void;
  maxPoolBackward(dout: number, argMax: number, dx: number, mask: number, ...geometry: GeometryArgs): void;
  gatherRows(src: number, index: number, out: number, count: number, cols: number): void;
  sparseWorkBytes(k: number, n: number, lists: number): number;
  sparsePreparedBytes(k: number, n: number): number;
  sparsePrepare(b: number, k: number, n: number, work: number): number;
  sparseRows(a: number, lda: number, c: number, k: number, n: number, bias: number, relu: number, work: number, i0: number, i1: number, list: number): void;
  sparseShare(a: number, m: number, k: number, samples: number, sorted: number): number;
  sparseOrder(a: number, lda: number, k: number, i0: number, i1: number, order: number): void;
  sparseListBytes(k: number): number;
  sparseTransWorkBytes(k: number, lists: number): number;
  sparseTransPrepare(b: number, k: number, n: number, work: number): number;
  sparseTransShare(a: number, m: number, k: number, samples: number): number;
  sparseTransRows(a: number, m: number, k: number, b: number, n: number, c: number, work: number, i0: number, i1: number, list: number): void;
}

/** A ConvGeometry as the kernels take it: batch, channels, height, width, filterH, filterW, stride, pad, outH, outW. */
type GeometryArgs = [number, number, number, number, number, number, number, number, number, number];
/** The window kernels (WasmBackend.windows) and the names of their two arrays, source then destination. */
type WindowOp = 'im2col' | 'im2colT' | 'col2im';
const WINDOW_ARRAYS: Record<WindowOp, readonly [string, string]> = { im2col: ['x', 'col'], im2colT: ['x', 'colT'], col2im: ['col', 'x'] };

// Job block of a matrix product: i32 fields, as JOB_* in assembly/kernels.ts.
const JOB_A = 0, JOB_B = 1, JOB_C = 2, JOB_M = 3, JOB_K = 4, JOB_N = 5, JOB_FLAGS = 6, JOB_PACKED = 7;
const JOB_KC = 8, JOB_MC = 9, JOB_PACK_CHUNKS = 10, JOB_ROW_CHUNKS = 11, JOB_PANEL_CHUNKS = 12;
// The fused output of a product: pointers and flags, as JOB_BIAS, JOB_MASK, BIAS, RELU, MASK in assembly/kernels.ts.
const JOB_BIAS = 13, JOB_MASK = 14, FUSE_BIAS = 32, FUSE_RELU = 64, FUSE_MASK = 128;
/** Flag of a one-chunk product deeper than KC: B packed block by block as computed (PACK_BY_BLOCK in assembly/kernels.ts). */
const PACK_BY_BLOCK = 256;
/** Flag of a product whose tiles read B where it lies (DIRECT_B in assembly/kernels.ts). */
const DIRECT_B = 512;
/**
 * The most rows of C for which B is read where it lies rather than packed: each packed element
 * would serve at most this many rows. Measured on the 2-core test machine (AMD EPYC, relaxed
 * build, alternating in one process), packed → direct: (57600×30)ᵀ·(57600×25), the book's conv
 * dW, 46.5 → 52.4 GFLOPS on 1 thread, 61.0 → 72.8 on 2; SimpleConvNet's dW
 * (100 products 30×576·576×25, summed) 48.5 → 50.5 and 86.0 → 90.9; (m×784)·(784×50) for
 * m = 16, 32, 64: 3–10% faster on 1 and 2 threads; m = 100: 1% faster on 1 thread, 3% slower on 2.
 */
const DIRECT_B_ROWS = 64;
// Window jobs (flag WINDOW): kernel, pointers, geometry, chunks, as JOB_WIN_* in assembly/kernels.ts.
const WINDOW = 16, JOB_WIN_KERNEL = 16, JOB_WIN_P0 = 17, JOB_WIN_G = 20, JOB_WIN_CHUNKS = 30;
const WIN_IM2COL = 0, WIN_COL2IM = 1, WIN_TRANSPOSE = 2, WIN_MAXPOOL = 3, WIN_RELU = 4, WIN_RELU_BACKWARD = 5, WIN_ADD_BIAS = 6, WIN_GATHER = 7, WIN_SKIP_ZEROS = 8, WIN_MATMUL_BATCH = 9, WIN_MAXPOOL_BACKWARD = 10, WIN_SUM_COLUMNS = 11, WIN_SKIP_ZEROS_T = 12, WIN_IM2COL_T = 13, JOB_WIN_P3 = 31, JOB_WIN_STRAY = 15;
/** Columns per unit of sumColumns' window job: SUM_BLOCK in assembly/kernels.ts. */
const SUM_BLOCK = 1024;
/** Elements per unit of an element-wise window job: ELEMENT_BLOCK in assembly/kernels.ts. */
const ELEMENT_BLOCK = 4096;
const JOB_BYTES = 128;
/** Scratch of the micro-kernel's edge tiles: 4 rows × 32 bytes per thread. */
export const TMP_BYTES_PER_THREAD = 128;

/**
 * Depth of a k block and rows of an i block of the blocked product. Measured on the 2-core
 * test machine: blocking k below 1024 never helped (a 1024×8 panel slice is 32 KiB, in L1).
 */
const KC = 1024;
const MC = 128;
/**
 * Packed B of at least this many bytes (beyond L2) is worth reading fewer times: see fewerPasses.
 */
const SMALL_PACKED_BYTES = 1 << 20;
/** With threads, chunks per thread: enough to even out a late or slower thread. */
const CHUNKS_PER_THREAD = 4;
/**
 * The product with A's zeros skipped (assembly/sparse.ts; B packed once, then pairs of rows alike
 * on the threads the blocked product would get) multiplies the p where one of a tile's
 * SPARSE_TILE_ROWS rows of A is non-zero; it runs where that share of the p, as sampledShare
 * estimates it, is below SPARSE_SPEED. Measured on the 2-core test machine (AMD EPYC, relaxed-SIMD
 * build, 1 thread, 15 × (4000×784)·(784×50) with bias and ReLU, against the blocked product, in
 * one process): MNIST digits (estimated share 0.24) 0.55 of its time, Fashion-MNIST (0.58) 0.82;
 * about 0.37 + 0.79·share, even at ~0.8. (Before rows were paired by likeness, at the shares of
 * rows next to each other: 0.48 at 0.29, 0.89 at 0.66.)
 */
const SPARSE_SPEED = 0.75;
/**
 * Less for few rows: the share must be below SPARSE_SPEED − SPARSE_FIXED · threads / m, since
 * preparing B (a pass over it, and the sampling) weighs on a short product, more so when its
 * rows are shared out.
 * A training batch of 100 rows ((100×784)·(784×50) + bias + ReLU, against the blocked product,
 * in one process, 64 batches drawn at random): digits (share 0.24) 0.56 of its time on 1 thread,
 * 0.71 on 2; Fashion-MNIST (0.58 sorted) 0.80 on 1 thread, and on 2 about even, where its 8
 * chunks of 12–13 rows are too few to sort (SPARSE_ORDER_MIN: at 0.66 its share is the
 * neighbours'): the limits 0.65 / 0.55 take it on 1 thread only.
 */
const SPARSE_FIXED = 10;
/**
 * SPARSE_SPEED of the transposed product (skipZerosTransposed: groups of 3 rows of C, i.e. 3
 * adjacent pixels of each image). Measured as above on dW1 = xᵀ · dout (784×100×50, 1 thread):
 * digits (share 0.25) 0.56 of the blocked product's time, Fashion-MNIST (0.59) 1.03.
 */
const SPARSE_T_SPEED = 0.55;
/** Rows of A per tile of the zero-skipping product (assembly/sparse.ts). */
const SPARSE_TILE_ROWS = 2;
/** The fewest rows of a range (a call of sparseRows: one chunk) whose pairs it sorts, rows alike together (ORDER_MIN in assembly/sparse.ts). */
const SPARSE_ORDER_MIN = 64;
/** Rows of C per tile of the transposed one (TRANS_ROWS in assembly/sparse.ts). */
const SPARSE_T_ROWS = 3;
/** Groups of rows of C sampled by sampledShare (evenly spaced). */
const DENSITY_TILES = 16;
/**
 * With threads, a product whose packed B is small (below SMALL_PACKED_BYTES, so each compute
 * chunk reads it from cache) gets row chunks of about this many FLOPs, up to
 * MAX_CHUNKS_PER_THREAD per thread: the threads then finish within a few µs of each other.
 * (100×784)·(784×50) gets 25 row chunks of one 4-row tile (~6 µs each) instead of 8 of 3–4.
 */
const CHUNK_FLOPS = 2e5;
const MAX_CHUNKS_PER_THREAD = 16;
/*
 * BY_PANELS: with threads, a float32 product with A and packed B both in L2 and no more panels
 * than chunks (n ≤ 96 in the relaxed build: the MNIST step's x·W1 and xᵀ·dout) is cut into a
 * chunk per panel × ⌈chunks/panels⌉ parts of the rows (2 × 5 for those two on 2 threads) rather
 * than into row chunks over all panels (8 of x·W1, 32 of xᵀ·dout): measured on the 2-core test
 * machine, in alternating runs in one process, the training step on 2 threads 198.8 → 189.5 µs
 * (relaxed build), 195.7 → 185.9 (plain); (100×784)·(784×50) alone 89 → 83 µs.
 */

/** Rows per chunk of gatherRowsAhead's side job, and at most this many chunks (ThreadPool.side takes fewer than 0xffff). */
const SIDE_CHUNK_ROWS = 4;
const MAX_SIDE_CHUNKS = 4096;
/** What gatherRowsAhead returns when it copied the rows at once. */
const noWait = (): void => {};

/** A plain product's (empty) fused output. */
const NOTHING_FUSED: FusedOutput = {};

/** How a kernel uses an array argument: read, written (fully), or both. */
const IN = 0, OUT = 1, INOUT = 2;
type Arg = Float32Array | Float64Array | Int32Array;

/** A property of every view handed out, pointing at its storage, so a live view keeps its block alive. */
const OWNER = Symbol('wasm storage');

/** Storage inside the WebAssembly memory; freed when garbage-collected. */
class WasmStorage implements Storage {
  private view: FloatArray | null = null;
  private generation = -1;
  /** Set by WasmBackend.free: the block may already hold other data. */
  private freed = false;

  constructor(private readonly heap: Heap, readonly ptr: number, readonly length: number, readonly dtype: DType) {}

  /** A view of the elements, re-created when the memory has grown since the last one. */
  get data(): FloatArray {
    if (this.generation !== this.heap.generation || this.view === null) {
      if (this.freed) throw new Error('wasm backend: this storage was freed (WasmBackend.free)');
      const buffer = this.heap.buffer as ArrayBuffer;
      this.view = this.dtype === 'float64' ? new Float64Array(buffer, this.ptr, this.length) : new Float32Array(buffer, this.ptr, this.length);
      Object.defineProperty(this.view, OWNER, { value: this });
      this.generation = this.heap.generation;
    }
    return this.view;
  }

  /** Marks the storage freed; returns false if it already was. */
  markFreed(): boolean {
    if (this.freed) return false;
    this.freed = true;
    this.view = null;
    return true;
  }
}

/** Tunables of a WasmBackend. */
export interface WasmBackendConfig {
  /** Registry name. */
  name: string;
  /** Products of at least this many FLOPs (2·m·k·n) use the thread pool. */
  threadThreshold: number;
  /** TMP_BYTES_PER_THREAD bytes per thread, the caller's thread first. */
  tmp: number;
  /** Why the backend runs on one thread although more were asked for (none: null or omitted). */
  singleThreadReason?: string | null;
  /** Finds dropped storage inside synchronous loops (Heap.reclaim); null or omitted: only after tasks. */
  collector?: Collector | null;
  /** Which build of the kernels runs: plain SIMD (default) or relaxed SIMD's fused multiply-add. */
  simd?: 'plain' | 'relaxed';
}

/**
 * The WebAssembly SIMD backend. Create it with `createWasmBackend()` (src/kernels/wasm/index.ts in Node,
 * src/kernels/wasm/browser.ts in browsers).
 *
 * Kernels take any typed arrays: an array inside this backend's memory is passed in place
 * (zero copy); any other array is copied into a scratch area of the memory and, if written,
 * copied back, so plain arrays work too, only slower.
 */
export class WasmBackend implements Backend {
  readonly name: string;
  /** Float64 kernels, and the calls the wasm kernels leave to the reference (gathers outside this memory, odd geometries). */
  private readonly js = new JsBackend();
  private readonly registry: FinalizationRegistry<number>;
  private readonly job: number;
  private readonly tmp: number;
  private jobView: Int32Array;
  /** The job block of gatherRowsAhead's side job, and the block its index is copied into (0: none yet). */
  private sideJob = 0;
  private sideIndexPtr = 0;
  private sideIndexBytes = 0;
  /** The gatherRowsAhead in flight: its arrays (kept alive until it is done) and pointers. */
  private side: { src: FloatArray; out: FloatArray; p: number[]; count: number; cols: number } | null = null;
  private scratchPtr = 0;
  private scratchBytes = 0;
  private readonly threadThreshold: number;
  /** Columns of a packed float32 panel in this build of the kernels. */
  private readonly panelFloats: number;
  /** @internal Products whose tiles read B where it lies (DIRECT_B), counted for tests. */
  directProducts = 0;
  /** @internal Products run with A's zeros skipped (skipZeros), counted for tests. */
  sparseProducts = 0;
  /** Why the backend started on one thread although more were asked for (no shared memory, a browser's main thread, ...), or null. */
  readonly singleThreadReason: string | null;
  /** The build of the kernels in use: 'plain' SIMD or 'relaxed' SIMD (relaxed_madd in the products' micro-kernels). */
  readonly simd: 'plain' | 'relaxed';

  /** @internal Use createWasmBackend(). */
  constructor(
    /** The module's exports. */
    readonly kernels: KernelExports,
    /** The allocator over the module's memory (exposed for tests). */
    readonly heap: Heap,
    /** Workers for large products, or null for one thread (exposed for tests). */
    readonly pool: ThreadPool | null,
    config: WasmBackendConfig,
  ) {
    this.name = config.name;
    this.threadThreshold = config.threadThreshold;
    this.singleThreadReason = config.singleThreadReason ?? null;
    this.simd = config.simd ?? 'plain';
    this.panelFloats = kernels.panelFloats();
    const collector = config.collector ?? null;
    const registry = (this.registry = new FinalizationRegistry<number>((ptr) => heap.release(ptr)));
    if (collector) {
      heap.reclaim = () => {
        collector.collect();
        collector.cleanupSome(registry);
      };
    }
    this.job = heap.alloc(JOB_BYTES);
    this.tmp = config.tmp;
    this.jobView = new Int32Array(heap.buffer, this.job, JOB_BYTES / 4);
  }

  /** Threads a large matrix product runs on (1 after a worker failure). */
  get threads(): number {
    return this.pool ? this.pool.threads : 1;
  }

  /** Stops the worker threads (in Node they are unref'd, so this is optional); products then use one thread. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  alloc(length: number, dtype: DType): Storage {
    return this.newStorage(length, dtype, true);
  }

  allocUninitialized(length: number, dtype: DType): Storage {
    return this.newStorage(length, dtype, false);
  }

  private newStorage(length: number, dtype: DType, zero: boolean): Storage {
    const bytes = length * (dtype === 'float64' ? 8 : 4);
    if (bytes === 0) return new WasmStorage(this.heap, 0, 0, dtype);
    const storage = new WasmStorage(this.heap, zero ? this.heap.alloc(bytes) : this.heap.allocUninitialized(bytes), length, dtype);
    this.registry.register(storage, storage.ptr, storage);
    return storage;
  }

  /**
   * Frees a storage of this backend now rather than when it is garbage-collected (for buffers a
   * layer owns and replaces). Any view of it must no longer be used.
   */
  free(storage: Storage): void {
    if (!(storage instanceof WasmStorage) || !storage.markFreed() || storage.length === 0) return;
    const side = this.side;
    if (side !== null && (side.out.byteOffset === storage.ptr || side.src.byteOffset === storage.ptr)) this.finishSide(); // in use by it
    this.registry.unregister(storage);
    this.heap.release(storage.ptr);
  }

  matmul(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void {
    this.product('matmul', a, b, c, m, k, n, transA, transB, accumulate, NOTHING_FUSED);
  }

  matmulFused(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, fused: FusedOutput,
  ): void {
    if (fused.sparseA && !transB && (transA ? this.skipZerosTransposed(a, b, c, m, k, n, fused) : this.skipZeros(a, b, c, m, k, n, fused))) return;
    this.product('matmulFused', a, b, c, m, k, n, transA, transB, false, fused);
  }

  /**
   * matmulFused with A's zeros skipped (assembly/sparse.ts), when it is faster than the blocked
   * product on the threads this product would get, and gives the same numbers: float32, no mask,
   * k within one k block (the blocked product sums a longer row in blocks), a finite B (else the
   * kernel refuses, having written nothing). Returns false, having done nothing, otherwise.
   */
  private skipZeros(a: FloatArray, b: FloatArray, c: FloatArray, m: number, k: number, n: number, fused: FusedOutput): boolean {
    const { bias = null, relu = false, mask = null } = fused;
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || !(c instanceof Float32Array) || (bias !== null && !(bias instanceof Float32Array))) return false;
    if (mask !== null || m === 0 || n === 0 || k === 0 || k > KC) return false;
    need('matmulFused', 'A', a, m * k);
    need('matmulFused', 'B', b, k * n);
    need('matmulFused', 'C', c, m * n);
    if (bias !== null) need('matmulFused', 'bias', bias, n);
    const threads = this.skipThreads(a, m, k, n, false);
    if (threads === 0) return false;
    const chunks = skipChunks(m, threads);
    const workBytes = this.kernels.sparseWorkBytes(k, n, chunks);
    if (this.inMemory(a) && this.inMemory(b) && this.inMemory(c) && this.inMemory(bias)) {
      // all in the memory (a training step's x · W1): no copies, and nothing allocated
      return this.runSkipZeros(a.byteOffset, b.byteOffset, c.byteOffset, bias?.byteOffset ?? 0, this.scratch(workBytes), m, k, n, relu, threads, chunks);
    }
    const arrays: Arg[] = [a, b, c];
    const lengths = [m * k, k * n, m * n];
    const modes = [IN, IN, OUT];
    if (bias !== null) arrays.push(bias), lengths.push(n), modes.push(IN);
    return this.withArgs(arrays, lengths, modes, workBytes, (p, work) => this.runSkipZeros(p[0], p[1], p[2], bias !== null ? p[3] : 0, work, m, k, n, relu, threads, chunks));
  }

  /** skipZeros' work once its arrays are in the memory at these byte addresses (biasPtr 0 if none), with `work` bytes of scratch (sparseWorkBytes). */
  private runSkipZeros(pa: number, pb: number, pc: number, biasPtr: number, work: number, m: number, k: number, n: number, relu: boolean, threads: number, chunks: number): boolean {
    const reluFlag = relu ? 1 : 0;
    if (threads > 1) {
      // one job on the threads: B packed once by its pack chunks (groups of panels), then pairs
      // of rows (each chunk with its own list of p); a pack chunk that meets an Inf or NaN in B
      // sets JOB_WIN_STRAY, and then no row is written. Up to one pack chunk per 16 columns: the
      // kernel shares out the panels sparseRows reads (sparsePanels), chunk 0 also copies the
      // dot-product columns
      this.jobFields()[JOB_WIN_STRAY] = 0;
      const packChunks = Math.min((n + 15) >> 4, CHUNKS_PER_THREAD * threads);
      if (this.windowJob(WIN_SKIP_ZEROS, [pa, pc, work, pb], [m, k, n, biasPtr, reluFlag, 0, 0, 0, 0, 0], (m + 1) >> 1, m * k * n / 4, chunks, packChunks)) {
        if (this.jobFields()[JOB_WIN_STRAY] !== 0) return false;
        this.sparseProducts++;
        return true;
      }
    }
    // on this thread: B packed, then every pair of rows
    if (this.kernels.sparsePrepare(pb, k, n, work) === 0) return false;
    this.sparseProducts++;
    this.kernels.sparseRows(pa, k, pc, k, n, biasPtr, reluFlag, work, 0, m, work + this.kernels.sparsePreparedBytes(k, n));
    return true;
  }

  /**
   * matmulFused(Aᵀ, B) with A's zeros skipped (assembly/sparse.ts's sparseTransRows: an Affine
   * layer's dW = xᵀ · dout over the images' non-zero pixels), when its sampled share of the work
   * is below SPARSE_T_SPEED − SPARSE_FIXED · threads / m and it gives the same numbers: float32,
   * no fused output, k within one k block, a finite B. Returns false, having done nothing, otherwise.
   */
  private skipZerosTransposed(a: FloatArray, b: FloatArray, c: FloatArray, m: number, k: number, n: number, fused: FusedOutput): boolean {
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || !(c instanceof Float32Array)) return false;
    if (fused.bias != null || fused.relu || fused.mask != null || m === 0 || n === 0 || k === 0 || k > KC) return false;
    need('matmulFused', 'A', a, k * m);
    need('matmulFused', 'B', b, k * n);
    need('matmulFused', 'C', c, m * n);
    const threads = this.skipThreads(a, m, k, n, true);
    if (threads === 0) return false;
    const groups = Math.ceil(m / SPARSE_T_ROWS);
    const chunks = Math.min(groups, CHUNKS_PER_THREAD * threads);
    const workBytes = this.kernels.sparseTransWorkBytes(k, chunks);
    if (this.inMemory(a) && this.inMemory(b) && this.inMemory(c)) {
      // all in the memory (a training step's dW1): no copies, and nothing allocated
      return this.runSkipZerosTransposed(a.byteOffset, b.byteOffset, c.byteOffset, this.scratch(workBytes), m, k, n, threads, groups, chunks);
    }
    return this.withArgs([a, b, c], [k * m, k * n, m * n], [IN, IN, OUT], workBytes, (p, work) => this.runSkipZerosTransposed(p[0], p[1], p[2], work, m, k, n, threads, groups, chunks));
  }

  /** skipZerosTransposed's work once its arrays are in the memory at these byte addresses, with `work` bytes of scratch (sparseTransWorkBytes). */
  private runSkipZerosTransposed(pa: number, pb: number, pc: number, work: number, m: number, k: number, n: number, threads: number, groups: number, chunks: number): boolean {
    if (this.kernels.sparseTransPrepare(pb, k, n, work) === 0) return false;
    this.sparseProducts++;
    if (threads === 1 || !this.windowJob(WIN_SKIP_ZEROS_T, [pa, pc, work, pb], [m, k, n, 0, 0, 0, 0, 0, 0, 0], groups, m * k * n / 4, chunks)) {
      this.kernels.sparseTransRows(pa, m, k, pb, n, pc, work, 0, m, work + this.kernels.sparseTransWorkBytes(k, 0));
    }
    return true;
  }

  /**
   * The threads a zero-skipping product of m rows of C would run on (those the blocked product
   * would get), or 0 where skipping would not pay: where its sampled share of the work is not
   * below SPARSE_SPEED (SPARSE_T_SPEED when A is transposed) − SPARSE_FIXED · threads / m, or
   * that limit is ≤ 0 (then nothing is sampled).
   */
  private skipThreads(a: Float32Array, m: number, k: number, n: number, transposed: boolean): number {
    const pool = this.pool;
    const threads = pool && 2 * m * k * n >= this.threadThreshold && pool.useThreads() ? pool.threads : 1;
    const limit = (transposed ? SPARSE_T_SPEED : SPARSE_SPEED) - (SPARSE_FIXED * threads) / m;
    // whether each chunk's rows will be sorted, rows alike paired (SPARSE_ORDER_MIN)
    const sorted = !transposed && 2 * Math.floor(((m + 1) >> 1) / skipChunks(m, threads)) >= SPARSE_ORDER_MIN;
    return limit > 0 && this.sampledShare(a, m, k, transposed, sorted) < limit ? threads : 0;
  }

  /**
   * The share of the p a zero-skipping product multiplies, over DENSITY_TILES groups of rows of C
   * evenly spaced: pairs of rows of A (m×k), or, transposed, groups of SPARSE_T_ROWS columns of A
   * (stored k×m); p counts where one of the group's values is non-zero. In the kernels
   * (sparseShare, sparseTransShare: vector compares) where A is in the memory; in JavaScript this
   * sampling took ~60 µs, more than a 100-row batch's product gains by skipping zeros (measured:
   * 1 thread, digits, (100×784)·(784×50)).
   */
  private sampledShare(a: Float32Array, m: number, k: number, transposed: boolean, sorted: boolean): number {
    const size = transposed ? SPARSE_T_ROWS : SPARSE_TILE_ROWS;
    const sampled = Math.min(Math.ceil(m / size), DENSITY_TILES);
    if (transposed) {
      const count = a.buffer === this.heap.buffer ? this.kernels.sparseTransShare(a.byteOffset, m, k, sampled) : sampledShareOutside((i, p) => a[p * m + i], m, k, size, sampled);
      return count / (sampled * k);
    }
    // sparseShare counts four times its estimate (sorted: the mean of a pair's and its rows' counts)
    const count = a.buffer === this.heap.buffer ? this.kernels.sparseShare(a.byteOffset, m, k, sampled, sorted ? 1 : 0) : pairedShareOutside(a, m, k, sampled, sorted);
    return count / (4 * sampled * k);
  }

  /**
   * One window job of single-chunk products (matmulBatchChunk in assembly/kernels.ts): ranges of
   * the images on each thread, or, when C is summed, groups of C's panels, each thread running
   * every image in order, so the sums are those of a loop of matmul calls, bit for bit.
   */
  matmulBatch(
    a: FloatArray, b: FloatArray, c: FloatArray, batch: number, strides: BatchStrides,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean, rowBias: FloatArray | null, relu: boolean,
  ): void {
    const f64 = a instanceof Float64Array;
    if (a.constructor !== b.constructor || a.constructor !== c.constructor || (rowBias !== null && rowBias.constructor !== a.constructor)) {
      throw new TypeError('wasm matmulBatch: A, B, C (and rowBias) must all be Float32Array or all Float64Array');
    }
    const summed = strides.c === 0;
    if (!counts(batch, strides.a, strides.b, strides.c, m, k, n) || (summed && (rowBias !== null || relu)) || batch === 0 || m === 0 || n === 0 || k === 0) {
      return this.js.matmulBatch(a, b, c, batch, strides, m, k, n, transA, transB, accumulate, rowBias, relu);
    }
    const lengths = [(batch - 1) * strides.a + m * k, (batch - 1) * strides.b + k * n, (batch - 1) * strides.c + m * n];
    need('matmulBatch', 'A', a, lengths[0]);
    need('matmulBatch', 'B', b, lengths[1]);
    need('matmulBatch', 'C', c, lengths[2]);
    if (rowBias !== null) need('matmulBatch', 'rowBias', rowBias, m);
    // each chunk's packed panels, as the product lays them out
    const { panels, bytes } = this.packedPanels(k, n, f64);
    const packBytes = roundUp(bytes);
    const pool = this.pool;
    const flops = 2 * batch * m * k * n;
    const threaded = pool !== null && flops >= this.threadThreshold && pool.useThreads();
    // Summed: one group of panels per thread (each chunk reads every A_i once).
    const chunks = !threaded ? 1 : summed ? Math.min(panels, pool.threads) : Math.min(batch, CHUNKS_PER_THREAD * pool.threads);
    const arrays: Arg[] = [a, b, c];
    const modes = [IN, IN, summed && accumulate ? INOUT : OUT];
    if (rowBias !== null) arrays.push(rowBias), lengths.push(m), modes.push(IN);
    // Workspace: a job block per chunk, then the packed panels (one set per chunk, or one shared).
    const subBytes = roundUp(chunks * JOB_BYTES);
    this.withArgs(arrays, lengths, modes, subBytes + packBytes * (summed ? 1 : chunks), (p, extra) => {
      const job = productFields(this.jobFields(), p[0], p[1], p[2], m, k, n, WINDOW | productFlags(transA, transB, accumulate, f64));
      if (this.readsB(f64, transB, m, p[1] + lengths[1] * 4)) job[JOB_FLAGS] |= DIRECT_B;
      job[JOB_WIN_KERNEL] = WIN_MATMUL_BATCH;
      job[JOB_WIN_P0] = extra;
      job[JOB_WIN_P0 + 1] = extra + subBytes;
      job[JOB_WIN_P0 + 2] = rowBias !== null ? p[3] : 0;
      const g: number[] = [batch, strides.a, strides.b, strides.c, packBytes, relu ? 1 : 0];
      for (let i = 0; i < 6; i++) job[JOB_WIN_G + i] = g[i];
      job[JOB_WIN_CHUNKS] = chunks;
      if (!threaded) return this.kernels.matmulCompute(this.job, 0, this.tmp);
      this.onPool(pool!, 1, chunks, flops);
    });
  }

  /**
   * Whether a product's tiles read B where it lies (DIRECT_B in assembly/kernels.ts) instead of
   * packing it: relaxed-SIMD build, float32, op(B) = B, at most DIRECT_B_ROWS rows of C, and 16
   * bytes of memory after B's end at byte bEnd (a narrow last panel is read by whole vectors,
   * up to 12 bytes past B's last row; those lanes are never stored).
   */
  private readsB(f64: boolean, transB: boolean, m: number, bEnd: number): boolean {
    const direct = !f64 && !transB && this.panelFloats === 12 && m <= DIRECT_B_ROWS && bEnd + 16 <= this.heap.buffer.byteLength;
    if (direct) this.directProducts++;
    return direct;
  }

  /**
   * op(B) (k × n) packed as the kernels lay it out: panels 32 bytes wide (8 floats or 4 doubles),
   * or 48 (12 floats) in the relaxed-SIMD build's float32: the width, how many panels, their bytes.
   */
  private packedPanels(k: number, n: number, f64: boolean): { width: number; panels: number; bytes: number } {
    const width = this.panelWidth(f64);
    const panels = Math.ceil(n / width);
    return { width, panels, bytes: packedSize(k, panels, width, f64) };
  }

  /** The floats or doubles across a packed panel of op(B). */
  private panelWidth(f64: boolean): number {
    return f64 ? 4 : this.panelFloats;
  }

  private product(
    kernel: string, a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean, fused: FusedOutput,
  ): void {
    const f64 = a instanceof Float64Array;
    const { bias = null, relu = false, mask = null } = fused;
    if (a.constructor !== b.constructor || a.constructor !== c.constructor ||
      (bias !== null && bias.constructor !== a.constructor) || (mask !== null && mask.constructor !== a.constructor)) {
      throw new TypeError(`wasm ${kernel}: A, B, C (and bias, mask) must all be Float32Array or all Float64Array`);
    }
    need(kernel, 'A', a, m * k);
    need(kernel, 'B', b, k * n);
    need(kernel, 'C', c, m * n);
    if (bias !== null) need(kernel, 'bias', bias, n);
    if (mask !== null) need(kernel, 'mask', mask, m * n);
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (accumulate) return;
      c.fill(0, 0, m * n);
      const out = c.subarray(0, m * n);
      if (bias !== null) this.js.addBias(out, bias, out, m, n);
      if (relu) this.js.relu(out, out);
      if (mask !== null) this.js.reluBackward(out, mask, out);
      return;
    }
    // op(B) packed as packedPanels lays it out (without the object: a step's every product comes here)
    const width = this.panelWidth(f64);
    const panels = Math.ceil(n / width);
    const packedBytes = packedSize(k, panels, width, f64);
    const flags = productFlags(transA, transB, accumulate, f64) | (bias !== null ? FUSE_BIAS : 0) | (relu ? FUSE_RELU : 0) | (mask !== null ? FUSE_MASK : 0);
    if (this.inMemory(a) && this.inMemory(b) && this.inMemory(c) && this.inMemory(bias) && this.inMemory(mask)) {
      // all in the memory (every product of a training step): no copies, and nothing allocated
      this.runProduct(a.byteOffset, b.byteOffset, c.byteOffset, bias?.byteOffset ?? 0, mask?.byteOffset ?? 0, this.scratch(packedBytes), m, k, n, transA, transB, f64, flags, width, panels, packedBytes);
      return;
    }
    const arrays: Arg[] = [a, b, c];
    const lengths = [m * k, k * n, m * n];
    const modes = [IN, IN, accumulate ? INOUT : OUT];
    if (bias !== null) arrays.push(bias), lengths.push(n), modes.push(IN);
    if (mask !== null) arrays.push(mask), lengths.push(m * n), modes.push(IN);
    this.withArgs(arrays, lengths, modes, packedBytes, (p, packed) => {
      this.runProduct(p[0], p[1], p[2], bias !== null ? p[3] : 0, mask !== null ? p[bias !== null ? 4 : 3] : 0, packed, m, k, n, transA, transB, f64, flags, width, panels, packedBytes);
    });
  }

  /**
   * product's work once its arrays are in the memory at these byte addresses (bias and mask 0
   * if none), with `packed` bytes of scratch for op(B)'s panels: on the threads, or on this one.
   */
  private runProduct(
    pa: number, pb: number, pc: number, pbias: number, pmask: number, packed: number,
    m: number, k: number, n: number, transA: boolean, transB: boolean, f64: boolean,
    flags: number, width: number, panels: number, packedBytes: number,
  ): void {
    const job = productFields(this.jobFields(), pa, pb, pc, m, k, n, flags);
    job[JOB_BIAS] = pbias;
    job[JOB_MASK] = pmask;
    job[JOB_PACKED] = packed;
    if (this.readsB(f64, transB, m, pb + k * n * 4)) job[JOB_FLAGS] |= DIRECT_B;
    const tiles = Math.ceil(m / 4);
    const flops = 2 * m * k * n;
    const pool = this.pool;
    if (pool && flops >= this.threadThreshold && pool.useThreads()) {
      // Chunks: groups of panels to pack; groups of 4-row tiles of C × groups of its panels
      // to compute (more panel groups when C has too few rows to share out).
      const chunks = CHUNKS_PER_THREAD * pool.threads;
      const packTotal = (job[JOB_PACK_CHUNKS] = Math.min(panels, chunks));
      // Few panels, A and packed B within L2 (an MNIST batch's products): a chunk per panel and
      // part of the rows, in as few parts as make `chunks` (see BY_PANELS).
      const byPanels = !f64 && panels > 1 && panels <= chunks && m * k * 4 <= SMALL_PACKED_BYTES && packedBytes < SMALL_PACKED_BYTES;
      let rowChunks = Math.min(tiles, byPanels ? Math.ceil(chunks / panels) : chunks);
      if (!byPanels && packedBytes < SMALL_PACKED_BYTES) {
        rowChunks = Math.min(tiles, Math.max(chunks, Math.min(MAX_CHUNKS_PER_THREAD * pool.threads, Math.ceil(flops / CHUNK_FLOPS))));
      }
      // The relaxed-SIMD build's float32 tiles are 3 rows: a chunk of one 4-row tile would run two
      // (the second overlapping), 1.5× the work; chunks of at least 3 tiles (12 rows) waste none or little.
      if (!f64 && width === 12) rowChunks = Math.max(1, Math.min(rowChunks, Math.floor(tiles / 3)));
      let panelChunks = byPanels ? panels : Math.min(panels, Math.ceil(chunks / rowChunks));
      // A stored transposed with short rows (m values of a depth within 4 cache lines): every
      // row chunk reads nearly every line of A, whatever its rows (see fewerPasses)
      const sharedLines = transA && m * (f64 ? 8 : 4) <= 256;
      if ((tiles < 4 * rowChunks || sharedLines) && packedBytes >= SMALL_PACKED_BYTES) {
        [rowChunks, panelChunks] = fewerPasses(tiles, panels, chunks, pool.threads, m * k * (f64 ? 8 : 4), packedBytes, sharedLines);
      }
      job[JOB_ROW_CHUNKS] = rowChunks;
      job[JOB_PANEL_CHUNKS] = panelChunks;
      const workTotal = rowChunks * panelChunks;
      this.onPool(pool, packTotal, workTotal, flops);
    } else {
      job[JOB_PACK_CHUNKS] = job[JOB_ROW_CHUNKS] = job[JOB_PANEL_CHUNKS] = 1;
      if (k > KC) job[JOB_FLAGS] |= PACK_BY_BLOCK;
      this.kernels.matmulPack(this.job, 0);
      this.kernels.matmulCompute(this.job, 0, this.tmp);
    }
  }

  addBias(x: FloatArray, bias: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (!(x instanceof Float32Array) || !(bias instanceof Float32Array) || !(out instanceof Float32Array)) {
      return this.js.addBias(x, bias, out, rows, cols);
    }
    const size = rows * cols;
    need('addBias', 'x', x, size);
    need('addBias', 'bias', bias, cols);
    need('addBias', 'out', out, size);
    this.withArgs([x, bias, out], [size, cols, size], [IN, IN, OUT], 0, (p) => {
      if (!this.windowJob(WIN_ADD_BIAS, p, [rows, cols, 0, 0, 0, 0, 0, 0, 0, 0], rows, size)) this.kernels.addBias(p[0], p[1], p[2], rows, cols);
    });
  }

  sumColumns(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array)) return this.js.sumColumns(x, out, rows, cols);
    need('sumColumns', 'x', x, rows * cols);
    need('sumColumns', 'out', out, cols);
    this.withArgs([x, out], [rows * cols, cols], [IN, OUT], 0, (p) => {
      // ranges of columns (whole units of SUM_BLOCK) shared out; each column's sum stays in row order: same bits.
      // `cols > SUM_BLOCK` is windowJob's own "at least 2 units", checked first to spare the geometry array.
      const shared = cols > SUM_BLOCK && this.windowJob(WIN_SUM_COLUMNS, p, [rows, cols, 0, 0, 0, 0, 0, 0, 0, 0], Math.ceil(cols / SUM_BLOCK), rows * cols);
      if (!shared) this.kernels.sumColumns(p[0], p[1], rows, cols);
    });
  }

  relu(x: FloatArray, out: FloatArray): void {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array)) return this.js.relu(x, out);
    const n = x.length;
    need('relu', 'out', out, n);
    this.withArgs([x, out], [n, n], [IN, OUT], 0, (p) => {
      if (!this.windowJob(WIN_RELU, p, [n, 0, 0, 0, 0, 0, 0, 0, 0, 0], Math.ceil(n / ELEMENT_BLOCK), n)) this.kernels.relu(p[0], p[1], n);
    });
  }

  reluBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void {
    if (!(dout instanceof Float32Array) || !(out instanceof Float32Array) || !(dx instanceof Float32Array)) {
      return this.js.reluBackward(dout, out, dx);
    }
    const n = dout.length;
    need('reluBackward', 'out', out, n);
    need('reluBackward', 'dx', dx, n);
    this.withArgs([dout, out, dx], [n, n, n], [IN, IN, OUT], 0, (p) => {
      if (!this.windowJob(WIN_RELU_BACKWARD, p, [n, 0, 0, 0, 0, 0, 0, 0, 0, 0], Math.ceil(n / ELEMENT_BLOCK), n)) {
        this.kernels.reluBackward(p[0], p[1], p[2], n);
      }
    });
  }

  sigmoid(x: FloatArray, out: FloatArray): void {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array)) return this.js.sigmoid(x, out);
    const n = x.length;
    need('sigmoid', 'out', out, n);
    this.withArgs([x, out], [n, n], [IN, OUT], 0, (p) => this.kernels.sigmoid(p[0], p[1], n));
  }

  sigmoidBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void {
    if (!(dout instanceof Float32Array) || !(out instanceof Float32Array) || !(dx instanceof Float32Array)) {
      return this.js.sigmoidBackward(dout, out, dx);
    }
    const n = dout.length;
    need('sigmoidBackward', 'out', out, n);
    need('sigmoidBackward', 'dx', dx, n);
    this.withArgs([dout, out, dx], [n, n, n], [IN, IN, OUT], 0, (p) => this.kernels.sigmoidBackward(p[0], p[1], p[2], n));
  }

  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array)) return this.js.softmax(x, out, rows, cols);
    const size = rows * cols;
    need('softmax', 'x', x, size);
    need('softmax', 'out', out, size);
    this.withArgs([x, out], [size, size], [IN, OUT], 0, (p) => this.kernels.softmax(p[0], p[1], rows, cols));
  }

  crossEntropyLabels(y: FloatArray, labels: Int32Array, rows: number, cols: number): number {
    if (!(y instanceof Float32Array)) return this.js.crossEntropyLabels(y, labels, rows, cols);
    need('crossEntropyLabels', 'y', y, rows * cols);
    checkLabels('crossEntropyLabels', labels, rows, cols);
    return this.withArgs([y, labels], [rows * cols, rows], [IN, IN], 0, (p) =>
      this.kernels.crossEntropyLabels(p[0], p[1], rows, cols));
  }

  softmaxLossBackward(
    y: FloatArray, labels: Int32Array, dx: FloatArray, rows: number, cols: number, scale: number,
  ): void {
    if (!(y instanceof Float32Array) || !(dx instanceof Float32Array)) {
      return this.js.softmaxLossBackward(y, labels, dx, rows, cols, scale);
    }
    const size = rows * cols;
    need('softmaxLossBackward', 'y', y, size);
    need('softmaxLossBackward', 'dx', dx, size);
    checkLabels('softmaxLossBackward', labels, rows, cols);
    this.withArgs([y, labels, dx], [size, rows, size], [IN, IN, OUT], 0, (p) =>
      this.kernels.softmaxLossBackward(p[0], p[1], p[2], rows, cols, scale));
  }

  softmaxCrossEntropy(
    x: FloatArray, labels: Int32Array, y: FloatArray, dx: FloatArray, rows: number, cols: number, scale: number,
  ): number {
    if (!(x instanceof Float32Array) || !(y instanceof Float32Array) || !(dx instanceof Float32Array)) {
      return this.js.softmaxCrossEntropy(x, labels, y, dx, rows, cols, scale);
    }
    const size = rows * cols;
    need('softmaxCrossEntropy', 'x', x, size);
    need('softmaxCrossEntropy', 'y', y, size);
    need('softmaxCrossEntropy', 'dx', dx, size);
    checkLabels('softmaxCrossEntropy', labels, rows, cols);
    return this.withArgs([x, labels, y, dx], [size, rows, size, size], [IN, IN, OUT, OUT], 0, (p) =>
      this.kernels.softmaxCrossEntropy(p[0], p[1], p[2], p[3], rows, cols, scale));
  }

  argmaxRows(x: FloatArray, out: Int32Array, rows: number, cols: number): void {
    if (!(x instanceof Float32Array) || cols === 0) return this.js.argmaxRows(x, out, rows, cols);
    need('argmaxRows', 'x', x, rows * cols);
    need('argmaxRows', 'out', out, rows);
    this.withArgs([x, out], [rows * cols, rows], [IN, OUT], 0, (p) => this.kernels.argmaxRows(p[0], p[1], rows, cols));
  }

  /**
   * A row gather is a series of memory copies: in wasm (memory.copy per row) when src and out
   * are float32 in this memory, which saves a subarray object per row; else TypedArray.set.
   */
  gatherRows(src: FloatArray, index: Int32Array, out: FloatArray, cols: number): void {
    if (!this.kernelsGather(src, index, out, cols)) return this.js.gatherRows(src, index, out, cols);
    const count = index.length;
    const rows = Math.floor(src.length / cols);
    // Through withArgs, which takes the addresses of src and out before copying index in. Rows at
    // random places wait on memory: worth sharing out at half the size of a streaming kernel.
    this.withArgs([src, index, out], [rows * cols, count, count * cols], [IN, IN, OUT], 0, (p) => {
      if (!this.windowJob(WIN_GATHER, p, [count, cols, 0, 0, 0, 0, 0, 0, 0, 0], count, 2 * count * cols)) {
        this.kernels.gatherRows(p[0], p[1], p[2], count, cols);
      }
    });
  }

  /**
   * gatherRows on the thread pool's idle time: the rows are cut into chunks of a side job
   * (ThreadPool.side) that the workers copy between, and during, the caller's products while
   * the caller goes on; the returned wait runs what is left on the caller's thread. Without
   * threads, or where gatherRows would not share the copy out (small, float64, arrays outside
   * the memory, a row out of range), the rows are copied now. `index` is copied in at once.
   * One at a time: a second call (and free) waits for the first.
   */
  gatherRowsAhead(src: FloatArray, index: Int32Array, out: FloatArray, cols: number): () => void {
    this.finishSide();
    const count = index.length;
    const pool = this.sharingPool(count, 2 * count * cols);
    if (pool === null || !this.kernelsGather(src, index, out, cols)) {
      this.gatherRows(src, index, out, cols);
      return noWait;
    }
    const bytes = roundUp(count * 4);
    if (this.sideIndexBytes < bytes) {
      if (this.sideIndexPtr !== 0) this.heap.release(this.sideIndexPtr);
      this.sideIndexPtr = 0; // in case alloc throws
      this.sideIndexPtr = this.heap.alloc(bytes);
      this.sideIndexBytes = bytes;
    }
    if (this.sideJob === 0) this.sideJob = this.heap.alloc(JOB_BYTES);
    const mem = this.heap.buffer as ArrayBuffer; // after any growth above
    new Int32Array(mem, this.sideIndexPtr, count).set(index);
    const p = [src.byteOffset, this.sideIndexPtr, out.byteOffset];
    // chunks of SIDE_CHUNK_ROWS rows: a worker holding one delays a product of the caller's by ~1 µs
    const chunks = Math.max(1, Math.min(count, Math.ceil(count / SIDE_CHUNK_ROWS), MAX_SIDE_CHUNKS));
    windowFields(new Int32Array(mem, this.sideJob, JOB_BYTES / 4), WIN_GATHER, p, [count, cols, 0, 0, 0, 0, 0, 0, 0, 0], chunks);
    const side = (this.side = { src, out, p, count, cols });
    pool.side(this.kernels, this.sideJob, chunks, this.tmp, 2 * count * cols);
    return () => {
      if (this.side === side) this.finishSide();
    };
  }

  /**
   * Waits for the gatherRowsAhead in flight, if any. When a worker failed, in it or in a product
   * meanwhile (the pool then closed, dropping the side job), copies every row on this thread,
   * then throws what the wait threw, if anything.
   */
  private finishSide(): void {
    const side = this.side;
    if (side === null) return;
    this.side = null;
    const pool = this.pool!;
    let error: unknown = null;
    try {
      pool.sideWait();
    } catch (e) {
      error = e;
    }
    if (error !== null || pool.threads === 1) {
      // A worker that timed out may still be reading the index: give it that block, and copy
      // the same rows again here (its writes, if any, are the same values).
      const { p, count, cols } = side;
      this.sideIndexPtr = this.sideIndexBytes = 0;
      this.kernels.gatherRows(p[0], p[1], p[2], count, cols);
    }
    if (error !== null) throw error;
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    if (!(x instanceof Float32Array) || !(y instanceof Float32Array)) return this.js.axpy(alpha, x, y);
    const n = x.length;
    need('axpy', 'y', y, n);
    if (this.inMemory(x) && this.inMemory(y)) return this.kernels.axpy(alpha, x.byteOffset, y.byteOffset, n); // an update's every call: nothing to copy or allocate
    this.withArgs([x, y], [n, n], [IN, INOUT], 0, (p) => this.kernels.axpy(alpha, p[0], p[1], n));
  }

  /**
   * Runs `run` with the byte addresses of `arrays` (their first `lengths` elements) in the
   * memory, plus `extraBytes` of workspace. Arrays already in the memory are passed in place;
   * the others are copied into scratch (unless only written) and copied back if written.
   * The same array passed twice (out = x) gets one address.
   */
  private withArgs<T>(
    arrays: Arg[], lengths: number[], modes: number[], extraBytes: number,
    run: (ptrs: number[], extra: number) => T,
  ): T {
    const heap = this.heap;
    // All in the memory (a training step's every call): their addresses, nothing to copy.
    let resident = 0;
    while (resident < arrays.length && this.inMemory(arrays[resident])) resident++;
    if (resident === arrays.length) {
      const ptrs = new Array<number>(arrays.length);
      for (let i = 0; i < arrays.length; i++) ptrs[i] = arrays[i].byteOffset;
      return run(ptrs, extraBytes > 0 ? this.scratch(extraBytes) : 0);
    }
    // Addresses of resident arrays first: growing the memory below would detach their views.
    const ptrs: number[] = [];
    const offsets: number[] = [];
    let bytes = 0;
    for (let i = 0; i < arrays.length; i++) {
      const arr = arrays[i];
      const first = arrays.indexOf(arr);
      if (first < i) {
        ptrs.push(ptrs[first]);
        offsets.push(offsets[first]);
        if (modes[i] !== modes[first]) modes[first] = INOUT;
      } else if (arr.buffer === heap.buffer) {
        ptrs.push(arr.byteOffset);
        offsets.push(-1);
      } else {
        ptrs.push(-1);
        offsets.push(bytes);
        bytes += roundUp(lengths[i] * arr.BYTES_PER_ELEMENT);
      }
    }
    const extraOffset = bytes;
    bytes += extraBytes;
    const base = bytes > 0 ? this.scratch(bytes) : 0;
    const buffer = heap.buffer as ArrayBuffer;
    for (let i = 0; i < arrays.length; i++) {
      if (offsets[i] < 0) continue;
      ptrs[i] = base + offsets[i];
      if (arrays.indexOf(arrays[i]) === i && modes[i] !== OUT) {
        const bytesIn = bytesOf(arrays[i], lengths[i]);
        new Uint8Array(buffer, ptrs[i], bytesIn.length).set(bytesIn);
      }
    }
    const result = run(ptrs, base + extraOffset);
    for (let i = 0; i < arrays.length; i++) {
      if (offsets[i] < 0 || modes[i] === IN || arrays.indexOf(arrays[i]) !== i) continue;
      const bytesOut = bytesOf(arrays[i], lengths[i]);
      bytesOut.set(new Uint8Array(heap.buffer as ArrayBuffer, ptrs[i], bytesOut.length));
    }
    return result;
  }

  /** Whether `x` lies in this backend's memory (null: nothing to place, so yes); its byteOffset is then its address. */
  private inMemory(x: Arg | null): boolean {
    return x === null || x.buffer === this.heap.buffer;
  }

  /** The scratch block, grown to at least `bytes` (this may grow the memory). */
  private scratch(bytes: number): number {
    if (this.scratchBytes < bytes) {
      if (this.scratchPtr !== 0) this.heap.release(this.scratchPtr);
      this.scratchBytes = roundUp(Math.max(bytes, this.scratchBytes * 1.5));
      this.scratchPtr = 0; // in case alloc throws
      this.scratchPtr = this.heap.alloc(this.scratchBytes);
    }
    return this.scratchPtr;
  }

  /**
   * Runs a window kernel on the thread pool, its `units` (independent groups of outputs) shared
   * out in chunks, when there are threads and the kernel moves enough memory (`elements`: see
   * sharingPool). Returns false, having done nothing, otherwise.
   */
  private windowJob(kernel: number, ptrs: number[], geometry: GeometryArgs, units: number, elements: number, maxChunks = Infinity, packChunks = 1): boolean {
    const pool = this.sharingPool(units, elements);
    if (pool === null) return false;
    const chunks = Math.min(units, CHUNKS_PER_THREAD * pool.threads, maxChunks);
    const job = this.jobFields();
    windowFields(job, kernel, ptrs, geometry, chunks);
    job[JOB_PACK_CHUNKS] = packChunks;
    // the pack chunks (empty but for the zero-skipping product's), then the kernel's chunks;
    // `elements` stands for the FLOPs of the timeout
    this.onPool(pool, packChunks, chunks, elements);
    return true;
  }

  /**
   * The job at this.job on the pool: `packTotal` pack chunks, then `workTotal` compute chunks
   * (`flops` bounds the wait). If it fails, a worker that timed out may still be writing into
   * the scratch block (packed panels, a window kernel's output): that block is left to it.
   */
  private onPool(pool: ThreadPool, packTotal: number, workTotal: number, flops: number): void {
    try {
      pool.matmul(this.kernels, this.job, packTotal, workTotal, this.tmp, flops);
    } catch (e) {
      this.scratchPtr = 0;
      this.scratchBytes = 0;
      throw e;
    }
  }

  /**
   * The pool, when a window kernel of `units` independent groups moving `elements` values is
   * worth sharing out (threadThreshold / 8 as the break-even: these kernels do about one load
   * and store per element where a product does 2·k FLOPs) and the threads are in use; else null.
   */
  private sharingPool(units: number, elements: number): ThreadPool | null {
    const pool = this.pool;
    return pool && units >= 2 && elements * 8 >= this.threadThreshold && pool.useThreads() ? pool : null;
  }

  /**
   * Whether the kernels can gather these rows in place: float32 arrays in this memory, whole
   * sizes, `out` long enough and apart from `src`, every row inside `src` (else the reference
   * makes its partial copy).
   */
  private kernelsGather(src: FloatArray, index: Int32Array, out: FloatArray, cols: number): boolean {
    const buffer = this.heap.buffer;
    const count = index.length;
    if (!(src instanceof Float32Array) || !(out instanceof Float32Array) || src.buffer !== buffer || out.buffer !== buffer ||
      !counts(cols) || count * cols > out.length || !(count > 0 && cols > 0) || overlap(src, out, src.length, count * cols)) {
      return false;
    }
    const rows = Math.floor(src.length / cols);
    for (let i = 0; i < count; i++) if (!(index[i] >= 0 && index[i] < rows)) return false;
    return true;
  }

  private jobFields(): Int32Array {
    if (this.jobView.buffer !== this.heap.buffer) this.jobView = new Int32Array(this.heap.buffer, this.job, JOB_BYTES / 4);
    return this.jobView;
  }

  im2col(x: FloatArray, col: FloatArray, g: ConvGeometry): void {
    this.windows('im2col', WIN_IM2COL, x, col, g, g.batch * g.outH);
  }

  im2colT(x: FloatArray, colT: FloatArray, g: ConvGeometry): void {
    this.windows('im2colT', WIN_IM2COL_T, x, colT, g, g.batch);
  }

  col2im(col: FloatArray, x: FloatArray, g: ConvGeometry): void {
    this.windows('col2im', WIN_COL2IM, col, x, g, g.batch);
  }

  /**
   * One of the window kernels, from src into dst (as Backend names them: x and col, x and colT,
   * col and x): on float32 arrays the kernel (on the pool, by `units` rows of work), else the
   * reference.
   */
  private windows(op: WindowOp, win: number, src: FloatArray, dst: FloatArray, g: ConvGeometry, units: number): void {
    const args = geometryArgs(g);
    if (!(src instanceof Float32Array) || !(dst instanceof Float32Array) || args === null) return this.js[op](src, dst, g);
    const colSize = colLength(g);
    const [srcSize, dstSize] = op === 'col2im' ? [colSize, imageSize(g)] : [imageSize(g), colSize];
    const [srcName, dstName] = WINDOW_ARRAYS[op];
    need(op, srcName, src, srcSize);
    need(op, dstName, dst, dstSize);
    if (dstSize === 0) return;
    this.withArgs([src, dst], [srcSize, dstSize], [IN, OUT], 0, (p) => {
      if (!this.windowJob(win, p, args, units, colSize)) this.kernels[op](p[0], p[1], ...args);
    });
  }

  transposeBatch(x: FloatArray, out: FloatArray, batch: number, rows: number, cols: number): void {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array) || !counts(batch, rows, cols)) {
      return this.js.transposeBatch(x, out, batch, rows, cols);
    }
    const size = batch * rows * cols;
    need('transposeBatch', 'x', x, size);
    need('transposeBatch', 'out', out, size);
    if (size === 0) return;
    if (overlap(x, out, size)) return this.js.transposeBatch(x, out, batch, rows, cols); // in place: the reference's result
    this.withArgs([x, out], [size, size], [IN, OUT], 0, (p) => {
      const args: GeometryArgs = [batch, rows, cols, 0, 0, 0, 0, 0, 0, 0];
      if (!this.windowJob(WIN_TRANSPOSE, p, args, batch, size)) this.kernels.transposeBatch(p[0], p[1], batch, rows, cols);
    });
  }

  maxPoolForward(x: FloatArray, out: FloatArray, argMax: Int32Array, g: ConvGeometry): void {
    const args = geometryArgs(g);
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array) || args === null) return this.js.maxPoolForward(x, out, argMax, g);
    const xSize = imageSize(g);
    const outputs = g.batch * g.channels * g.outH * g.outW;
    need('maxPoolForward', 'x', x, xSize);
    need('maxPoolForward', 'out', out, outputs);
    need('maxPoolForward', 'argMax', argMax, outputs);
    if (outputs === 0) return;
    this.withArgs([x, out, argMax], [xSize, outputs, outputs], [IN, OUT, OUT], 0, (p) => {
      if (!this.windowJob(WIN_MAXPOOL, p, args, g.batch * g.channels, xSize)) this.kernels.maxPoolForward(p[0], p[1], p[2], ...args);
    });
  }

  maxPoolBackward(dout: FloatArray, argMax: Int32Array, dx: FloatArray, g: ConvGeometry, mask: FloatArray | null = null): void {
    const args = geometryArgs(g);
    if (!(dout instanceof Float32Array) || !(dx instanceof Float32Array) || args === null || (mask !== null && !(mask instanceof Float32Array))) {
      return this.js.maxPoolBackward(dout, argMax, dx, g, mask);
    }
    const size = imageSize(g);
    const outputs = g.batch * g.channels * g.outH * g.outW;
    need('maxPoolBackward', 'dout', dout, outputs);
    need('maxPoolBackward', 'argMax', argMax, outputs);
    need('maxPoolBackward', 'dx', dx, size);
    if (size === 0) return;
    if (mask !== null) need('maxPoolBackward', 'mask', mask, size);
    const arrays: Arg[] = [dout, argMax, dx];
    if (mask !== null) arrays.push(mask);
    this.withArgs(arrays, [outputs, outputs, size, size], [IN, IN, OUT, IN], 0, (p) => {
      // planes (n, c) on the threads: each plane's maxima lie in its own plane of dx (else a chunk
      // sets JOB_WIN_STRAY, and the one-thread kernel redoes it with the plain scatter)
      this.jobFields()[JOB_WIN_STRAY] = 0;
      if (!this.windowJob(WIN_MAXPOOL_BACKWARD, p, args, g.batch * g.channels, size) || this.jobFields()[JOB_WIN_STRAY] !== 0) {
        this.kernels.maxPoolBackward(p[0], p[1], p[2], mask !== null ? p[3] : 0, ...args);
      }
    });
  }
}

/** A window job's fields of a job block: its kernel, pointers (P0..P2, P3), geometry and chunks. */
function windowFields(job: Int32Array, kernel: number, ptrs: number[], geometry: GeometryArgs, chunks: number): void {
  job[JOB_FLAGS] = WINDOW;
  job[JOB_WIN_KERNEL] = kernel;
  for (let i = 0; i < 3; i++) job[JOB_WIN_P0 + i] = ptrs[i] ?? 0;
  job[JOB_WIN_P3] = ptrs[3] ?? 0;
  for (let i = 0; i < 10; i++) job[JOB_WIN_G + i] = geometry[i];
  job[JOB_WIN_CHUNKS] = chunks;
}

/** A product's fields of the job block: A, B, C at p[0..2], its sizes, flags, and the blocking. */
function productFields(job: Int32Array, pa: number, pb: number, pc: number, m: number, k: number, n: number, flags: number): Int32Array {
  job[JOB_A] = pa;
  job[JOB_B] = pb;
  job[JOB_C] = pc;
  job[JOB_M] = m;
  job[JOB_K] = k;
  job[JOB_N] = n;
  job[JOB_FLAGS] = flags;
  job[JOB_KC] = KC;
  job[JOB_MC] = MC;
  return job;
}

/** Bytes of k rows of `panels` packed panels `width` elements wide. */
function packedSize(k: number, panels: number, width: number, f64: boolean): number {
  return k * panels * width * (f64 ? 8 : 4);
}

/** Flag bits 0..3 of a product: transA, transB, accumulate, float64. */
function productFlags(transA: boolean, transB: boolean, accumulate: boolean, f64: boolean): number {
  return (transA ? 1 : 0) | (transB ? 2 : 0) | (accumulate ? 4 : 0) | (f64 ? 8 : 0);
}

/** True when a's first `length` elements and b's first `bLength` share memory. */
function overlap(a: Arg, b: Arg, length: number, bLength = length): boolean {
  if (a.buffer !== b.buffer) return false;
  const a0 = a.byteOffset, b0 = b.byteOffset;
  return a0 < b0 + bLength * b.BYTES_PER_ELEMENT && b0 < a0 + length * a.BYTES_PER_ELEMENT;
}

/** True when every value is a whole number in 0..2³¹−1 (what the kernels' i32 parameters hold). */
function counts(...values: number[]): boolean {
  for (const v of values) if (!((v | 0) === v && v >= 0)) return false;
  return true;
}

/**
 * The geometry as kernel arguments, or null when a field is not a whole number ≥ 0 (stride ≥ 1)
 * or a size overflows i32: such calls run in the reference, which the kernels must not out-guess.
 */
function geometryArgs(g: ConvGeometry): GeometryArgs | null {
  const { batch, channels, height, width, filterH, filterW, stride, pad, outH, outW } = g;
  if (!counts(batch, channels, height, width, filterH, filterW, stride, pad, outH, outW) || stride < 1) return null;
  // Every index the kernels compute stays below 2³¹ (element counts; byte offsets are unsigned).
  const limit = 2 ** 31;
  if (batch * channels * height * width >= limit || batch * channels * outH * outW >= limit) return null;
  if (batch * outH * outW * channels * filterH * filterW >= limit) return null;
  if (outH * stride + filterH + height + pad >= limit || outW * stride + filterW + width + pad >= limit) return null;
  return [batch, channels, height, width, filterH, filterW, stride, pad, outH, outW];
}

/**
 * Row ranges (compute chunks) of a zero-skipping product of m rows on `threads` threads: its pairs
 * of rows shared out, up to CHUNKS_PER_THREAD ranges a thread; one range on one thread.
 */
function skipChunks(m: number, threads: number): number {
  return threads === 1 ? 1 : Math.min((m + 1) >> 1, CHUNKS_PER_THREAD * threads);
}

/**
 * The kernels' sparseShare in JavaScript, for an A (m×k) outside the memory: over `sampled` pairs
 * of rows evenly spaced (a last odd row alone, as its own second row), Σ_p 2·[either row
 * non-zero] + [first non-zero] + [second non-zero], or 4·[either row non-zero] unless `sorted`.
 */
function pairedShareOutside(a: Float32Array, m: number, k: number, sampled: number, sorted: boolean): number {
  const pairs = Math.ceil(m / 2);
  let used = 0;
  for (let s = 0; s < sampled; s++) {
    const x = 2 * Math.floor((s * pairs) / sampled) * k;
    const y = m - x / k > 1 ? x + k : x;
    for (let p = 0; p < k; p++) {
      const bx = a[x + p] !== 0 ? 1 : 0, by = a[y + p] !== 0 ? 1 : 0;
      used += sorted ? 2 * (bx | by) + bx + by : 4 * (bx | by);
    }
  }
  return used;
}

/**
 * sampledShare's count for a transposed A outside the memory (the kernels' sparseTransShare, in
 * JavaScript): over `sampled` groups of `size` rows of C evenly spaced (the last group of C may be
 * shorter), the p where value(i, p) = op(A)[i, p] is non-zero for one of the group's rows i.
 */
function sampledShareOutside(value: (i: number, p: number) => number, m: number, k: number, size: number, sampled: number): number {
  const groups = Math.ceil(m / size);
  let used = 0;
  for (let s = 0; s < sampled; s++) {
    const i0 = size * Math.floor((s * groups) / sampled);
    for (let p = 0; p < k; p++) {
      for (let i = i0; i < Math.min(i0 + size, m); i++) {
        if (value(i, p) !== 0) {
          used++;
          break;
        }
      }
    }
  }
  return used;
}

/**
 * Row and panel chunks for a product whose row chunks would hold few tiles while its packed B
 * is large, or whose A is stored transposed with short rows (a convolution's dW = doutᵀ · col:
 * 30×57600×25): each compute chunk reads its rows of A once and its panels of B once, so the
 * chunks read panelChunks·|A| + rowChunks·|B| bytes, or rowChunks·panelChunks·|A| + rowChunks·|B|
 * when every row chunk reads all of A's cache lines (`sharedLines`); cut that, keeping at least
 * one chunk per thread. The split changes only who computes which tile, never the sums, so the
 * results stay bit-identical. Measured on the 2-core test machine (that dW on 2 threads, B read
 * where it lies, alternating in one process): 2 row chunks × 3 panel chunks 77.5 GFLOPS, 2 × 1
 * 81.6, 1 × 3 90.0, 1 × 2 (what this picks) 97.5.
 */
function fewerPasses(tiles: number, panels: number, chunks: number, threads: number, aBytes: number, packedBytes: number, sharedLines: boolean): [number, number] {
  const splits: [number, number, number][] = []; // rc, pc, bytes read
  for (let pc = 1; pc <= Math.min(panels, chunks); pc++) {
    for (let rc = 1; rc <= Math.min(tiles, chunks) && rc * pc <= chunks; rc++) {
      if (rc * pc >= threads) splits.push([rc, pc, (sharedLines ? rc * pc : pc) * aBytes + rc * packedBytes]);
    }
  }
  if (splits.length === 0) return [Math.min(tiles, chunks), 1];
  // Within 25% of the fewest bytes, the most chunks: they even out a late thread.
  const least = Math.min(...splits.map((c) => c[2]));
  let best = splits[0];
  for (const c of splits) {
    if (c[2] <= 1.25 * least && (best[2] > 1.25 * least || c[0] * c[1] > best[0] * best[1])) best = c;
  }
  return [best[0], best[1]];
}

/** Elements of the (N, C, H, W) input a geometry describes. */
function imageSize(g: ConvGeometry): number {
  return g.batch * g.channels * g.height * g.width;
}

/** Elements of its im2col matrix: (N·outH·outW) rows of C·FH·FW. */
function colLength(g: ConvGeometry): number {
  return g.batch * g.outH * g.outW * g.channels * g.filterH * g.filterW;
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** The bytes of the first `length` elements of `arr`. */
function bytesOf(arr: Arg, length: number): Uint8Array {
  return new Uint8Array(arr.buffer, arr.byteOffset, length * arr.BYTES_PER_ELEMENT);
}

/** Kernels read and write raw memory: check every array is long enough (a detached view has length 0). */
function need(kernel: string, name: string, arr: Arg, length: number): void {
  if (arr.length < length) {
    throw new RangeError(
      `wasm ${kernel}: ${name} has ${arr.length} elements but ${length} are needed` +
        (arr.length === 0 ? ' (a view made before the backend memory grew? re-read storage.data)' : ''),
    );
  }
}

function checkLabels(kernel: string, labels: Int32Array, rows: number, cols: number): void {
  need(kernel, 'labels', labels, rows);
  for (let i = 0; i < rows; i++) {
    if (!(labels[i] >= 0 && labels[i] < cols)) {
      throw new RangeError(`${kernel}: label ${labels[i]} at row ${i} is outside 0..${cols - 1}`);
    }
  }
}
