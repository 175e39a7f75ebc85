// Kernels of the WebAssembly backend, in AssemblyScript with 128-bit SIMD: the matrix product
// for float32 and float64, the other kernels for float32 (float64 ones run in JavaScript).
//
// Every pointer is a byte offset into the imported linear memory; the JavaScript side
// (src/kernels/wasm/WasmBackend.ts) owns all allocation, so this module never allocates.
// Matrices are row-major and contiguous, as in src/kernels/Backend.ts.
//
// Build: node scripts/build-wasm.mjs (asc -O3 --runtime stub --importMemory --enable simd).

import { exp4 } from './exp';
import { sparseListBytes, sparsePanels, sparsePreparePanels, sparsePreparedBytes, sparseRows, sparseTransRows, sparseTransWorkBytes } from './sparse';

/** First byte after this module's static data: the JavaScript allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------
// Matrix product C = op(A) · op(B) (+ C when accumulating), for T = f32 or f64.
//
// op(B) is packed into panels 32 bytes wide (8 floats or 4 doubles: W = 32 / sizeof<T>()
// columns): panel q holds op(B)[p, qW .. qW+W) for every p, row after row, zero-padded past n,
// so the micro-kernel reads a panel row as two v128. A is never packed: op(A)[i, p] is read in
// place at a + i·sa + p·sp (bytes), which covers A stored m×k (sa = k·size, sp = size) and Aᵀ
// stored k×m (sa = size, sp = m·size) with no copy.
//
// The parameters of one product sit in a job block of i32 fields (see JOB_* below), and the
// work is cut into chunks: pack chunks (groups of panels), then compute chunks (blocks of rows
// × groups of panels of C). Threads claim chunks one at a time (src/kernels/wasm/threads.ts),
// so a thread the OS has put to sleep delays nobody; one thread simply runs every chunk.
// ---------------------------------------------------------------------------------------------

// Job block fields (i32 index; byte offset = 4 · index).
const JOB_A: i32 = 0;
const JOB_B: i32 = 1;
const JOB_C: i32 = 2;
const JOB_M: i32 = 3;
const JOB_K: i32 = 4;
const JOB_N: i32 = 5;
const JOB_FLAGS: i32 = 6; // bit 0 transA, bit 1 transB, bit 2 accumulate, bit 3 float64 (others below)
const JOB_PACKED: i32 = 7; // 32·k·⌈n/W⌉ bytes
const JOB_KC: i32 = 8; // depth of a k block
const JOB_MC: i32 = 9; // rows of an i block
const JOB_PACK_CHUNKS: i32 = 10; // pack chunks: the panels split into this many groups
const JOB_ROW_CHUNKS: i32 = 11; // compute chunks = row chunks (groups of 4-row tiles) ×
const JOB_PANEL_CHUNKS: i32 = 12; //   panel chunks (groups of panels)
// The fused output of a product (its epilogue), applied as the last k block is stored, in this
// order, each step exactly as its own kernel does it afterwards, so the results are bit-identical:
const JOB_BIAS: i32 = 13; // flag BIAS: C[i, j] += bias[j] (addBias)
const JOB_MASK: i32 = 14; // flag MASK: C[i, j] = mask[i, j] > 0 ? C[i, j] : 0 (reluBackward; mask laid out as C)
const BIAS: i32 = 32;
const RELU: i32 = 64; // C = C > 0 ? C : 0 (relu)
const MASK: i32 = 128;
// flag ROW_BIAS (matmulBatch's row bias, only on products made of whole 3×12 tiles in one k block:
// tile3x12's fast path): C[i, j] = acc + bias[i] (JOB_BIAS: one per row), then RELU if set, as addRowBias
const ROW_BIAS: i32 = 1024;

const FLOAT64: i32 = 8;
/**
 * Flag bit 8: one chunk (one thread) computes the whole product, deeper than a k block: each
 * k block of op(B) is packed just before it is computed, into the first KC rows of every
 * panel's place, so that the packed block stays in L2 instead of a whole packed B (a
 * convolution's dW packs 57600 rows) going out to memory and back. Same values, same sums.
 */
const PACK_BY_BLOCK: i32 = 256;
/**
 * Flag bit 9 (relaxed-SIMD build, float32, op(B) = B): the tiles read op(B)'s panels where B
 * lies, a row n·4 bytes from the next, instead of packed copies; only a last panel of 1 or 2
 * columns that dotTile reads column by column (A not transposed) is still packed. For products
 * with few rows of C, where packing is a large share of the work (each packed element serves m
 * rows: a convolution's dW has m = 30). A narrow last panel is read by whole vectors, lanes past
 * n included (up to 12 bytes past B's last row: the JavaScript side sets the flag only where the
 * memory goes on that far); those lanes are never stored. Same products, same order: same bits.
 */
const DIRECT_B: i32 = 512;
/**
 * Flag bit 4: not a product but a window kernel (im2col, col2im, transposeBatch, maxPoolForward)
 * run by the same threads, its compute chunks being ranges of independent outputs: fields below.
 */
const WINDOW: i32 = 16;
const JOB_WIN_KERNEL: i32 = 16; // WIN_* below
const JOB_WIN_P0: i32 = 17; // the kernel's pointer arguments, in order
const JOB_WIN_P1: i32 = 18;
const JOB_WIN_P2: i32 = 19;
const JOB_WIN_G: i32 = 20; // 10 fields: batch, channels, H, W, fh, fw, stride, pad, outH, outW (transposeBatch: batch, rows, cols)
const JOB_WIN_CHUNKS: i32 = 30; // compute chunks
const WIN_IM2COL: i32 = 0;
const WIN_COL2IM: i32 = 1;
const WIN_TRANSPOSE: i32 = 2;
const WIN_MAXPOOL: i32 = 3;
const WIN_RELU: i32 = 4; // element-wise kernels, in blocks of ELEMENT_BLOCK elements: g0 = n
const WIN_RELU_BACKWARD: i32 = 5;
const WIN_ADD_BIAS: i32 = 6; // by rows: g0 = rows, g1 = cols
const WIN_GATHER: i32 = 7; // gatherRows by rows: g0 = count, g1 = cols
const WIN_SKIP_ZEROS: i32 = 8; // the product with A's zeros skipped (sparse.ts), by pairs of rows
// matmulBatch: the product fields 0..9 of the job are the first product's; P0 = a 128-byte
// job block per chunk, P1 = packed panels (g4 bytes per chunk, or shared when C is summed),
// P2 = row bias or 0; g0 = batch, g1..g3 = strides of A, B, C in elements (g3 = 0: C summed),
// g5 = 1: then C = max(0, C) (relu).
const WIN_MATMUL_BATCH: i32 = 9;
const WIN_MAXPOOL_BACKWARD: i32 = 10; // by planes (n, c); P3 = the ReLU mask or 0; sets JOB_WIN_STRAY
const WIN_SUM_COLUMNS: i32 = 11; // by ranges of columns in whole units of SUM_BLOCK: g0 = rows, g1 = cols
// the transposed product with A's zeros skipped (sparse.ts's sparseTransRows), by groups of 3 rows of C:
// g0 = m, g1 = k, g2 = n; p0 = A (k×m), p1 = C, p2 = the work sparseTransPrepare filled, then one list per chunk; p3 = B
const WIN_SKIP_ZEROS_T: i32 = 12;
const WIN_IM2COL_T: i32 = 13; // im2colT by images
const JOB_WIN_STRAY: i32 = 15; // set to 1 by a chunk that met an arg max outside its window or plane, or by a pack chunk of WIN_SKIP_ZEROS that met an Inf or NaN in B
const JOB_WIN_P3: i32 = 31;
/** Elements per unit of an element-wise window job (a multiple of 4: the vector loops see whole vectors). */
const ELEMENT_BLOCK: i32 = 4096;

@inline function jobField(job: usize, field: i32): i32 {
  return load<i32>(job + (<usize>field << 2));
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** The start of part `i` of `count` near-equal parts of `total` items: ⌊i·total / count⌋. */
@inline function part(i: i32, total: i32, count: i32): i32 {
  return <i32>(<i64>i * <i64>total / <i64>count);
}

// The vector operations of T's lanes (4 × f32 or 2 × f64 in a v128), chosen at compile time.
@inline function splat<T>(ptr: usize): v128 {
  return sizeof<T>() == 8 ? v128.load64_splat(ptr) : v128.load32_splat(ptr);
}
/** splat<T>(ptr + r·size) for the r-th of 4 adjacent elements, as an immediate offset. */
@inline function splatAdjacent<T>(ptr: usize, r: i32): v128 {
  if (sizeof<T>() == 8) {
    return r == 0 ? v128.load64_splat(ptr) : r == 1 ? v128.load64_splat(ptr, 8) : r == 2 ? v128.load64_splat(ptr, 16) : v128.load64_splat(ptr, 24);
  }
  return r == 0 ? v128.load32_splat(ptr) : r == 1 ? v128.load32_splat(ptr, 4) : r == 2 ? v128.load32_splat(ptr, 8) : v128.load32_splat(ptr, 12);
}
@inline function vadd<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 8 ? f64x2.add(a, b) : f32x4.add(a, b);
}
@inline function vmul<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 8 ? f64x2.mul(a, b) : f32x4.mul(a, b);
}
/**
 * c + a · b, the micro-kernels' step: a multiply then an add, or, in the relaxed-SIMD build
 * (scripts/build-wasm.mjs compiles the kernels twice, with --use RELAXED_SIMD=0 and =1),
 * relaxed_madd, which the engine may run as one fused multiply-add (rounded once).
 */
@inline function vmadd<T>(a: v128, b: v128, c: v128): v128 {
  if (RELAXED_SIMD) return sizeof<T>() == 8 ? f64x2.relaxed_madd(a, b, c) : f32x4.relaxed_madd(a, b, c);
  return vadd<T>(c, vmul<T>(a, b));
}

/** Lanes where v > 0 (false for NaN): the ReLU's mask. */
@inline function vpositive<T>(v: v128): v128 {
  return sizeof<T>() == 8 ? f64x2.gt(v, f64x2.splat(0)) : f32x4.gt(v, f32x4.splat(0));
}

/**
 * Columns of a packed panel of op(B): 8 floats or 4 doubles (32 bytes), except in the
 * relaxed-SIMD build's float32, 12 floats (48 bytes) for the 3×12 micro-kernel (tile3x12).
 */
@inline function panelWidth<T>(): i32 {
  return sizeof<T>() == 4 && RELAXED_SIMD ? 12 : 32 / <i32>sizeof<T>();
}
@inline function panelBytes<T>(): usize {
  return <usize>panelWidth<T>() * sizeof<T>();
}

/** The float32 panel width of this build, for the JavaScript side's sizes (src/kernels/wasm/WasmBackend.ts). */
export function panelFloats(): i32 {
  return panelWidth<f32>();
}

/** Pack chunk `chunk` of op(B)'s panels. */
export function matmulPack(job: usize, chunk: i32): void {
  const flags = jobField(job, JOB_FLAGS);
  if (flags & WINDOW) {
    // The zero-skipping product prepares B in its pack chunks (groups of its 16-column panels);
    // a chunk that finds an Inf or NaN sets JOB_WIN_STRAY, and the compute chunks then do nothing.
    // The other window kernels have nothing to pack (one empty pack chunk).
    if (jobField(job, JOB_WIN_KERNEL) == WIN_SKIP_ZEROS) {
      const k = jobField(job, JOB_WIN_G + 1), n = jobField(job, JOB_WIN_G + 2);
      const panels = sparsePanels(n), chunks = jobField(job, JOB_PACK_CHUNKS);
      const b = <usize>jobField(job, JOB_WIN_P3), work = <usize>jobField(job, JOB_WIN_P2);
      if (!sparsePreparePanels(b, k, n, work, part(chunk, panels, chunks), part(chunk + 1, panels, chunks), chunk == 0)) {
        store<i32>(job + (<usize>JOB_WIN_STRAY << 2), 1);
      }
    }
    return;
  }
  if (flags & FLOAT64) pack<f64>(job, chunk);
  else pack<f32>(job, chunk);
}

/** packed[q·k·W + p·W + jj] = op(B)[p, qW + jj] for the panels q of this chunk. */
@inline function pack<T>(job: usize, chunk: i32): void {
  const W = panelWidth<T>();
  const k = jobField(job, JOB_K);
  const n = jobField(job, JOB_N);
  // A product of one chunk deeper than a k block packs each block as it computes it (compute).
  if (jobField(job, JOB_FLAGS) & PACK_BY_BLOCK) return;
  const panels = (n + W - 1) / W;
  const chunks = jobField(job, JOB_PACK_CHUNKS);
  const q0 = part(chunk, panels, chunks);
  packPanels<T>(job, imax(q0, firstPacked<T>(job, n)), part(chunk + 1, panels, chunks), 0, k, k);
}

