// Kernels of the WebAssembly backend, in AssemblyScript with 128-bit SIMD: the matrix product
// for float32 and float64, the other kernels for float32 (float64 ones run in JavaScript).
//
// Every pointer is a byte offset into the imported linear memory; the JavaScript side
// (src/kernels/wasm/WasmBackend.ts) owns all allocation, so this module never allocates.
// Matrices are row-major and contiguous, as in src/kernels/Backend.ts.
//
// Build: node scripts/build-wasm.mjs (asc -O3 --runtime stub --importMemory --enable simd).

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
const JOB_FLAGS: i32 = 6; // bit 0 transA, bit 1 transB, bit 2 accumulate, bit 3 float64
const JOB_PACKED: i32 = 7; // 32·k·⌈n/W⌉ bytes
const JOB_KC: i32 = 8; // depth of a k block
const JOB_MC: i32 = 9; // rows of an i block
const JOB_PACK_CHUNKS: i32 = 10; // pack chunks: the panels split into this many groups
const JOB_ROW_CHUNKS: i32 = 11; // compute chunks = row chunks (groups of 4-row tiles) ×
const JOB_PANEL_CHUNKS: i32 = 12; //   panel chunks (groups of panels)

const FLOAT64: i32 = 8;

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

/** Pack chunk `chunk` of op(B)'s panels. */
export function matmulPack(job: usize, chunk: i32): void {
  if (jobField(job, JOB_FLAGS) & FLOAT64) pack<f64>(job, chunk);
  else pack<f32>(job, chunk);
}

/** packed[q·k·W + p·W + jj] = op(B)[p, qW + jj] for the panels q of this chunk. */
@inline function pack<T>(job: usize, chunk: i32): void {
  const W = 32 / <i32>sizeof<T>();
  const b = <usize>jobField(job, JOB_B);
  const k = jobField(job, JOB_K);
  const n = jobField(job, JOB_N);
  const transB = (jobField(job, JOB_FLAGS) & 2) != 0;
  const packed = <usize>jobField(job, JOB_PACKED);
  const panels = (n + W - 1) / W;
  const chunks = jobField(job, JOB_PACK_CHUNKS);
  const q0 = part(chunk, panels, chunks);
  const q1 = part(chunk + 1, panels, chunks);
  const size = sizeof<T>();
  for (let q = q0; q < q1; q++) {
    const j0 = q * W;
    const nr = imin(W, n - j0);
    let dst = packed + (<usize>q * <usize>k << 5);
    if (!transB) {
      // op(B)[p, j] = b[p·n + j]: a panel row is 32 contiguous bytes of a row of B.
      let src = b + <usize>j0 * size;
      const ldb = <usize>n * size;
      if (nr == W) {
        for (let p = 0; p < k; p++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ldb;
          dst += 32;
        }
      } else {
        for (let p = 0; p < k; p++) {
          for (let jj = 0; jj < W; jj++) {
            const o = <usize>jj * size;
            store<T>(dst + o, jj < nr ? load<T>(src + o) : <T>0);
          }
          src += ldb;
          dst += 32;
        }
      }
    } else {
      // op(B)[p, j] = b[j·k + p]: column jj of the panel is a contiguous row of B.
      for (let jj = 0; jj < W; jj++) {
        let d = dst + <usize>jj * size;
        if (jj < nr) {
          let src = b + <usize>(j0 + jj) * <usize>k * size;
          for (let p = 0; p < k; p++) {
            store<T>(d, load<T>(src));
            src += size;
            d += 32;
          }
        } else {
          for (let p = 0; p < k; p++) {
            store<T>(d, <T>0);
            d += 32;
          }
        }
      }
    }
  }
}

/**
 * The micro-kernel: a 4×W tile of C in 8 v128 accumulators (4 rows × 2 vectors),
 *   acc[r, 0..W) = Σ_p op(A)[i+r, p] · panel[p, 0..W)   for p < kc,
 * with op(A)[i+r, p] at pa + r·sa + p·sp; rows past the matrix (r ≥ mr) repeat its last row.
 * Writes C = acc, or C += acc when `add`; only mr rows and nr columns are stored.
 *
 * The loop is left for V8 to unroll: unrolling it by hand made TurboFan hoist every load and
 * spill accumulators. When A is stored transposed (sa = size) the 4 rows are adjacent, read
 * with immediate offsets, which saves the integer ports that the SIMD units share on x86.
 */
@inline function tile<T>(
  pa: usize, sa: usize, sp: usize, pb: usize, kc: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, add: bool, tmp: usize,
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
      av = splatAdjacent<T>(pa, 0); c00 = vadd<T>(c00, vmul<T>(av, b0)); c01 = vadd<T>(c01, vmul<T>(av, b1));
      av = splatAdjacent<T>(pa, 1); c10 = vadd<T>(c10, vmul<T>(av, b0)); c11 = vadd<T>(c11, vmul<T>(av, b1));
      av = splatAdjacent<T>(pa, 2); c20 = vadd<T>(c20, vmul<T>(av, b0)); c21 = vadd<T>(c21, vmul<T>(av, b1));
      av = splatAdjacent<T>(pa, 3); c30 = vadd<T>(c30, vmul<T>(av, b0)); c31 = vadd<T>(c31, vmul<T>(av, b1));
      pa += sp; pb += 32;
    }
  } else {
    const o1: usize = mr > 1 ? sa : 0;
    const o2: usize = mr > 2 ? sa << 1 : o1;
    const o3: usize = mr > 3 ? sa * 3 : o2;
    for (let p = 0; p < kc; p++) {
      b0 = v128.load(pb); b1 = v128.load(pb, 16);
      av = splat<T>(pa); c00 = vadd<T>(c00, vmul<T>(av, b0)); c01 = vadd<T>(c01, vmul<T>(av, b1));
      av = splat<T>(pa + o1); c10 = vadd<T>(c10, vmul<T>(av, b0)); c11 = vadd<T>(c11, vmul<T>(av, b1));
      av = splat<T>(pa + o2); c20 = vadd<T>(c20, vmul<T>(av, b0)); c21 = vadd<T>(c21, vmul<T>(av, b1));
      av = splat<T>(pa + o3); c30 = vadd<T>(c30, vmul<T>(av, b0)); c31 = vadd<T>(c31, vmul<T>(av, b1));
      pa += sp; pb += 32;
    }
  }
  if (mr == 4 && nr == 32 / <i32>size) {
    let r = ct;
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
  // An edge tile: spill the accumulators to tmp (4 rows × 32 bytes) and store the valid part.
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  storeEdge<T>(tmp, ct, ldc, mr, nr, add);
}

/**
 * The same for a panel with at most W/2 real columns (the last one of n = 50 or n = 10 in
 * float32): a 4×(W/2) tile, so that half a panel of zero padding is not multiplied.
 */
@inline function halfTile<T>(
  pa: usize, sa: usize, sp: usize, pb: usize, kc: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, add: bool, tmp: usize,
): void {
  let c0 = v128.splat<i32>(0), c1 = v128.splat<i32>(0), c2 = v128.splat<i32>(0), c3 = v128.splat<i32>(0);
  const o1: usize = mr > 1 ? sa : 0;
  const o2: usize = mr > 2 ? sa << 1 : o1;
  const o3: usize = mr > 3 ? sa * 3 : o2;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    c0 = vadd<T>(c0, vmul<T>(splat<T>(pa), b0));
    c1 = vadd<T>(c1, vmul<T>(splat<T>(pa + o1), b0));
    c2 = vadd<T>(c2, vmul<T>(splat<T>(pa + o2), b0));
    c3 = vadd<T>(c3, vmul<T>(splat<T>(pa + o3), b0));
    pa += sp; pb += 32;
  }
  v128.store(tmp, c0); v128.store(tmp, c1, 32); v128.store(tmp, c2, 64); v128.store(tmp, c3, 96);
  storeEdge<T>(tmp, ct, ldc, mr, nr, add);
}

/** C[r, j] = tmp[r, j] (or +=) for r < mr, j < nr, with C's tile at ct; tmp rows are 32 bytes. */
@inline function storeEdge<T>(tmp: usize, ct: usize, ldc: usize, mr: i32, nr: i32, add: bool): void {
  for (let r = 0; r < mr; r++) {
    const row = ct + <usize>r * ldc;
    const t = tmp + (<usize>r << 5);
    for (let j = 0; j < nr; j++) {
      const o = <usize>j * sizeof<T>();
      const v = load<T>(t + o);
      store<T>(row + o, add ? load<T>(row + o) + v : v);
    }
  }
}