/** Whether the tiles read op(B) = B where it lies (DIRECT_B). */
@inline function directB<T>(job: usize): bool {
  return sizeof<T>() == 4 && panelWidth<T>() == 12 && (jobField(job, JOB_FLAGS) & DIRECT_B) != 0;
}

/**
 * The first panel that is packed: 0; with DIRECT_B only a last panel of 1 or 2 columns that
 * dotTile reads packed column by column (A not transposed), or none (n / W + 1 > the last).
 */
@inline function firstPacked<T>(job: usize, n: i32): i32 {
  if (!directB<T>(job)) return 0;
  const W = panelWidth<T>();
  return dotPanel<T>(n % W, (jobField(job, JOB_FLAGS) & 1) != 0) && n % W != 0 ? n / W : n / W + 1;
}

/**
 * Panels q0 ≤ q < q1 of op(B), depths p0 ≤ p < p1 only, each panel `ks` rows apart:
 * packed[q·ks·W + (p − p0)·W + jj] = op(B)[p, qW + jj].
 */
@inline function packPanels<T>(job: usize, q0: i32, q1: i32, p0: i32, p1: i32, ks: i32): void {
  const W = panelWidth<T>();
  const PB = panelBytes<T>();
  const b = <usize>jobField(job, JOB_B);
  const k = jobField(job, JOB_K);
  const n = jobField(job, JOB_N);
  const transB = (jobField(job, JOB_FLAGS) & 2) != 0;
  const transA = (jobField(job, JOB_FLAGS) & 1) != 0;
  const packed = <usize>jobField(job, JOB_PACKED);
  const size = sizeof<T>();
  for (let q = q0; q < q1; q++) {
    const j0 = q * W;
    const nr = imin(W, n - j0);
    let dst = packed + <usize>q * <usize>ks * PB;
    if (dotPanel<T>(nr, transA)) {
      // Column by column: column jj at dst + jj·ks·4, its depths contiguous (dotTile).
      for (let jj = 0; jj < nr; jj++) {
        const d = dst + (<usize>jj * <usize>ks << 2);
        if (transB) {
          memory.copy(d, b + ((<usize>(j0 + jj) * <usize>k + <usize>p0) << 2), <usize>(p1 - p0) << 2);
        } else {
          let src = b + ((<usize>p0 * <usize>n + <usize>(j0 + jj)) << 2);
          const ldb = <usize>n << 2;
          for (let p = p0; p < p1; p++) {
            store<f32>(d + (<usize>(p - p0) << 2), load<f32>(src));
            src += ldb;
          }
        }
      }
      continue;
    }
    if (!transB) {
      // op(B)[p, j] = b[p·n + j]: a panel row is PB contiguous bytes of a row of B.
      const ldb = <usize>n * size;
      let src = b + <usize>j0 * size + <usize>p0 * ldb;
      if (nr == W) {
        for (let p = p0; p < p1; p++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          if (PB == 48) v128.store(dst, v128.load(src, 32), 32);
          src += ldb;
          dst += PB;
        }
      } else {
        // The last panel, nr < W columns: zero the row, then copy the nr real columns.
        const zero = v128.splat<i32>(0);
        for (let p = p0; p < p1; p++) {
          v128.store(dst, zero);
          v128.store(dst, zero, 16);
          if (PB == 48) v128.store(dst, zero, 32);
          for (let jj = 0; jj < nr; jj++) {
            const o = <usize>jj * size;
            store<T>(dst + o, load<T>(src + o));
          }
          src += ldb;
          dst += PB;
        }
      }
    } else {
      // op(B)[p, j] = b[j·k + p]: column jj of the panel is a contiguous row of B. In float32,
      // a full panel goes by 4 × 4 blocks transposed in registers (4 depths p of 8 rows of B
      // at a time), then the last k % 4 depths and any narrower panel element by element.
      let p = p0;
      if (sizeof<T>() == 4 && nr == W) {
        const ldb = <usize>k << 2;
        const r0 = b + <usize>j0 * ldb;
        const r4 = r0 + (ldb << 2);
        for (; p + 4 <= p1; p += 4) {
          const o = <usize>p << 2;
          transpose4(r0 + o, ldb, dst, PB);
          transpose4(r4 + o, ldb, dst + 16, PB);
          if (PB == 48) transpose4(r4 + (ldb << 2) + o, ldb, dst + 32, PB);
          dst += PB << 2;
        }
      }
      if (p == p1) continue;
      const pt = p; // the depths left, element by element
      for (let jj = 0; jj < W; jj++) {
        let d = dst + <usize>jj * size;
        if (jj < nr) {
          let src = b + (<usize>(j0 + jj) * <usize>k + <usize>pt) * size;
          for (p = pt; p < p1; p++) {
            store<T>(d, load<T>(src));
            src += size;
            d += PB;
          }
        } else {
          for (p = pt; p < p1; p++) {
            store<T>(d, <T>0);
            d += PB;
          }
        }
      }
    }
  }
}

/**
 * Four rows of B (ld bytes apart from src: 4 columns of op(B)), 4 floats of each (4 depths),
 * transposed into 4 panel rows of 16 bytes, PB bytes apart, from dst.
 */
@inline function transpose4(src: usize, ld: usize, dst: usize, PB: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + ld);
  const r2 = v128.load(src + (ld << 1));
  const r3 = v128.load(src + ld * 3);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5)); // a0 b0 c0 d0
  v128.store(dst + PB, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + (PB << 1), i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + PB * 3, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * The micro-kernel: a 4×W tile of C in 8 v128 accumulators (4 rows × 2 vectors),
 *   acc[r, 0..W) = Σ_p op(A)[i+r, p] · panel[p, 0..W)   for p < kc,
 * with op(A)[i+r, p] at pa + r·sa + p·sp and panel[p, ·] at pb + p·sb (sb: the packed panel's
 * bytes a row, or B's own row with DIRECT_B); rows past the matrix (r ≥ mr) repeat its last row.
 * Writes C = acc, or C += acc when `add`; only mr rows and nr columns are stored.
 *
 * The loop is left for V8 to unroll: unrolling it by hand made TurboFan hoist every load and
 * spill accumulators. When A is stored transposed (sa = size) the 4 rows are adjacent, read
 * with immediate offsets, which saves the integer ports that the SIMD units share on x86.
 */
@inline function tile<T>(
  pa: usize, sa: usize, sp: usize, pb: usize, sb: usize, kc: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, add: bool, epi: i32, bt: usize, md: usize,
): void {
  const size = sizeof<T>();
  let c00 = v128.splat<i32>(0), c01 = v128.splat<i32>(0);
  let c10 = v128.splat<i32>(0), c11 = v128.splat<i32>(0);
  let c20 = v128.splat<i32>(0), c21 = v128.splat<i32>(0);
  let c30 = v128.splat<i32>(0), c31 = v128.splat<i32>(0);
  let b0: v128, b1: v128, av: v128;
  if (sa == size && mr == 4) {
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16);
      av = splatAdjacent<T>(pa, 0); c00 = vmadd<T>(av, b0, c00); c01 = vmadd<T>(av, b1, c01);
      av = splatAdjacent<T>(pa, 1); c10 = vmadd<T>(av, b0, c10); c11 = vmadd<T>(av, b1, c11);
      av = splatAdjacent<T>(pa, 2); c20 = vmadd<T>(av, b0, c20); c21 = vmadd<T>(av, b1, c21);
      av = splatAdjacent<T>(pa, 3); c30 = vmadd<T>(av, b0, c30); c31 = vmadd<T>(av, b1, c31);
      pa += sp; pb += sb;
    }
  } else if (mr == 4) {
    // Full rows apart (A not transposed): rows 2 and 3 from a second pointer with the offsets
    // of rows 0 and 1, no select on mr in the loop (V8 recomputed such selects at every step).
    let pa2 = pa + (sa << 1);
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16);
      av = splat<T>(pa); c00 = vmadd<T>(av, b0, c00); c01 = vmadd<T>(av, b1, c01);
      av = splat<T>(pa + sa); c10 = vmadd<T>(av, b0, c10); c11 = vmadd<T>(av, b1, c11);
      av = splat<T>(pa2); c20 = vmadd<T>(av, b0, c20); c21 = vmadd<T>(av, b1, c21);
      av = splat<T>(pa2 + sa); c30 = vmadd<T>(av, b0, c30); c31 = vmadd<T>(av, b1, c31);
      pa += sp; pa2 += sp; pb += sb;
    }
  } else {
    const o1: usize = mr > 1 ? sa : 0;
    const o2: usize = mr > 2 ? sa << 1 : o1;
    const o3: usize = mr > 3 ? sa * 3 : o2;
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16);
      av = splat<T>(pa); c00 = vmadd<T>(av, b0, c00); c01 = vmadd<T>(av, b1, c01);
      av = splat<T>(pa + o1); c10 = vmadd<T>(av, b0, c10); c11 = vmadd<T>(av, b1, c11);
      av = splat<T>(pa + o2); c20 = vmadd<T>(av, b0, c20); c21 = vmadd<T>(av, b1, c21);
      av = splat<T>(pa + o3); c30 = vmadd<T>(av, b0, c30); c31 = vmadd<T>(av, b1, c31);
      pa += sp; pb += sb;
    }
  }
  let r = ct;
  if (mr == 4 && nr == 32 / <i32>size && epi == 0) {
    // A full tile with no fused output (most tiles): straight stores.
    if (add) {
      v128.store(r, vadd<T>(v128.load(r), c00)); v128.store(r, vadd<T>(v128.load(r, 16), c01), 16); r += ldc;
      v128.store(r, vadd<T>(v128.load(r), c10)); v128.store(r, vadd<T>(v128.load(r, 16), c11), 16); r += ldc;
      v128.store(r, vadd<T>(v128.load(r), c20)); v128.store(r, vadd<T>(v128.load(r, 16), c21), 16); r += ldc;
      v128.store(r, vadd<T>(v128.load(r), c30)); v128.store(r, vadd<T>(v128.load(r, 16), c31), 16);
    } else {
      v128.store(r, c00); v128.store(r, c01, 16); r += ldc;
      v128.store(r, c10); v128.store(r, c11, 16); r += ldc;
      v128.store(r, c20); v128.store(r, c21, 16); r += ldc;
      v128.store(r, c30); v128.store(r, c31, 16);
    }
    return;
  }
  storeRow<T>(r, c00, c01, nr, add, epi, bt, md);
  if (mr > 1) { r += ldc; storeRow<T>(r, c10, c11, nr, add, epi, bt, md); }
  if (mr > 2) { r += ldc; storeRow<T>(r, c20, c21, nr, add, epi, bt, md); }
  if (mr > 3) { r += ldc; storeRow<T>(r, c30, c31, nr, add, epi, bt, md); }
}

/**
 * The relaxed-SIMD build's float32 micro-kernel: a 3×12 tile of C in 9 v128 accumulators
 * (3 rows × 3 vectors of a 48-byte panel), as tile. V8 loads every operand of a loop step
 * before its first multiply-add, so a step holds its accumulators, its panel vectors and its
 * splats of A at once: 9 + 3 + 3 = 15, the 16 xmm registers less V8's scratch, where a 4×8
 * tile holds 8 + 2 + 4 and a 4×12 or 6×8 one would spill. 9 chains of fused multiply-adds
 * (4 cycles' latency, 2 per cycle) keep both FMA units busy, which 8 only just do. The plain
 * build keeps 4×8: its multiply and add need one more register for the product.
 */
@inline function tile3x12(
  pa: usize, sa: usize, sp: usize, pb: usize, sb: usize, kc: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, add: bool, epi: i32, bt: usize, md: usize,
): void {
  let c00 = v128.splat<i32>(0), c01 = c00, c02 = c00;
  let c10 = c00, c11 = c00, c12 = c00;
  let c20 = c00, c21 = c00, c22 = c00;
  let b0: v128, b1: v128, b2: v128, av: v128;
  if (sa == 4 && mr == 3) {
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16); b2 = v128.load(pb, 32);
      av = v128.load32_splat(pa); c00 = vmadd<f32>(av, b0, c00); c01 = vmadd<f32>(av, b1, c01); c02 = vmadd<f32>(av, b2, c02);
      av = v128.load32_splat(pa, 4); c10 = vmadd<f32>(av, b0, c10); c11 = vmadd<f32>(av, b1, c11); c12 = vmadd<f32>(av, b2, c12);
      av = v128.load32_splat(pa, 8); c20 = vmadd<f32>(av, b0, c20); c21 = vmadd<f32>(av, b1, c21); c22 = vmadd<f32>(av, b2, c22);
      pa += sp; pb += sb;
    }
  } else if (mr == 3) {
    // Full rows apart (A not transposed): no select on mr in the loop (as tile).
    const o2 = sa << 1;
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16); b2 = v128.load(pb, 32);
      av = v128.load32_splat(pa); c00 = vmadd<f32>(av, b0, c00); c01 = vmadd<f32>(av, b1, c01); c02 = vmadd<f32>(av, b2, c02);
      av = v128.load32_splat(pa + sa); c10 = vmadd<f32>(av, b0, c10); c11 = vmadd<f32>(av, b1, c11); c12 = vmadd<f32>(av, b2, c12);
      av = v128.load32_splat(pa + o2); c20 = vmadd<f32>(av, b0, c20); c21 = vmadd<f32>(av, b1, c21); c22 = vmadd<f32>(av, b2, c22);
      pa += sp; pb += sb;
    }
  } else {
    const o1: usize = mr > 1 ? sa : 0;
    const o2: usize = mr > 2 ? sa << 1 : o1;
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16); b2 = v128.load(pb, 32);
      av = v128.load32_splat(pa); c00 = vmadd<f32>(av, b0, c00); c01 = vmadd<f32>(av, b1, c01); c02 = vmadd<f32>(av, b2, c02);
      av = v128.load32_splat(pa + o1); c10 = vmadd<f32>(av, b0, c10); c11 = vmadd<f32>(av, b1, c11); c12 = vmadd<f32>(av, b2, c12);
      av = v128.load32_splat(pa + o2); c20 = vmadd<f32>(av, b0, c20); c21 = vmadd<f32>(av, b1, c21); c22 = vmadd<f32>(av, b2, c22);
      pa += sp; pb += sb;
    }
  }
  if (mr == 3 && nr == 12 && epi == 0 && !add) {
    // A full tile with no fused output, written: straight stores.
    let r = ct;
    v128.store(r, c00); v128.store(r, c01, 16); v128.store(r, c02, 32); r += ldc;
    v128.store(r, c10); v128.store(r, c11, 16); v128.store(r, c12, 32); r += ldc;
    v128.store(r, c20); v128.store(r, c21, 16); v128.store(r, c22, 32);
    return;
  }
  if (epi & ROW_BIAS) {
    // (only whole tiles, written: see ROW_BIAS) each row + its bias (bt: row i's), then the ReLU
    const relu = (epi & RELU) != 0;
    let r = ct;
    let b = v128.load32_splat(bt);
    storeBiased(r, c00, b, relu); storeBiased(r + 16, c01, b, relu); storeBiased(r + 32, c02, b, relu); r += ldc;
    b = v128.load32_splat(bt, 4);
    storeBiased(r, c10, b, relu); storeBiased(r + 16, c11, b, relu); storeBiased(r + 32, c12, b, relu); r += ldc;
    b = v128.load32_splat(bt, 8);
    storeBiased(r, c20, b, relu); storeBiased(r + 16, c21, b, relu); storeBiased(r + 32, c22, b, relu);
    return;
  }
  if (mr == 3 && nr == 12 && !add && (epi & ~(BIAS | RELU | MASK)) == 0) {
    // A full tile with a fused output, written: whole vectors, each through the same steps as storeVector's
    let r = ct;
    storeFused(r, c00, epi, bt, md); storeFused(r + 16, c01, epi, bt + 16, md); storeFused(r + 32, c02, epi, bt + 32, md); r += ldc;
    storeFused(r, c10, epi, bt, md); storeFused(r + 16, c11, epi, bt + 16, md); storeFused(r + 32, c12, epi, bt + 32, md); r += ldc;
    storeFused(r, c20, epi, bt, md); storeFused(r + 16, c21, epi, bt + 16, md); storeFused(r + 32, c22, epi, bt + 32, md);
    return;
  }
  storeRow12(ct, c00, c01, c02, nr, add, epi, bt, md);
  if (mr > 1) storeRow12(ct + ldc, c10, c11, c12, nr, add, epi, bt, md);
  if (mr > 2) storeRow12(ct + 2 * ldc, c20, c21, c22, nr, add, epi, bt, md);
}

/** A whole vector of C at `at` = v + bias (BIAS), then the ReLU (RELU), then the mask (MASK), as storeVector does it. */
@inline function storeFused(at: usize, v: v128, epi: i32, bt: usize, md: usize): void {
  if (epi & BIAS) v = f32x4.add(v, v128.load(bt));
  if (epi & RELU) v = v128.and(v, vpositive<f32>(v));
  if (epi & MASK) v = v128.and(v, vpositive<f32>(v128.load(at + md)));
  v128.store(at, v);
}

/** v + b, then the ReLU if `relu`, stored at `at` (addRowBias's arithmetic). */
@inline function storeBiased(at: usize, v: v128, b: v128, relu: bool): void {
  v = f32x4.add(v, b);
  if (relu) v = v128.and(v, vpositive<f32>(v));
  v128.store(at, v);
}

/** One row of a 3×12 tile at `row`: its nr ≤ 12 columns, vector by vector (storeVector). */
@inline function storeRow12(row: usize, v0: v128, v1: v128, v2: v128, nr: i32, add: bool, epi: i32, bt: usize, md: usize): void {
  storeVector<f32>(row, v0, nr, add, epi, bt, md);
  if (nr > 4) storeVector<f32>(row + 16, v1, nr - 4, add, epi, bt + 16, md);
  if (nr > 8) storeVector<f32>(row + 32, v2, nr - 8, add, epi, bt + 32, md);
}

/**
 * The first `cols` elements of a vector of C at `at` (all of it when cols ≥ its lanes):
 * v = (C +) v, then the fused output `epi`: + bias (bt: the bias at this vector's first
 * column), the ReLU, the mask (md: mask − C, in bytes). A partial vector is loaded and stored by
 * lanes (load/store32_lane, 64_lane), never touching the elements past `cols`; every element
 * goes through the same operations in the same order as in a full vector.
 */
@inline function storeVector<T>(at: usize, v: v128, cols: i32, add: bool, epi: i32, bt: usize, md: usize): void {
  const full = cols >= 16 / <i32>sizeof<T>();
  if (add) v = vadd<T>(full ? v128.load(at) : loadPart<T>(at, cols), v);
  if (epi != 0) {
    if (epi & BIAS) v = vadd<T>(v, full ? v128.load(bt) : loadPart<T>(bt, cols));
    if (epi & RELU) v = v128.and(v, vpositive<T>(v));
    if (epi & MASK) v = v128.and(v, vpositive<T>(full ? v128.load(at + md) : loadPart<T>(at + md, cols)));
  }
  if (full) v128.store(at, v);
  else storePart<T>(at, v, cols);
}

/** The first cols (1 to lanes − 1) elements at `at` in a vector's low lanes, the others 0. */
@inline function loadPart<T>(at: usize, cols: i32): v128 {
  if (sizeof<T>() == 8 || cols == 2) return v128.load64_zero(at);
  if (cols == 1) return v128.load32_zero(at);
  return v128.load32_lane(at, v128.load64_zero(at), 2, 8);
}

/** Stores the first cols (1 to lanes − 1) lanes of v at `at`. */
@inline function storePart<T>(at: usize, v: v128, cols: i32): void {
  if (sizeof<T>() == 8 || cols >= 2) v128.store64_lane(at, v, 0);
  if (sizeof<T>() == 4 && cols != 2) {
    if (cols == 1) v128.store32_lane(at, v, 0);
    else v128.store32_lane(at, v, 2, 8);
  }
}

/** One row of a tile (two vectors: W = 32 bytes of columns) at `row`: its nr ≤ W columns, by storeVector. */
@inline function storeRow<T>(row: usize, v0: v128, v1: v128, nr: i32, add: bool, epi: i32, bt: usize, md: usize): void {
  const lanes = 16 / <i32>sizeof<T>();
  storeVector<T>(row, v0, nr, add, epi, bt, md);
  if (nr > lanes) storeVector<T>(row + 16, v1, nr - lanes, add, epi, bt + 16, md);
}

/**
 * The same for a panel with at most 16 bytes of real columns (the last one of n = 50 or n = 10
 * in float32), so that the panel's zero padding is not multiplied: 6 full rows, with 6
 * independent accumulators (a 4-row tile's 4 leave the loop waiting on the add's latency).
 * Rows 3-5 are read from a second pointer with the same offsets as rows 0-2, which keeps the
 * loop's integer registers few enough that V8 recomputes none of them inside it.
 */
@inline function halfTile6<T>(
  pa: usize, sa: usize, sp: usize, pb: usize, sb: usize, kc: i32,
  ct: usize, ldc: usize, nr: i32, add: bool, epi: i32, bt: usize, md: usize,
): void {
  let c0 = v128.splat<i32>(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  const o2 = sa << 1;
  let pa3 = pa + sa * 3;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    c0 = vmadd<T>(splat<T>(pa), b0, c0);
    c1 = vmadd<T>(splat<T>(pa + sa), b0, c1);
    c2 = vmadd<T>(splat<T>(pa + o2), b0, c2);
    c3 = vmadd<T>(splat<T>(pa3), b0, c3);
    c4 = vmadd<T>(splat<T>(pa3 + sa), b0, c4);
    c5 = vmadd<T>(splat<T>(pa3 + o2), b0, c5);
    pa += sp; pa3 += sp; pb += sb;
  }
  if (sizeof<T>() == 4 && nr == 2 && epi == 0 && !add) {
    // The last 2 columns of n = 50 or 10, written: one 64-bit lane per row.
    v128.store64_lane(ct, c0, 0); ct += ldc;
    v128.store64_lane(ct, c1, 0); ct += ldc;
    v128.store64_lane(ct, c2, 0); ct += ldc;
    v128.store64_lane(ct, c3, 0); ct += ldc;
    v128.store64_lane(ct, c4, 0); ct += ldc;
    v128.store64_lane(ct, c5, 0);
    return;
  }
  storeVector<T>(ct, c0, nr, add, epi, bt, md); ct += ldc;
  storeVector<T>(ct, c1, nr, add, epi, bt, md); ct += ldc;
  storeVector<T>(ct, c2, nr, add, epi, bt, md); ct += ldc;
  storeVector<T>(ct, c3, nr, add, epi, bt, md); ct += ldc;
  storeVector<T>(ct, c4, nr, add, epi, bt, md); ct += ldc;
  storeVector<T>(ct, c5, nr, add, epi, bt, md);
}

/**
 * Whether a narrow panel (1 or 2 real columns, float32) of a product whose A is not stored
 * transposed is packed column by column and computed by dotTile: each C[i, j] a dot product
 * of A's row i (contiguous) with op(B)'s column j (contiguous in the panel), by vectors of 4
 * depths, with no zero padding multiplied (a half tile computes 4 columns for these 1 or 2).
 */
@inline function dotPanel<T>(nr: i32, transA: bool): bool {
  return sizeof<T>() == 4 && nr <= 2 && !transA;
}

/**
 * C[i + r, j] for r < rows (4 with 2 columns, 6 with 1: 8 or 6 independent accumulators) and
 * the panel's nr columns (column j at pb + j·cs bytes), A's rows at pa + r·sa, depths kc:
 *   acc[r, j][l] = Σ_{p ≡ l mod 4, p < kc − kc % 4} A[i + r, p] · B[p, j],
 *   C[i + r, j] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + Σ_{p ≥ kc − kc % 4} A[i + r, p] · B[p, j] (in order),
 * then (C +) and the fused output, as storeVector does them. The sum's order differs from the
 * other tiles' (p in order): these columns agree with the reference within rounding, not bit for bit.
 */