/**
 * Compute chunk `chunk` of C: a block of rows × a group of panels, blocked so that a kc×W slice
 * of a panel stays in L1 while the rows of an i block pass over it. `tmp` is 128 bytes of the
 * calling thread's own (for edge tiles).
 */
export function matmulCompute(job: usize, chunk: i32, tmp: usize): void {
  if (jobField(job, JOB_FLAGS) & FLOAT64) compute<f64>(job, chunk, tmp);
  else compute<f32>(job, chunk, tmp);
}

@inline function compute<T>(job: usize, chunk: i32, tmp: usize): void {
  const size = sizeof<T>();
  const W = 32 / <i32>size;
  const a = <usize>jobField(job, JOB_A);
  const c = <usize>jobField(job, JOB_C);
  const m = jobField(job, JOB_M);
  const k = jobField(job, JOB_K);
  const n = jobField(job, JOB_N);
  const flags = jobField(job, JOB_FLAGS);
  const packed = <usize>jobField(job, JOB_PACKED);
  const KC = jobField(job, JOB_KC);
  const MC = jobField(job, JOB_MC);
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

  for (let pc = 0; pc < k; pc += KC) {
    const kc = imin(KC, k - pc);
    const add = accumulate || pc > 0;
    for (let ic = r0; ic < r1; ic += MC) {
      const ie = imin(ic + MC, r1);
      for (let q = q0; q < q1; q++) {
        const j0 = q * W;
        const nr = imin(W, n - j0);
        const pb = packed + ((<usize>q * <usize>k + <usize>pc) << 5);
        for (let i = ic; i < ie; i += 4) {
          const mr = imin(4, ie - i);
          const pa = a + <usize>i * sa + <usize>pc * sp;
          const ct = c + <usize>i * ldc + <usize>j0 * size;
          if (nr > W / 2) tile<T>(pa, sa, sp, pb, kc, ct, ldc, mr, nr, add, tmp);
          else halfTile<T>(pa, sa, sp, pb, kc, ct, ldc, mr, nr, add, tmp);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise and row kernels, float32. Vector loops of 4 floats, then a scalar tail.
// ---------------------------------------------------------------------------------------------

/** out[i, j] = x[i, j] + bias[j]. */
export function addBias(x: usize, bias: usize, out: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  const v = cols & ~3;
  for (let i = 0; i < rows; i++) {
    let j = 0;
    for (; j < v; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(x + o), v128.load(bias + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(x + o) + load<f32>(bias + o));
    }
    x += ld;
    out += ld;
  }
}

/** out[j] = Σ_i x[i, j]. */
export function sumColumns(x: usize, out: usize, rows: i32, cols: i32): void {
  memory.fill(out, 0, <usize>cols << 2);
  const ld = <usize>cols << 2;
  const v = cols & ~3;
  for (let i = 0; i < rows; i++) {
    let j = 0;
    for (; j < v; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(x + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(x + o));
    }
    x += ld;
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

/** out = 1 / (1 + exp(−x)), with a scalar exp. */
export function sigmoid(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
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

/** Row-wise softmax: out[i, j] = exp(x[i, j] − max_j x[i, :]) / Σ_j exp(x[i, j] − max). */
export function softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  const v = cols & ~3;
  for (let i = 0; i < rows; i++) {
    let max = -Infinity as f32;
    for (let j = 0; j < cols; j++) {
      const xv = load<f32>(x + (<usize>j << 2));
      if (xv > max) max = xv;
    }
    let sum: f64 = 0; // summed in f64, as the reference does
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      const e = Mathf.exp(load<f32>(x + o) - max); // subtracting the max keeps exp ≤ 1
      store<f32>(out + o, e);
      sum += e;
    }
    const inv = <f32>(1 / sum);
    const iv = f32x4.splat(inv);
    let j = 0;
    for (; j < v; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.mul(v128.load(out + o), iv));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(out + o, load<f32>(out + o) * inv);
    }
    x += ld;
    out += ld;
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