@inline function dotTile(
  pa: usize, sa: usize, pb: usize, cs: usize, kc: i32, rows: i32, nr: i32,
  ct: usize, ldc: usize, add: bool, epi: i32, bt: usize, md: usize,
): void {
  const k4 = kc & ~3;
  if (nr == 2 && rows == 4) {
    let a0 = v128.splat<i32>(0), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
    const pa1 = pa + sa, pa2 = pa + (sa << 1), pa3 = pa + sa * 3, pc1 = pb + cs;
    for (let p = 0; p < k4; p += 4) {
      const o = <usize>p << 2;
      const b0 = v128.load(pb + o), b1 = v128.load(pc1 + o);
      let av = v128.load(pa + o); a0 = vmadd<f32>(av, b0, a0); e0 = vmadd<f32>(av, b1, e0);
      av = v128.load(pa1 + o); a1 = vmadd<f32>(av, b0, a1); e1 = vmadd<f32>(av, b1, e1);
      av = v128.load(pa2 + o); a2 = vmadd<f32>(av, b0, a2); e2 = vmadd<f32>(av, b1, e2);
      av = v128.load(pa3 + o); a3 = vmadd<f32>(av, b0, a3); e3 = vmadd<f32>(av, b1, e3);
    }
    dotStore(pa, pb, k4, kc, a0, ct, add, epi, bt, md);
    dotStore(pa, pc1, k4, kc, e0, ct + 4, add, epi, bt + 4, md);
    dotStore(pa1, pb, k4, kc, a1, ct + ldc, add, epi, bt, md);
    dotStore(pa1, pc1, k4, kc, e1, ct + ldc + 4, add, epi, bt + 4, md);
    dotStore(pa2, pb, k4, kc, a2, ct + 2 * ldc, add, epi, bt, md);
    dotStore(pa2, pc1, k4, kc, e2, ct + 2 * ldc + 4, add, epi, bt + 4, md);
    dotStore(pa3, pb, k4, kc, a3, ct + 3 * ldc, add, epi, bt, md);
    dotStore(pa3, pc1, k4, kc, e3, ct + 3 * ldc + 4, add, epi, bt + 4, md);
    return;
  }
  if (nr == 1 && rows == 6) {
    let a0 = v128.splat<i32>(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
    const pa3 = pa + sa * 3, o2 = sa << 1;
    for (let p = 0; p < k4; p += 4) {
      const o = <usize>p << 2;
      const b0 = v128.load(pb + o);
      a0 = vmadd<f32>(v128.load(pa + o), b0, a0);
      a1 = vmadd<f32>(v128.load(pa + sa + o), b0, a1);
      a2 = vmadd<f32>(v128.load(pa + o2 + o), b0, a2);
      a3 = vmadd<f32>(v128.load(pa3 + o), b0, a3);
      a4 = vmadd<f32>(v128.load(pa3 + sa + o), b0, a4);
      a5 = vmadd<f32>(v128.load(pa3 + o2 + o), b0, a5);
    }
    dotStore(pa, pb, k4, kc, a0, ct, add, epi, bt, md);
    dotStore(pa + sa, pb, k4, kc, a1, ct + ldc, add, epi, bt, md);
    dotStore(pa + o2, pb, k4, kc, a2, ct + 2 * ldc, add, epi, bt, md);
    dotStore(pa3, pb, k4, kc, a3, ct + 3 * ldc, add, epi, bt, md);
    dotStore(pa3 + sa, pb, k4, kc, a4, ct + 4 * ldc, add, epi, bt, md);
    dotStore(pa3 + o2, pb, k4, kc, a5, ct + 5 * ldc, add, epi, bt, md);
    return;
  }
  // Fewer rows (the end of a row block): one row and column at a time.
  for (let r = 0; r < rows; r++) {
    const ar = pa + <usize>r * sa;
    for (let j = 0; j < nr; j++) {
      const bj = pb + <usize>j * cs;
      let acc = v128.splat<i32>(0);
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        acc = vmadd<f32>(v128.load(ar + o), v128.load(bj + o), acc);
      }
      dotStore(ar, bj, k4, kc, acc, ct + <usize>r * ldc + (<usize>j << 2), add, epi, bt + (<usize>j << 2), md);
    }
  }
}

/** One dot product's end: its lanes summed, the depths k4 ≤ p < kc added in order, then stored (dotTile). */
@inline function dotStore(ar: usize, bj: usize, k4: i32, kc: i32, acc: v128, at: usize, add: bool, epi: i32, bt: usize, md: usize): void {
  let v = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let p = k4; p < kc; p++) {
    const o = <usize>p << 2;
    v += load<f32>(ar + o) * load<f32>(bj + o);
  }
  if (add) v = load<f32>(at) + v;
  if (epi != 0) {
    if (epi & BIAS) v = v + load<f32>(bt);
    if ((epi & RELU) && !(v > 0)) v = 0;
    if ((epi & MASK) && !(load<f32>(at + md) > 0)) v = 0;
  }
  store<f32>(at, v);
}

/** The same for the last mr ≤ 4 rows: 4 accumulators, rows past the matrix (r ≥ mr) repeating its last row. */
@inline function halfTile<T>(
  pa: usize, sa: usize, sp: usize, pb: usize, sb: usize, kc: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, add: bool, epi: i32, bt: usize, md: usize,
): void {
  let c0 = v128.splat<i32>(0), c1 = c0, c2 = c0, c3 = c0;
  const o1: usize = mr > 1 ? sa : 0;
  const o2: usize = mr > 2 ? sa << 1 : o1;
  const o3: usize = mr > 3 ? sa * 3 : o2;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    c0 = vmadd<T>(splat<T>(pa), b0, c0);
    c1 = vmadd<T>(splat<T>(pa + o1), b0, c1);
    c2 = vmadd<T>(splat<T>(pa + o2), b0, c2);
    c3 = vmadd<T>(splat<T>(pa + o3), b0, c3);
    pa += sp; pb += sb;
  }
  storeVector<T>(ct, c0, nr, add, epi, bt, md);
  if (mr > 1) storeVector<T>(ct + ldc, c1, nr, add, epi, bt, md);
  if (mr > 2) storeVector<T>(ct + 2 * ldc, c2, nr, add, epi, bt, md);
  if (mr > 3) storeVector<T>(ct + 3 * ldc, c3, nr, add, epi, bt, md);
}


// Narrow panels (at most 4 real columns) of a product whose A is stored transposed (sa = 4,
// float32: a dW = xᵀ · dout): 4 adjacent rows of op(A) are one v128, so the tile is computed
// transposed, acc[g, j][l] = Σ_p op(A)[i + 4g + l, p] · panel[p, j] (the panel's element
// splat), only the real columns, each sum the same products in the same order as tile's lanes.

/** One real column (n = 25 = 3·8 + 1: a convolution's dW): 24 rows in 6 accumulators. */
@inline function columnTile1(pa: usize, sp: usize, pb: usize, sb: usize, kc: i32, ct: usize, ldc: usize, add: bool): void {
  let a0 = v128.splat<i32>(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load32_splat(pb);
    a0 = vmadd<f32>(v128.load(pa), b0, a0);
    a1 = vmadd<f32>(v128.load(pa, 16), b0, a1);
    a2 = vmadd<f32>(v128.load(pa, 32), b0, a2);
    a3 = vmadd<f32>(v128.load(pa, 48), b0, a3);
    a4 = vmadd<f32>(v128.load(pa, 64), b0, a4);
    a5 = vmadd<f32>(v128.load(pa, 80), b0, a5);
    pa += sp; pb += sb;
  }
  const l4 = ldc << 2;
  storeColumn(ct, ldc, a0, add); ct += l4;
  storeColumn(ct, ldc, a1, add); ct += l4;
  storeColumn(ct, ldc, a2, add); ct += l4;
  storeColumn(ct, ldc, a3, add); ct += l4;
  storeColumn(ct, ldc, a4, add); ct += l4;
  storeColumn(ct, ldc, a5, add);
}

/** Two real columns (n = 50 = 6·8 + 2, n = 10): 16 rows in 8 accumulators. */
@inline function columnTile2(pa: usize, sp: usize, pb: usize, sb: usize, kc: i32, ct: usize, ldc: usize, add: bool): void {
  let a0 = v128.splat<i32>(0), a1 = a0, a2 = a0, a3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load32_splat(pb), b1 = v128.load32_splat(pb, 4);
    let av = v128.load(pa); a0 = vmadd<f32>(av, b0, a0); e0 = vmadd<f32>(av, b1, e0);
    av = v128.load(pa, 16); a1 = vmadd<f32>(av, b0, a1); e1 = vmadd<f32>(av, b1, e1);
    av = v128.load(pa, 32); a2 = vmadd<f32>(av, b0, a2); e2 = vmadd<f32>(av, b1, e2);
    av = v128.load(pa, 48); a3 = vmadd<f32>(av, b0, a3); e3 = vmadd<f32>(av, b1, e3);
    pa += sp; pb += sb;
  }
  const l4 = ldc << 2;
  storeColumn(ct, ldc, a0, add); storeColumn(ct + 4, ldc, e0, add); ct += l4;
  storeColumn(ct, ldc, a1, add); storeColumn(ct + 4, ldc, e1, add); ct += l4;
  storeColumn(ct, ldc, a2, add); storeColumn(ct + 4, ldc, e2, add); ct += l4;
  storeColumn(ct, ldc, a3, add); storeColumn(ct + 4, ldc, e3, add);
}

/** Three or four real columns (n = 100 = 12·8 + 4): 8 rows in 8 accumulators; nr columns stored. */
@inline function columnTile4(pa: usize, sp: usize, pb: usize, sb: usize, kc: i32, ct: usize, ldc: usize, nr: i32, add: bool): void {
  let a0 = v128.splat<i32>(0), a1 = a0, e0 = a0, e1 = a0, f0 = a0, f1 = a0, g0 = a0, g1 = a0;
  for (let p = 0; p < kc; p++) {
    const av = v128.load(pa), aw = v128.load(pa, 16);
    let b = v128.load32_splat(pb); a0 = vmadd<f32>(av, b, a0); a1 = vmadd<f32>(aw, b, a1);
    b = v128.load32_splat(pb, 4); e0 = vmadd<f32>(av, b, e0); e1 = vmadd<f32>(aw, b, e1);
    b = v128.load32_splat(pb, 8); f0 = vmadd<f32>(av, b, f0); f1 = vmadd<f32>(aw, b, f1);
    b = v128.load32_splat(pb, 12); g0 = vmadd<f32>(av, b, g0); g1 = vmadd<f32>(aw, b, g1);
    pa += sp; pb += sb;
  }
  const l4 = ldc << 2;
  storeColumn(ct, ldc, a0, add); storeColumn(ct + l4, ldc, a1, add);
  storeColumn(ct + 4, ldc, e0, add); storeColumn(ct + 4 + l4, ldc, e1, add);
  storeColumn(ct + 8, ldc, f0, add); storeColumn(ct + 8 + l4, ldc, f1, add);
  if (nr > 3) { storeColumn(ct + 12, ldc, g0, add); storeColumn(ct + 12 + l4, ldc, g1, add); }
}

/** C[r, 0] = v[r] (or +=) for the 4 rows r of a column vector v, rows ldc bytes apart from ct. */
@inline function storeColumn(ct: usize, ldc: usize, v: v128, add: bool): void {
  storeElement(ct, f32x4.extract_lane(v, 0), add);
  storeElement(ct + ldc, f32x4.extract_lane(v, 1), add);
  storeElement(ct + 2 * ldc, f32x4.extract_lane(v, 2), add);
  storeElement(ct + 3 * ldc, f32x4.extract_lane(v, 3), add);
}

@inline function storeElement(ct: usize, v: f32, add: bool): void {
  store<f32>(ct, add ? load<f32>(ct) + v : v);
}

/**
 * Compute chunk `chunk` of C: a block of rows × a group of panels, blocked so that a kc×W slice
 * of a panel stays in L1 while the rows of an i block pass over it. `tmp` is 128 bytes of the
 * calling thread's own (unused now: edge tiles store their partial vectors by lanes).
 */
export function matmulCompute(job: usize, chunk: i32, tmp: usize): void {
  const flags = jobField(job, JOB_FLAGS);
  if (flags & WINDOW) windowChunk(job, chunk, tmp);
  else if (flags & FLOAT64) compute<f64>(job, chunk);
  else compute<f32>(job, chunk);
}

@inline function compute<T>(job: usize, chunk: i32): void {
  const size = sizeof<T>();
  const W = panelWidth<T>();
  const PB = panelBytes<T>();
  const a = <usize>jobField(job, JOB_A);
  const c = <usize>jobField(job, JOB_C);
  const m = jobField(job, JOB_M);
  const k = jobField(job, JOB_K);
  const n = jobField(job, JOB_N);
  const flags = jobField(job, JOB_FLAGS);
  const packed = <usize>jobField(job, JOB_PACKED);
  const KC = jobField(job, JOB_KC);
  // Rows of an i block; with 3-row tiles, a multiple of 24 rows (whole 3-, 6-, 8-, 16- and 24-row tiles).
  const MC = W == 12 ? imax(24, jobField(job, JOB_MC) / 24 * 24) : jobField(job, JOB_MC);
  const transA = (flags & 1) != 0;
  const accumulate = (flags & 4) != 0;
  // op(A)[i, p] sits at a + i·sa + p·sp.
  const sa: usize = transA ? size : <usize>k * size;
  const sp: usize = transA ? <usize>m * size : size;
  const ldc = <usize>n * size;
  const panels = (n + W - 1) / W;
  const tiles = (m + 3) >> 2;
  const rowChunks = jobField(job, JOB_ROW_CHUNKS);
  const panelChunks = jobField(job, JOB_PANEL_CHUNKS);
  const rc = chunk / panelChunks;
  const qc = chunk % panelChunks;
  const r0 = imin(m, part(rc, tiles, rowChunks) << 2);
  const r1 = imin(m, part(rc + 1, tiles, rowChunks) << 2);
  const q0 = part(qc, panels, panelChunks);
  const q1 = part(qc + 1, panels, panelChunks);

  // The fused output (BIAS, RELU, MASK), applied when the last k block is stored.
  const fused = flags & (BIAS | RELU | MASK | ROW_BIAS);
  const bias = <usize>jobField(job, JOB_BIAS);
  const md: usize = <usize>jobField(job, JOB_MASK) - c;
  const byBlock = (flags & PACK_BY_BLOCK) != 0;
  const ks: usize = byBlock ? <usize>KC : <usize>k; // rows between panels in packed
  const direct = directB<T>(job); // full panels read from B, its rows ldc bytes apart (as C's)
  const b = <usize>jobField(job, JOB_B);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = imin(KC, k - pc);
    const add = accumulate || pc > 0;
    const epi = pc + kc >= k ? fused : 0;
    if (byBlock) packPanels<T>(job, imax(q0, firstPacked<T>(job, n)), q1, pc, pc + kc, KC);
    for (let ic = r0; ic < r1; ic += MC) {
      const ie = imin(ic + MC, r1);
      for (let q = q0; q < q1; q++) {
        const j0 = q * W;
        const nr = imin(W, n - j0);
        const pb = packed + (<usize>q * ks + (byBlock ? 0 : <usize>pc)) * PB;
        const bt = bias + <usize>j0 * size;
        // The panel as the tiles read it: packed (sb = PB bytes a row), or B itself (DIRECT_B)
        const pd = direct ? b + (<usize>pc * <usize>n + <usize>j0) * size : pb;
        const sb: usize = direct ? ldc : PB;
        let i = ic;
        if (W == 12 && nr > 8) {
          for (; i < ie; i += 3) {
            // The last 1 or 2 rows of the chunk, when C is written (not added to): a full tile
            // ending there instead, whose first rows recompute and store again the same values
            // (same products, same order) rather than a tile of repeated rows.
            const i0 = ie - i < 3 && !add && ie - r0 >= 3 ? ie - 3 : i;
            const pa = a + <usize>i0 * sa + <usize>pc * sp;
            const ct = c + <usize>i0 * ldc + <usize>j0 * size;
            tile3x12(pa, sa, sp, pd, sb, kc, ct, ldc, imin(3, ie - i0), nr, add, epi, fused & ROW_BIAS ? bias + <usize>i0 * size : bt, md);
          }
          continue;
        }
        if (nr > 16 / <i32>size) {
          for (; i < ie; i += 4) {
            const pa = a + <usize>i * sa + <usize>pc * sp;
            const ct = c + <usize>i * ldc + <usize>j0 * size;
            tile<T>(pa, sa, sp, pd, sb, kc, ct, ldc, imin(4, ie - i), nr, add, epi, bt, md);
          }
          continue;
        }
        if (dotPanel<T>(nr, transA)) {
          // 1 or 2 columns packed column by column (pack): dot products along A's rows.
          const pa0 = a + <usize>pc * sp;
          const c0 = c + <usize>j0 * size;
          const cs = ks << 2;
          const pcol = packed + <usize>q * ks * PB + (byBlock ? 0 : <usize>pc << 2); // depth pc of column 0
          const rows = nr == 2 ? 4 : 6;
          for (; i < ie; i += rows) {
            dotTile(pa0 + <usize>i * sa, sa, pcol, cs, kc, imin(rows, ie - i), nr, c0 + <usize>i * ldc, ldc, add, epi, bt, md);
          }
          continue;
        }
        // A narrow panel (nr ≤ 16 bytes of columns): transposed column tiles where A is stored transposed, then
        // 6-row half tiles for the rest.
        if (sizeof<T>() == 4 && sa == size && epi == 0) {
          const pa0 = a + <usize>pc * sp;
          const c0 = c + <usize>j0 * size;
          if (nr == 1) for (; i + 24 <= ie; i += 24) columnTile1(pa0 + <usize>i * sa, sp, pd, sb, kc, c0 + <usize>i * ldc, ldc, add);
          else if (nr == 2) for (; i + 16 <= ie; i += 16) columnTile2(pa0 + <usize>i * sa, sp, pd, sb, kc, c0 + <usize>i * ldc, ldc, add);
          else for (; i + 8 <= ie; i += 8) columnTile4(pa0 + <usize>i * sa, sp, pd, sb, kc, c0 + <usize>i * ldc, ldc, nr, add);
        }
        for (; i + 6 <= ie; i += 6) {
          const pa = a + <usize>i * sa + <usize>pc * sp;
          halfTile6<T>(pa, sa, sp, pd, sb, kc, c + <usize>i * ldc + <usize>j0 * size, ldc, nr, add, epi, bt, md);
        }
        for (; i < ie; i += 4) {
          const pa = a + <usize>i * sa + <usize>pc * sp;
          halfTile<T>(pa, sa, sp, pd, sb, kc, c + <usize>i * ldc + <usize>j0 * size, ldc, imin(4, ie - i), nr, add, epi, bt, md);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise and row kernels, float32. Vector loops of 4 floats, then a scalar tail.
// ---------------------------------------------------------------------------------------------

/** dst[j] = p[j] + q[j] for j < count: v128 by v128, then a scalar tail. */
@inline function addFloats(dst: usize, p: usize, q: usize, count: i32): void {
  const v = count & ~3;
  let j = 0;
  for (; j < v; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, f32x4.add(v128.load(p + o), v128.load(q + o)));
  }
  for (; j < count; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(p + o) + load<f32>(q + o));
  }
}

/** out[i, j] = x[i, j] + bias[j]. */
export function addBias(x: usize, bias: usize, out: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    addFloats(out, x, bias, cols);
    x += ld;
    out += ld;
  }
}

/** out[j] = Σ_i x[i, j]. */
export function sumColumns(x: usize, out: usize, rows: i32, cols: i32): void {
  sumColumnRange(x, out, rows, cols, 0, cols);
}

/** Columns per unit of sumColumns' window job (WIN_SUM_COLUMNS): the threads take ranges of whole units. */
const SUM_BLOCK: i32 = 1024;

/**
 * out[j] for j0 ≤ j < j1: each column's sum in row order, as sumColumns always did, so any cut of
 * the columns gives the same bits. The rows are read in order, each range in one pass (in blocks
 * of columns whose sums stay in L1, a convolution's db from memory ran 1.3× slower: each row's
 * segment then starts a new stream).
 */
function sumColumnRange(x: usize, out: usize, rows: i32, cols: i32, j0: i32, j1: i32): void {
  const ld = <usize>cols << 2;
  const sums = out + (<usize>j0 << 2);
  memory.fill(sums, 0, <usize>(j1 - j0) << 2);
  let row = x + (<usize>j0 << 2);
  for (let i = 0; i < rows; i++) {
    addFloats(sums, sums, row, j1 - j0);
    row += ld;
  }
}

/** out = x > 0 ? x : 0 (NaN and −0 give 0, as the reference). */
export function relu(x: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const v = n & ~3;
  let i = 0;
  for (; i < v; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    v128.store(out + o, v128.and(xv, f32x4.gt(xv, zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xv = load<f32>(x + o);
    store<f32>(out + o, xv > 0 ? xv : 0);
  }
}

/** dx = out > 0 ? dout : 0. */
export function reluBackward(dout: usize, out: usize, dx: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const v = n & ~3;
  let i = 0;
  for (; i < v; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dout + o), f32x4.gt(v128.load(out + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(out + o) > 0 ? load<f32>(dout + o) : 0);
  }
}

/** out = 1 / (1 + exp(−x)): four at a time (exp4 has Mathf.exp's bits), then the last n % 4. */
export function sigmoid(x: usize, out: usize, n: i32): void {
  const one = f32x4.splat(1);
  const v = n & ~3;
  let i = 0;
  for (; i < v; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(v128.load(x + o))))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>1 / (<f32>1 + Mathf.exp(-load<f32>(x + o))));
  }
}

/** dx = dout · out · (1 − out). */
export function sigmoidBackward(dout: usize, out: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  const v = n & ~3;
  let i = 0;
  for (; i < v; i += 4) {
    const o = <usize>i << 2;
    const y = v128.load(out + o);
    v128.store(dx + o, f32x4.mul(f32x4.mul(v128.load(dout + o), f32x4.sub(one, y)), y));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const y = load<f32>(out + o);
    store<f32>(dx + o, load<f32>(dout + o) * (1 - y) * y);
  }
}

/**
 * Row-wise softmax: out[i, j] = exp(x[i, j] − max_j x[i, :]) / Σ_j exp(x[i, j] − max), in three
 * passes over the whole matrix: x − its row's max, exp of every element (four at a time by exp4,
 * which has Mathf.exp's bits), then each row divided by its sum (in f64, in column order, as the
 * reference sums it). out may be x.
 */
export function softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  const v = cols & ~3;
  let xr = x, yr = out;
  for (let i = 0; i < rows; i++) {
    let max = -Infinity as f32;
    for (let j = 0; j < cols; j++) {
      const xv = load<f32>(xr + (<usize>j << 2));
      if (xv > max) max = xv;
    }
    const mv = f32x4.splat(max); // subtracting the max keeps exp ≤ 1
    let j = 0;
    for (; j < v; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.sub(v128.load(xr + o), mv));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(yr + o, load<f32>(xr + o) - max);
    }
    xr += ld;
    yr += ld;
  }
  const n = rows * cols;
  let e = 0;
  for (; e + 4 <= n; e += 4) {
    const o = <usize>e << 2;
    v128.store(out + o, exp4(v128.load(out + o)));
  }
  for (; e < n; e++) {
    const o = <usize>e << 2;
    store<f32>(out + o, Mathf.exp(load<f32>(out + o)));
  }
  yr = out;
  for (let i = 0; i < rows; i++) {
    let sum: f64 = 0;
    for (let j = 0; j < cols; j++) sum += <f64>load<f32>(yr + (<usize>j << 2));
    const inv = <f32>(1 / sum);
    const iv = f32x4.splat(inv);
    let j = 0;
    for (; j < v; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.mul(v128.load(yr + o), iv));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(yr + o, load<f32>(yr + o) * inv);
    }
    yr += ld;
  }
}

/** −(1/rows) Σ_i log(y[i, t_i] + 1e-7); labels are i32 indices already checked to lie in 0..cols−1. */
export function crossEntropyLabels(y: usize, labels: usize, rows: i32, cols: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < rows; i++) {
    const t = load<i32>(labels + (<usize>i << 2));
    const p = <f64>load<f32>(y + ((<usize>i * <usize>cols + <usize>t) << 2));
    s += Math.log(p + 1e-7);
  }
  return -s / <f64>rows;
}

/** dx = (y − onehot(t)) · scale. */
export function softmaxLossBackward(y: usize, labels: usize, dx: usize, rows: i32, cols: i32, scale: f64): void {
  const n = rows * cols;
  const sv = f32x4.splat(<f32>scale);
  const v = n & ~3;
  let i = 0;
  for (; i < v; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.mul(v128.load(y + o), sv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, <f32>(<f64>load<f32>(y + o) * scale));
  }
  for (let r = 0; r < rows; r++) {
    const o = (<usize>r * <usize>cols + <usize>load<i32>(labels + (<usize>r << 2))) << 2;
    store<f32>(dx + o, <f32>((<f64>load<f32>(y + o) - 1) * scale));
  }
}

/**
 * softmax, crossEntropyLabels and softmaxLossBackward in one call: the softmax of every row,
 * then row by row its log term and its dx = (y − onehot(t)) · scale while it is in L1. Returns
 * the mean loss. Bit-identical to the three kernels: the same operations on each element (the
 * elements that softmaxLossBackward's vector loop covers, index < rows·cols & ~3, multiply in
 * f32 by f32(scale); the tail and the label entries in f64), and the loss summed in the same
 * order. dx may be y (each row's y[t] is read before its row is written).
 */
export function softmaxCrossEntropy(x: usize, labels: usize, y: usize, dx: usize, rows: i32, cols: i32, scale: f64): f64 {
  softmax(x, y, rows, cols);
  const ld = <usize>cols << 2;
  const vectorEnd = (rows * cols) & ~3;
  const sf = <f32>scale;
  const sv = f32x4.splat(sf);
  let s: f64 = 0;
  for (let i = 0; i < rows; i++) {
    const t = load<i32>(labels + (<usize>i << 2));
    const yt = load<f32>(y + (<usize>t << 2));
    s += Math.log(<f64>yt + 1e-7);
    const f32End = max(0, min(cols, vectorEnd - i * cols)); // this row's part of the vector loop
    let j = 0;
    for (; j + 4 <= f32End; j += 4) {
      const o = <usize>j << 2;
      v128.store(dx + o, f32x4.mul(v128.load(y + o), sv));
    }
    for (; j < f32End; j++) {
      const o = <usize>j << 2;
      store<f32>(dx + o, load<f32>(y + o) * sf);
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(dx + o, <f32>(<f64>load<f32>(y + o) * scale));
    }
    store<f32>(dx + (<usize>t << 2), <f32>((<f64>yt - 1) * scale));
    y += ld;
    dx += ld;
  }
  return -s / <f64>rows;
}

/** out[i] = the first j with the largest x[i, j]. */
export function argmaxRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bv = load<f32>(x);
    for (let j = 1; j < cols; j++) {
      const xv = load<f32>(x + (<usize>j << 2));
      if (xv > bv) {
        bv = xv;
        best = j;
      }
    }
    store<i32>(out + (<usize>i << 2), best);
    x += ld;
  }
}

/** y += alpha · x. */
export function axpy(alpha: f32, x: usize, y: usize, n: i32): void {
  const av = f32x4.splat(alpha);
  const v = n & ~3;
  let i = 0;
  for (; i < v; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

// ---------------------------------------------------------------------------------------------
// Window kernels of convolution and pooling, float32, with the loops of the reference
// (src/kernels/reference/JsBackend.ts) so that results match it bit for bit. Geometry:
// x is (N, C, H, W); windows fh×fw move by `stride` over x padded by `pad`, giving outH×outW.
// Inside one window row the pixels are adjacent whatever the stride, so a window row is one
// contiguous run of x (clipped by the padding), copied or accumulated by v128 then a tail.
// ---------------------------------------------------------------------------------------------

@inline function imax(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

/** Copies `count` floats from src to dst: v128 by v128, then a scalar tail. */
@inline function copyFloats(dst: usize, src: usize, count: i32): void {
  let j = 0;
  for (; j + 4 <= count; j += 4) {
    const o = <usize>j << 2;
    v128.store(dst + o, v128.load(src + o));
  }
  for (; j < count; j++) {
    const o = <usize>j << 2;
    store<f32>(dst + o, load<f32>(src + o));
  }
}

/** col[(n, oy, ox), (c, ky, kx)] = x[n, c, oy·stride + ky − pad, ox·stride + kx − pad], 0 in the padding. */
export function im2col(
  x: usize, col: usize, batch: i32, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32,
): void {
  im2colRows(x, col, channels, H, W, fh, fw, stride, pad, outH, outW, 0, batch * outH);
}

/** im2col for the window rows (n, oy) = r of r0 ≤ r < r1 (r = n·outH + oy). */
function im2colRows(
  x: usize, col: usize, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32, r0: i32, r1: i32,
): void {
  const plane = <usize>H * <usize>W << 2;
  const rowBytes = <usize>fw << 2;
  let o = col + <usize>r0 * <usize>outW * <usize>channels * <usize>fh * rowBytes;
  for (let r = r0; r < r1; r++) {
    const n = r / outH;
    const oy = r - n * outH;
    const image = x + <usize>n * <usize>channels * plane;
    {
      const y0 = oy * stride - pad;
      // Windows 4 to 8 wide whose rows all lie in the image: each row is two v128 copies, the
      // second overlapping the first where fw < 8 (the same floats written twice).
      const rowsInside = y0 >= 0 && y0 + fh <= H && fw >= 4 && fw <= 8;
      const last = <usize>(fw - 4) << 2;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * stride - pad;
        // The window's columns inside the image: kx in [k0, k1).
        const k0 = imin(fw, imax(0, -x0));
        const k1 = imax(k0, imin(fw, W - x0));
        const inside = k0 == 0 && k1 == fw;
        if (rowsInside && inside) {
          let p = image + ((<usize>y0 * <usize>W + <usize>x0) << 2);
          const ld = <usize>W << 2;
          for (let c = 0; c < channels; c++) {
            let src = p;
            for (let ky = 0; ky < fh; ky++) {
              v128.store(o, v128.load(src));
              v128.store(o + last, v128.load(src + last));
              src += ld;
              o += rowBytes;
            }
            p += plane;
          }
          continue;
        }
        let p = image;
        for (let c = 0; c < channels; c++) {
          for (let ky = 0; ky < fh; ky++) {
            const y = y0 + ky;
            if (y < 0 || y >= H) {
              memory.fill(o, 0, rowBytes); // a padding row
            } else {
              const src = p + ((<usize>y * <usize>W + <usize>(x0 + k0)) << 2);
              if (inside) {
                copyFloats(o, src, fw);
              } else {
                for (let kx = 0; kx < k0; kx++) store<f32>(o + (<usize>kx << 2), 0);
                copyFloats(o + (<usize>k0 << 2), src, k1 - k0);
                for (let kx = k1; kx < fw; kx++) store<f32>(o + (<usize>kx << 2), 0);
              }
            }
            o += rowBytes;
          }
          p += plane;
        }
      }
    }
  }
}

/**
 * Each image's im2col transposed, col_nᵀ: colT[n, (c, ky, kx), (oy, ox)] = x[n, c, oy·stride + ky − pad,
 * ox·stride + kx − pad], 0 in the padding; (C·fh·fw) × (outH·outW) per image. With stride 1 a row
 * of windows reads one run of the image row: a vector copy (the book's im2col writes each window's
 * fw floats apart instead).
 */
export function im2colT(
  x: usize, colT: usize, batch: i32, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32,
): void {
  im2colTImages(x, colT, channels, H, W, fh, fw, stride, pad, outH, outW, 0, batch);
}

/** im2colT for the images n0 ≤ n < n1. */
function im2colTImages(
  x: usize, colT: usize, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32, n0: i32, n1: i32,
): void {
  const plane = <usize>H * <usize>W << 2;
  const rowBytes = <usize>outW << 2;
  let o = colT + <usize>n0 * <usize>channels * <usize>fh * <usize>fw * <usize>outH * rowBytes;
  for (let n = n0; n < n1; n++) {
    let p = x + <usize>n * <usize>channels * plane; // plane c of image n
    for (let c = 0; c < channels; c++) {
      for (let ky = 0; ky < fh; ky++) {
        for (let kx = 0; kx < fw; kx++) {
          // the windows' columns inside the image: ox in [a, b), x0 = ox·stride + kx − pad in [0, W)
          const a = imin(outW, kx >= pad ? 0 : (pad - kx + stride - 1) / stride);
          const b = imax(a, imin(outW, W + pad - kx > 0 ? (W + pad - kx + stride - 1) / stride : 0));
          for (let oy = 0; oy < outH; oy++) {
            const y = oy * stride + ky - pad;
            if (y < 0 || y >= H) {
              memory.fill(o, 0, rowBytes); // a padding row
            } else {
              const src = p + (<usize>y * <usize>W << 2) + (<usize>(a * stride + kx - pad) << 2);
              for (let ox = 0; ox < a; ox++) store<f32>(o + (<usize>ox << 2), 0);
              if (stride == 1) {
                copyFloats(o + (<usize>a << 2), src, b - a);
              } else {
                for (let ox = a; ox < b; ox++) store<f32>(o + (<usize>ox << 2), load<f32>(src + (<usize>((ox - a) * stride) << 2)));
              }
              for (let ox = b; ox < outW; ox++) store<f32>(o + (<usize>ox << 2), 0);
            }
            o += rowBytes;
          }
        }
      }
      p += plane;
    }
  }
}

/**
 * x = 0, then x[pixel] += col[(n, oy, ox), (c, ky, kx)] for every col element inside the image,
 * visiting col in order so that each pixel sums its terms in the reference's order.
 */
export function col2im(
  col: usize, x: usize, batch: i32, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32,
): void {
  col2imImages(col, x, channels, H, W, fh, fw, stride, pad, outH, outW, 0, batch);
}

/** col2im for the images n0 ≤ n < n1 (images never share a pixel). */
function col2imImages(
  col: usize, x: usize, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32, n0: i32, n1: i32,
): void {
  const plane = <usize>H * <usize>W << 2;
  memory.fill(x + <usize>n0 * <usize>channels * plane, 0, <usize>(n1 - n0) * <usize>channels * plane);
  const rowBytes = <usize>fw << 2;
  let o = col + <usize>n0 * <usize>outH * <usize>outW * <usize>channels * <usize>fh * rowBytes;
  for (let n = n0; n < n1; n++) {
    const image = x + <usize>n * <usize>channels * plane;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * stride - pad;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * stride - pad;
        const k0 = imin(fw, imax(0, -x0));
        const k1 = imax(k0, imin(fw, W - x0));
        const count = k1 - k0;
        let p = image;
        for (let c = 0; c < channels; c++) {
          for (let ky = 0; ky < fh; ky++) {
            const y = y0 + ky;
            if (y >= 0 && y < H) {
              const dst = p + ((<usize>y * <usize>W + <usize>(x0 + k0)) << 2);
              const src = o + (<usize>k0 << 2);
              let j = 0;
              for (; j + 4 <= count; j += 4) {
                const b = <usize>j << 2;
                v128.store(dst + b, f32x4.add(v128.load(dst + b), v128.load(src + b)));
              }
              for (; j < count; j++) {
                const b = <usize>j << 2;
                store<f32>(dst + b, load<f32>(dst + b) + load<f32>(src + b));
              }
            }
            o += rowBytes;
          }
          p += plane;
        }
      }
    }
  }
}

/** out[b, j, i] = x[b, i, j] for `batch` rows×cols matrices, by 4×4 blocks transposed in registers. */
export function transposeBatch(x: usize, out: usize, batch: i32, rows: i32, cols: i32): void {
  transposeMatrices(x, out, rows, cols, 0, batch);
}

/** transposeBatch for the matrices b0 ≤ b < b1. */
function transposeMatrices(x: usize, out: usize, rows: i32, cols: i32, b0: i32, b1: i32): void {
  const ldx = <usize>cols << 2; // a row of x
  const ldo = <usize>rows << 2; // a row of out
  const matrix = <usize>rows * <usize>cols << 2;
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  for (let b = b0; b < b1; b++) {
    const xb = x + <usize>b * matrix;
    const ob = out + <usize>b * matrix;
    for (let i = 0; i < r4; i += 4) {
      const xi = xb + <usize>i * ldx;
      const oi = ob + (<usize>i << 2);
      for (let j = 0; j < c4; j += 4) {
        const s = xi + (<usize>j << 2);
        const r0 = v128.load(s);
        const r1 = v128.load(s + ldx);
        const r2 = v128.load(s + (ldx << 1));
        const r3 = v128.load(s + ldx * 3);
        const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
        const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
        const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
        const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
        const d = oi + <usize>j * ldo;
        v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5)); // a0 b0 c0 d0
        v128.store(d + ldo, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
        v128.store(d + (ldo << 1), i32x4.shuffle(t1, t3, 0, 1, 4, 5));
        v128.store(d + ldo * 3, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
      }
      // the last cols % 4 columns of these 4 rows
      for (let j = c4; j < cols; j++) {
        const s = xi + (<usize>j << 2);
        const d = oi + <usize>j * ldo;
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + ldx), 4);
        store<f32>(d, load<f32>(s + (ldx << 1)), 8);
        store<f32>(d, load<f32>(s + ldx * 3), 12);
      }
    }
    // the last rows % 4 rows
    for (let i = r4; i < rows; i++) {
      const xi = xb + <usize>i * ldx;
      const oi = ob + (<usize>i << 2);
      for (let j = 0; j < cols; j++) store<f32>(oi + <usize>j * ldo, load<f32>(xi + (<usize>j << 2)));
    }
  }
}

/**
 * Max pooling: out = the window's maximum, argMax = its index in x (−1 in the padding, which
 * counts as 0). The first maximum wins ties; the first NaN wins and stays, as the reference:
 * a candidate v replaces the best when v > best, or when v is NaN and the best is not.
 */
export function maxPoolForward(
  x: usize, out: usize, argMax: usize, batch: i32, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32,
): void {
  maxPoolPlanes(x, out, argMax, H, W, fh, fw, stride, pad, outH, outW, 0, batch * channels);
}

/** maxPoolForward for the planes (n, c) = plane of plane0 ≤ plane < plane1. */
function maxPoolPlanes(
  x: usize, out: usize, argMax: usize, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32, plane0: i32, plane1: i32,
): void {
  // The book's pooling, 2×2 windows with stride 2 all inside the image: 4 outputs at a time.
  const fast = fh == 2 && fw == 2 && stride == 2 && pad == 0 && 2 * outH <= H && 2 * outW <= W;
  const ow4 = fast ? outW & ~3 : 0;
  let o: i32 = plane0 * outH * outW;
  for (let plane = plane0; plane < plane1; plane++) {
    const p0 = plane * H * W;
    for (let oy = 0; oy < outH; oy++) {
      let ox = 0;
      if (ow4 > 0) {
        const top = p0 + 2 * oy * W; // index of the window row y = 2·oy
        const steps = i32x4(0, 2, 4, 6);
        for (; ox < ow4; ox += 4) {
          const i00 = top + 2 * ox;
          const a = x + (<usize>i00 << 2);
          const b = a + (<usize>W << 2);
          const u0 = v128.load(a), u1 = v128.load(a, 16);
          const l0 = v128.load(b), l1 = v128.load(b, 16);
          // window cells in row-major order: (top, left), (top, right), (bottom, left), (bottom, right)
          let best = i32x4.shuffle(u0, u1, 0, 2, 4, 6);
          let arg = i32x4.add(i32x4.splat(i00), steps);
          const argTR = i32x4.add(arg, i32x4.splat(1));
          const argBL = i32x4.add(arg, i32x4.splat(W));
          const argBR = i32x4.add(argBL, i32x4.splat(1));
          let v = i32x4.shuffle(u0, u1, 1, 3, 5, 7);
          let take = v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
          best = v128.bitselect(v, best, take);
          arg = v128.bitselect(argTR, arg, take);
          v = i32x4.shuffle(l0, l1, 0, 2, 4, 6);
          take = v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
          best = v128.bitselect(v, best, take);
          arg = v128.bitselect(argBL, arg, take);
          v = i32x4.shuffle(l0, l1, 1, 3, 5, 7);
          take = v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
          best = v128.bitselect(v, best, take);
          arg = v128.bitselect(argBR, arg, take);
          v128.store(out + (<usize>(o + ox) << 2), best);
          v128.store(argMax + (<usize>(o + ox) << 2), arg);
        }
      }
      for (; ox < outW; ox++) {
        let best: f32 = 0;
        let arg: i32 = -1;
        let first = true;
        for (let ky = 0; ky < fh; ky++) {
          const y = oy * stride - pad + ky;
          for (let kx = 0; kx < fw; kx++) {
            const xx = ox * stride - pad + kx;
            const inside = y >= 0 && y < H && xx >= 0 && xx < W;
            const i = inside ? p0 + y * W + xx : -1;
            const v: f32 = inside ? load<f32>(x + (<usize>i << 2)) : 0; // padding is 0
            if (first || v > best || (v != v && best == best)) {
              best = v;
              arg = i;
              first = false;
            }
          }
        }
        store<f32>(out + (<usize>(o + ox) << 2), best);
        store<i32>(argMax + (<usize>(o + ox) << 2), arg);
      }
      o += outW;
    }
  }
}

/**
 * dx = 0, then dx[argMax[i]] += dout[i] in order of i, for every i whose argMax lies in
 * 0..size−1 (−1, a padding cell, is skipped, as is any index outside dx).
 */
export function maxPoolBackward(
  dout: usize, argMax: usize, dx: usize, mask: usize, batch: i32, channels: i32, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32,
): void {
  const planes = batch * channels;
  if (!maxPoolBackwardPlanes(dout, argMax, dx, mask, H, W, fh, fw, stride, pad, outH, outW, 0, planes)) {
    // an arg max that maxPoolForward would not have given: the plain scatter over all of dx
    maxPoolBackwardRange(dout, argMax, dx, mask, 0, planes * outH * outW, 0, planes * H * W);
  }
}

/**
 * maxPoolBackward for the planes (n, c) = q of q0 ≤ q < q1 (q = n·C + c). Returns false when an
 * arg max lies outside its plane (or, on the book's 2×2 path, outside its window): dx is then
 * not the reference's, and the caller redoes it with the plain scatter.
 */
function maxPoolBackwardPlanes(
  dout: usize, argMax: usize, dx: usize, mask: usize, H: i32, W: i32,
  fh: i32, fw: i32, stride: i32, pad: i32, outH: i32, outW: i32, q0: i32, q1: i32,
): bool {
  const outs = outH * outW;
  // The book's pooling, 2×2 windows with stride 2 tiling the whole image: every dx element is
  // written once, in place of the zero fill and the scatter.
  if (!(fh == 2 && fw == 2 && stride == 2 && pad == 0 && 2 * outH == H && 2 * outW == W)) {
    return maxPoolBackwardRange(dout, argMax, dx, mask, q0 * outs, q1 * outs, q0 * H * W, q1 * H * W);
  }
  let found = v128.splat<i32>(-1); // lanes stay all ones while every arg max lies in its window
  let foundTail = true;
  const zero = f32x4.splat(0);
  const ow4 = outW & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  let o: i32 = q0 * outs;
  for (let plane = q0; plane < q1; plane++) {
    for (let oy = 0; oy < outH; oy++) {
      const top = plane * H * W + 2 * oy * W; // index of the window row y = 2·oy
      let ox = 0;
      for (; ox < ow4; ox += 4) {
        const dv = v128.load(dout + (<usize>(o + ox) << 2));
        const kv = v128.load(argMax + (<usize>(o + ox) << 2));
        // dx columns 2·ox … 2·ox + 7 of both rows: outputs ox, ox, ox + 1, ox + 1 | ox + 2, …, ox + 3
        const vl = i32x4.shuffle(dv, dv, 0, 0, 1, 1), vr = i32x4.shuffle(dv, dv, 2, 2, 3, 3);
        const kl = i32x4.shuffle(kv, kv, 0, 0, 1, 1), kr = i32x4.shuffle(kv, kv, 2, 2, 3, 3);
        const q = i32x4.add(i32x4.splat(top + 2 * ox), lanes);
        const l = v128.or(
          poolScatter4(dx, mask, top + 2 * ox, q, vl, kl, zero),
          poolScatter4(dx, mask, top + W + 2 * ox, i32x4.add(q, i32x4.splat(W)), vl, kl, zero));
        const r = v128.or(
          poolScatter4(dx, mask, top + 2 * ox + 4, i32x4.add(q, i32x4.splat(4)), vr, kr, zero),
          poolScatter4(dx, mask, top + W + 2 * ox + 4, i32x4.add(q, i32x4.splat(W + 4)), vr, kr, zero));
        // lanes (0, 1) and (2, 3) are one output's two columns: found where either matched
        const both = i32x4.shuffle(l, r, 0, 2, 4, 6);
        found = v128.and(found, v128.or(both, i32x4.shuffle(l, r, 1, 3, 5, 7)));
      }
      for (; ox < outW; ox++) {
        const v = load<f32>(dout + (<usize>(o + ox) << 2));
        const k = load<i32>(argMax + (<usize>(o + ox) << 2));
        let hit = false;
        for (let cell = 0; cell < 4; cell++) {
          const e = top + (cell >> 1) * W + 2 * ox + (cell & 1);
          hit = hit || e == k;
          const keep = e == k && (mask == 0 || load<f32>(mask + (<usize>e << 2)) > 0);
          store<f32>(dx + (<usize>e << 2), <f32>0 + (keep ? v : <f32>0));
        }
        foundTail = foundTail && hit;
      }
      o += outW;
    }
  }
  return foundTail && i32x4.all_true(found);
}

/**
 * dx[e … e + 3] = 0 + (q == k and mask > 0 ? v : 0), lane by lane: the zero fill, the scatter's
 * single addition to +0 (so a −0 becomes +0, as there), and the ReLU's mask. Returns q == k.
 */
@inline function poolScatter4(dx: usize, mask: usize, e: i32, q: v128, v: v128, k: v128, zero: v128): v128 {
  const hit = i32x4.eq(q, k);
  const keep = mask != 0 ? v128.and(hit, f32x4.gt(v128.load(mask + (<usize>e << 2)), zero)) : hit;
  v128.store(dx + (<usize>e << 2), f32x4.add(zero, v128.and(v, keep)));
  return hit;
}

/**
 * dx[e0..e1) = 0, then dx[argMax[i]] += dout[i] for the outputs i0 ≤ i < i1 whose maximum lies
 * in e0..e1 (a plane's outputs keep their maxima in its plane), and, with a mask (a ReLU's
 * output laid out as dx), only where mask > 0: reluBackward of the sum, addend by addend.
 */
function maxPoolBackwardRange(dout: usize, argMax: usize, dx: usize, mask: usize, i0: i32, i1: i32, e0: i32, e1: i32): bool {
  memory.fill(dx + (<usize>e0 << 2), 0, <usize>(e1 - e0) << 2);
  let stray = false; // an arg max outside e0..e1 (not padding's −1)
  for (let i = i0; i < i1; i++) {
    const k = load<i32>(argMax + (<usize>i << 2));
    stray = stray || (k != -1 && <u32>(k - e0) >= <u32>(e1 - e0));
    if (<u32>(k - e0) < <u32>(e1 - e0)) {
      const d = dx + (<usize>k << 2);
      let v = load<f32>(dout + (<usize>i << 2));
      // masked: add +0 (without a branch: the mask is as random as the data), leaving dx[k] = +0
      // as reluBackward would, since a pixel's addends are all masked or none
      if (mask != 0) v = select<f32>(v, 0, load<f32>(mask + (<usize>k << 2)) > 0);
      store<f32>(d, load<f32>(d) + v);
    }
  }
  return !stray;
}

/**
 * out[i, :] = src[index[i], :] for `count` rows of `cols` floats; indices already checked.
 * 16 rows at a time (then 8, 4, 1), a 64-byte line of each in turn: rows drawn at random from
 * a set larger than the caches wait on memory, and this keeps a miss of each in flight where a
 * copy row after row waits on one row's (a Fashion-MNIST batch of 100 rows on 1 thread: 45 µs
 * row by row, 34 µs 4 rows at a time, 29 µs 8 at a time; 16 at a time took 0.91 of 8's time,
 * 24.6 against 27.0 µs, in one process. Unrolled: a loop over the rows inside the loop over the
 * lines took 1.3× 8's time.)
 */
export function gatherRows(src: usize, index: usize, out: usize, count: i32, cols: i32): void {
  const bytes = <usize>cols << 2;
  const lines = bytes & ~(<usize>63); // whole lines, then each row's last bytes
  let i = 0;
  for (; i + 16 <= count; i += 16) {
    gather16(src, index + (<usize>i << 2), out, bytes, lines);
    out += 16 * bytes;
  }
  if (i + 8 <= count) {
    gather8(src, index + (<usize>i << 2), out, bytes, lines);
    out += 8 * bytes;
    i += 8;
  }
  if (i + 4 <= count) {
    gather4(src, index + (<usize>i << 2), out, bytes, lines);
    out += 4 * bytes;
    i += 4;
  }
  for (; i < count; i++) {
    memory.copy(out, src + <usize>load<i32>(index + (<usize>i << 2)) * bytes, bytes);
    out += bytes;
  }
}
/** Row r of the index list at `ix` (4 bytes each), as an address in src. */
@inline function rowAt(src: usize, ix: usize, r: i32, bytes: usize): usize {
  return src + <usize>load<i32>(ix + (<usize>r << 2)) * bytes;
}

/** gatherRows for the 8 rows listed at `ix`, into out: their lines in turn, then their rests. */
@inline function gather8(src: usize, ix: usize, out: usize, bytes: usize, lines: usize): void {
  const s0 = rowAt(src, ix, 0, bytes), s1 = rowAt(src, ix, 1, bytes), s2 = rowAt(src, ix, 2, bytes), s3 = rowAt(src, ix, 3, bytes);
  const s4 = rowAt(src, ix, 4, bytes), s5 = rowAt(src, ix, 5, bytes), s6 = rowAt(src, ix, 6, bytes), s7 = rowAt(src, ix, 7, bytes);
  for (let o: usize = 0; o < lines; o += 64) line8(s0, s1, s2, s3, s4, s5, s6, s7, o, out + o, bytes);
  if (lines < bytes) rests8(s0, s1, s2, s3, s4, s5, s6, s7, lines, out + lines, bytes);
}

/** The same for 16 rows: a line of each of the 16 in turn (unrolled: a loop over the rows was slower). */
@inline function gather16(src: usize, ix: usize, out: usize, bytes: usize, lines: usize): void {
  const s0 = rowAt(src, ix, 0, bytes), s1 = rowAt(src, ix, 1, bytes), s2 = rowAt(src, ix, 2, bytes), s3 = rowAt(src, ix, 3, bytes);
  const s4 = rowAt(src, ix, 4, bytes), s5 = rowAt(src, ix, 5, bytes), s6 = rowAt(src, ix, 6, bytes), s7 = rowAt(src, ix, 7, bytes);
  const s8 = rowAt(src, ix, 8, bytes), s9 = rowAt(src, ix, 9, bytes), s10 = rowAt(src, ix, 10, bytes), s11 = rowAt(src, ix, 11, bytes);
  const s12 = rowAt(src, ix, 12, bytes), s13 = rowAt(src, ix, 13, bytes), s14 = rowAt(src, ix, 14, bytes), s15 = rowAt(src, ix, 15, bytes);
  const half = 8 * bytes;
  for (let o: usize = 0; o < lines; o += 64) {
    line8(s0, s1, s2, s3, s4, s5, s6, s7, o, out + o, bytes);
    line8(s8, s9, s10, s11, s12, s13, s14, s15, o, out + half + o, bytes);
  }
  if (lines < bytes) {
    rests8(s0, s1, s2, s3, s4, s5, s6, s7, lines, out + lines, bytes);
    rests8(s8, s9, s10, s11, s12, s13, s14, s15, lines, out + half + lines, bytes);
  }
}

/** Line o of 8 rows (at s0 … s7) to d, d + bytes, … d + 7·bytes. */
@inline function line8(s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, s5: usize, s6: usize, s7: usize, o: usize, d: usize, bytes: usize): void {
  copyLine(s0 + o, d); copyLine(s1 + o, d + bytes); copyLine(s2 + o, d + 2 * bytes); copyLine(s3 + o, d + 3 * bytes);
  copyLine(s4 + o, d + 4 * bytes); copyLine(s5 + o, d + 5 * bytes); copyLine(s6 + o, d + 6 * bytes); copyLine(s7 + o, d + 7 * bytes);
}

/** The bytes of 8 rows past their whole lines (from `lines` on) to d, d + bytes, … d + 7·bytes. */
@inline function rests8(s0: usize, s1: usize, s2: usize, s3: usize, s4: usize, s5: usize, s6: usize, s7: usize, lines: usize, d: usize, bytes: usize): void {
  const rest = bytes - lines;
  memory.copy(d, s0 + lines, rest); memory.copy(d + bytes, s1 + lines, rest);
  memory.copy(d + 2 * bytes, s2 + lines, rest); memory.copy(d + 3 * bytes, s3 + lines, rest);
  memory.copy(d + 4 * bytes, s4 + lines, rest); memory.copy(d + 5 * bytes, s5 + lines, rest);
  memory.copy(d + 6 * bytes, s6 + lines, rest); memory.copy(d + 7 * bytes, s7 + lines, rest);
}

/** The same for 4 rows. */
@inline function gather4(src: usize, ix: usize, out: usize, bytes: usize, lines: usize): void {
  const s0 = rowAt(src, ix, 0, bytes), s1 = rowAt(src, ix, 1, bytes), s2 = rowAt(src, ix, 2, bytes), s3 = rowAt(src, ix, 3, bytes);
  for (let o: usize = 0; o < lines; o += 64) {
    const d = out + o;
    copyLine(s0 + o, d); copyLine(s1 + o, d + bytes); copyLine(s2 + o, d + 2 * bytes); copyLine(s3 + o, d + 3 * bytes);
  }
  if (lines < bytes) {
    const rest = bytes - lines, d = out + lines;
    memory.copy(d, s0 + lines, rest); memory.copy(d + bytes, s1 + lines, rest);
    memory.copy(d + 2 * bytes, s2 + lines, rest); memory.copy(d + 3 * bytes, s3 + lines, rest);
  }
}

/** 64 bytes from s to d. */
@inline function copyLine(s: usize, d: usize): void {
  const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32), v3 = v128.load(s, 48);
  v128.store(d, v0);
  v128.store(d, v1, 16);
  v128.store(d, v2, 32);
  v128.store(d, v3, 48);
}

/** Compute chunk `chunk` of a window job: a near-equal part of its independent units. */
function windowChunk(job: usize, chunk: i32, tmp: usize): void {
  const kernel = jobField(job, JOB_WIN_KERNEL);
  const p0 = <usize>jobField(job, JOB_WIN_P0);
  const p1 = <usize>jobField(job, JOB_WIN_P1);
  const p2 = <usize>jobField(job, JOB_WIN_P2);
  const batch = jobField(job, JOB_WIN_G);
  const g1 = jobField(job, JOB_WIN_G + 1);
  const g2 = jobField(job, JOB_WIN_G + 2);
  const W = jobField(job, JOB_WIN_G + 3);
  const fh = jobField(job, JOB_WIN_G + 4);
  const fw = jobField(job, JOB_WIN_G + 5);
  const stride = jobField(job, JOB_WIN_G + 6);
  const pad = jobField(job, JOB_WIN_G + 7);
  const outH = jobField(job, JOB_WIN_G + 8);
  const outW = jobField(job, JOB_WIN_G + 9);
  const chunks = jobField(job, JOB_WIN_CHUNKS);
  if (kernel == WIN_TRANSPOSE) {
    // g1, g2: rows, cols; units: matrices
    transposeMatrices(p0, p1, g1, g2, part(chunk, batch, chunks), part(chunk + 1, batch, chunks));
  } else if (kernel == WIN_IM2COL) {
    const units = batch * outH; // window rows (n, oy)
    im2colRows(p0, p1, g1, g2, W, fh, fw, stride, pad, outH, outW, part(chunk, units, chunks), part(chunk + 1, units, chunks));
  } else if (kernel == WIN_IM2COL_T) {
    im2colTImages(p0, p1, g1, g2, W, fh, fw, stride, pad, outH, outW, part(chunk, batch, chunks), part(chunk + 1, batch, chunks));
  } else if (kernel == WIN_COL2IM) {
    col2imImages(p0, p1, g1, g2, W, fh, fw, stride, pad, outH, outW, part(chunk, batch, chunks), part(chunk + 1, batch, chunks));
  } else if (kernel == WIN_RELU || kernel == WIN_RELU_BACKWARD) {
    const n = batch;
    const units = (n + ELEMENT_BLOCK - 1) / ELEMENT_BLOCK;
    const i0 = part(chunk, units, chunks) * ELEMENT_BLOCK;
    const i1 = imin(n, part(chunk + 1, units, chunks) * ELEMENT_BLOCK);
    if (i1 <= i0) return;
    const o = <usize>i0 << 2;
    if (kernel == WIN_RELU) relu(p0 + o, p1 + o, i1 - i0);
    else reluBackward(p0 + o, p1 + o, p2 + o, i1 - i0);
  } else if (kernel == WIN_ADD_BIAS) {
    const r0 = part(chunk, batch, chunks);
    const r1 = part(chunk + 1, batch, chunks);
    const o = <usize>r0 * <usize>g1 << 2;
    addBias(p0 + o, p1, p2 + o, r1 - r0, g1);
  } else if (kernel == WIN_GATHER) {
    const r0 = part(chunk, batch, chunks);
    const r1 = part(chunk + 1, batch, chunks);
    gatherRows(p0, p1 + (<usize>r0 << 2), p2 + (<usize>r0 * <usize>g1 << 2), r1 - r0, g1);
  } else if (kernel == WIN_MATMUL_BATCH) {
    matmulBatchChunk(job, p0 + (<usize>chunk << 7), p1, p2, fw != 0, batch, g1, g2, W, fh, chunk, chunks, tmp);
  } else if (kernel == WIN_MAXPOOL_BACKWARD) {
    const units = batch * g1; // planes (n, c)
    const q0 = part(chunk, units, chunks);
    const q1 = part(chunk + 1, units, chunks);
    if (!maxPoolBackwardPlanes(p0, p1, p2, <usize>jobField(job, JOB_WIN_P3), g2, W, fh, fw, stride, pad, outH, outW, q0, q1)) {
      store<i32>(job + (<usize>JOB_WIN_STRAY << 2), 1);
    }
  } else if (kernel == WIN_SUM_COLUMNS) {
    const units = (g1 + SUM_BLOCK - 1) / SUM_BLOCK;
    const j0 = part(chunk, units, chunks) * SUM_BLOCK;
    const j1 = imin(g1, part(chunk + 1, units, chunks) * SUM_BLOCK);
    if (j1 > j0) sumColumnRange(p0, p1, batch, g1, j0, j1);
  } else if (kernel == WIN_MAXPOOL) {
    const units = batch * g1; // planes (n, c)
    maxPoolPlanes(p0, p1, p2, g2, W, fh, fw, stride, pad, outH, outW, part(chunk, units, chunks), part(chunk + 1, units, chunks));
  } else if (kernel == WIN_SKIP_ZEROS) {
    // g0 = m, g1 = k, g2 = n, g3 = bias (0: none), g4 = relu; p0 = A, p1 = C, p2 = B prepared
    // (by sparsePrepare, or by this job's pack chunks: matmulPack), then one list of p per chunk;
    // p3 = B; units: pairs of rows
    const pairs = (batch + 1) >> 1;
    const i0 = part(chunk, pairs, chunks) << 1;
    const i1 = imin(batch, part(chunk + 1, pairs, chunks) << 1);
    const list = p2 + <usize>sparsePreparedBytes(g1, g2) + <usize>chunk * <usize>sparseListBytes(g1);
    if (i1 > i0 && jobField(job, JOB_WIN_STRAY) == 0) sparseRows(p0, g1, p1, g1, g2, <usize>W, fh, p2, i0, i1, list);
  } else if (kernel == WIN_SKIP_ZEROS_T) {
    const groups = (batch + 2) / 3;
    const i0 = part(chunk, groups, chunks) * 3;
    const i1 = imin(batch, part(chunk + 1, groups, chunks) * 3);
    const list = p2 + <usize>sparseTransWorkBytes(g1, chunk);
    if (i1 > i0) sparseTransRows(p0, batch, g1, <usize>jobField(job, JOB_WIN_P3), g2, p1, p2, i0, i1, list);
  }
}

// ---------------------------------------------------------------------------------------------
// Batched products (a convolution per image: out_n = W_col · col_nᵀ, dW = Σ_n dout_n · col_n).
// ---------------------------------------------------------------------------------------------

/**
 * Chunk `chunk` of a batched product, run as a series of one-chunk products through its own job
 * block `sub`: with C per image (strideC > 0) the chunks are ranges of images, each packing its
 * B_i into its own `packBytes` of `packed`; with C summed (strideC = 0) every chunk runs all the
 * images, in order, on its own group of C's panels (C += A_i · B_i), so no two threads write one
 * element and each element's sums run in the order of a loop of single products.
 */
function matmulBatchChunk(
  job: usize, sub: usize, packed: usize, rowBias: usize, relu: bool, batch: i32,
  strideA: i32, strideB: i32, strideC: i32, packBytes: i32, chunk: i32, chunks: i32, tmp: usize,
): void {
  for (let f = 0; f < JOB_MC + 1; f++) store<i32>(sub + (<usize>f << 2), jobField(job, f));
  const m = jobField(job, JOB_M);
  const n = jobField(job, JOB_N);
  // The row bias and ReLU fused into the tiles' stores where every tile is a whole 3×12 one and k
  // is one block (ROW_BIAS); else a pass after each product (addRowBias). The same arithmetic.
  const fuse = rowBias != 0 && !(jobField(job, JOB_FLAGS) & FLOAT64) && panelWidth<f32>() == 12 &&
    m % 3 == 0 && n % 12 == 0 && jobField(job, JOB_K) <= jobField(job, JOB_KC) && (jobField(job, JOB_FLAGS) & 4) == 0;
  // transA, transB, accumulate, float64, DIRECT_B (and ROW_BIAS, RELU where fused)
  const flags = (jobField(job, JOB_FLAGS) & (15 | DIRECT_B)) | (fuse ? ROW_BIAS | (relu ? RELU : 0) : 0);
  store<i32>(sub + (<usize>JOB_BIAS << 2), <i32>rowBias);
  const size: usize = flags & FLOAT64 ? 8 : 4;
  const a = <usize>jobField(job, JOB_A);
  const b = <usize>jobField(job, JOB_B);
  const c = <usize>jobField(job, JOB_C);
  const summed = strideC == 0;
  const i0 = summed ? 0 : part(chunk, batch, chunks);
  const i1 = summed ? batch : part(chunk + 1, batch, chunks);
  const q = summed ? chunk : 0; // the pack and compute chunk of each product
  store<i32>(sub + (<usize>JOB_PACKED << 2), <i32>(summed ? packed : packed + <usize>chunk * <usize>packBytes));
  store<i32>(sub + (<usize>JOB_PACK_CHUNKS << 2), summed ? chunks : 1);
  store<i32>(sub + (<usize>JOB_ROW_CHUNKS << 2), 1);
  store<i32>(sub + (<usize>JOB_PANEL_CHUNKS << 2), summed ? chunks : 1);
  for (let i = i0; i < i1; i++) {
    const ci = c + <usize>i * <usize>strideC * size;
    store<i32>(sub + (<usize>JOB_A << 2), <i32>(a + <usize>i * <usize>strideA * size));
    store<i32>(sub + (<usize>JOB_B << 2), <i32>(b + <usize>i * <usize>strideB * size));
    store<i32>(sub + (<usize>JOB_C << 2), <i32>ci);
    store<i32>(sub + (<usize>JOB_FLAGS << 2), summed && i > 0 ? flags | 4 : flags);
    matmulPack(sub, q);
    matmulCompute(sub, q, tmp);
    if (!fuse && (rowBias != 0 || relu)) {
      if (size == 8) addRowBias<f64>(ci, rowBias, relu, m, n);
      else addRowBias<f32>(ci, rowBias, relu, m, n);
    }
  }
}

/**
 * c[r, j] += bias[r] for an m×n matrix (no bias: bias = 0, nothing added), then c = max(0, c)
 * with `relu`: the same arithmetic as addBias along the other axis, then relu.
 */
function addRowBias<T>(c: usize, bias: usize, relu: bool, m: i32, n: i32): void {
  const size = <usize>sizeof<T>();
  const v = sizeof<T>() == 8 ? n & ~1 : n & ~3;
  for (let r = 0; r < m; r++) {
    const br = bias != 0 ? load<T>(bias + <usize>r * size) : <T>0;
    const bv = sizeof<T>() == 8 ? f64x2.splat(<f64>br) : f32x4.splat(<f32>br);
    let j = 0;
    for (; j < v; j += 16 / <i32>size) {
      const p = c + <usize>j * size;
      let x = v128.load(p);
      if (bias != 0) x = vadd<T>(x, bv);
      if (relu) x = v128.and(x, vpositive<T>(x));
      v128.store(p, x);
    }
    for (; j < n; j++) {
      const p = c + <usize>j * size;
      let x = load<T>(p);
      if (bias != 0) x += br;
      if (relu) x = x > 0 ? x : <T>0;
      store<T>(p, x);
    }
    c += <usize>n * size;
  }
}
