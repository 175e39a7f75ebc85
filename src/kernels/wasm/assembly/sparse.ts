// The matrix product with A's zero elements skipped, float32: C = A · B (+ bias, ReLU) for an A
// whose rows are mostly zeros (images: 50% of a Fashion-MNIST image's pixels are 0, 80% of an
// MNIST digit's). It is the blocked product's 4×8 tile (kernels.ts) over only the p where one
// of the tile's 4 rows of A is non-zero (a digit's 4 rows: 39% of the p; Fashion-MNIST: 79%):
//
//   C[i, j] = Σ_{p: A[i..i+4, p] ≠ 0} A[i, p] · B[p, j]   (then + bias[j], then max(0, ·))
//
// Each C[i, j] is summed in the same order, with the same multiply-add, as the blocked product's
// micro-kernel (kernels.ts: one accumulator per element, p ascending, vmadd), and a skipped term
// adds nothing: A[i, p] · B[p, j] is ±0 for a finite B, and acc + ±0 = acc (acc starts at +0 and
// a sum never rounds to −0 ... an FMA's tiny product can, which changes the sign of a zero only).
// So for a finite B the result is the product's, bit for bit; B with an Inf or NaN (0 · Inf is
// NaN) is refused (the return value) for the caller to run the plain product. A second entry
// file of the module (scripts/build-wasm.mjs), beside kernels.ts.

/** c + a · b as kernels.ts's vmadd<f32>: a multiply then an add, or relaxed_madd in the relaxed-SIMD build. */
@inline function vmadd(a: v128, b: v128, c: v128): v128 {
  if (RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * For each 4-bit mask of non-zero lanes, the byte shuffle that moves those lanes (4 bytes each)
 * to the front, in order: COMPACT[16·mask ..] for i8x16.swizzle.
 */
const COMPACT = memory.data(256, 16);
let compactReady = false;

function initCompact(): void {
  for (let mask = 0; mask < 16; mask++) {
    let o = 0;
    for (let lane = 0; lane < 4; lane++) {
      if (mask & (1 << lane)) {
        for (let b = 0; b < 4; b++) store<u8>(COMPACT + (mask << 4) + o * 4 + b, <u8>(lane * 4 + b));
        o++;
      }
    }
    for (; o < 4; o++) for (let b = 0; b < 4; b++) store<u8>(COMPACT + (mask << 4) + o * 4 + b, 0x80); // zeros
  }
  compactReady = true;
}

/**
 * C (m×n, row stride n) = A (m×k, rows `lda` floats apart) · B (k×n) with A's zeros skipped,
 * then + bias (if `bias` ≠ 0), then the ReLU (if `relu`). `work` is scratch of
 * sparseWorkBytes(k, n) bytes. Returns 1, or 0 (nothing written) when B holds an Inf or a NaN.
 */
export function matmulSkipZeros(a: usize, lda: i32, b: usize, c: usize, m: i32, k: i32, n: i32, bias: usize, relu: i32, work: usize): i32 {
  if (!compactReady) initCompact();
  const panels = (n + 7) >> 3;
  // work: B packed in panels of 8 columns as the blocked product packs it (k rows of 32 bytes
  // each), then the p of one tile (k + 4: a group's store may run 3 past the count).
  const packed = work;
  const list = packed + (<usize>panels * <usize>k << 5);
  if (!packB(b, packed, k, n, panels)) return 0;
  const sa = <usize>lda << 2;
  const ldc = <usize>n << 2;
  const zero = f32x4.splat(0);
  for (let i = 0; i < m; i += 4) {
    const mr = imin(4, m - i);
    const r0 = a + <usize>i * sa;
    // rows past the matrix repeat its last row (as in the blocked product)
    const o1: usize = mr > 1 ? sa : 0;
    const o2: usize = mr > 2 ? sa << 1 : o1;
    const o3: usize = mr > 3 ? sa * 3 : o2;
    // The p where a row of the tile is non-zero, in order: vector compares, then a shuffle that packs them.
    let cnt = 0;
    let pv = i32x4(0, 1, 2, 3);
    const four = i32x4.splat(4);
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const o = <usize>p << 2;
      const any = v128.or(
        v128.or(f32x4.ne(v128.load(r0 + o), zero), f32x4.ne(v128.load(r0 + o1 + o), zero)),
        v128.or(f32x4.ne(v128.load(r0 + o2 + o), zero), f32x4.ne(v128.load(r0 + o3 + o), zero)),
      );
      const mask = i32x4.bitmask(any);
      v128.store(list + (<usize>cnt << 2), i8x16.swizzle(pv, v128.load(COMPACT + (<usize>mask << 4))));
      cnt += popcnt<i32>(mask);
      pv = i32x4.add(pv, four);
    }
    for (; p < k; p++) {
      const o = <usize>p << 2;
      if (load<f32>(r0 + o) != 0 || load<f32>(r0 + o1 + o) != 0 || load<f32>(r0 + o2 + o) != 0 || load<f32>(r0 + o3 + o) != 0) {
        store<i32>(list + (<usize>cnt << 2), p);
        cnt++;
      }
    }
    const ct = c + <usize>i * ldc;
    for (let q = 0; q < panels; q++) {
      const j0 = q << 3;
      const nr = imin(8, n - j0);
      const pb = packed + (<usize>q * <usize>k << 5);
      if (nr > 4) tile(r0, o1, o2, o3, pb, list, cnt, ct + (<usize>j0 << 2), ldc, mr, nr, bias + (<usize>j0 << 2), bias != 0, relu != 0);
      else halfTile(r0, o1, o2, o3, pb, list, cnt, ct + (<usize>j0 << 2), ldc, mr, nr, bias + (<usize>j0 << 2), bias != 0, relu != 0);
    }
  }
  return 1;
}

/** Bytes of `work` for matmulSkipZeros(…, k, n, …). */
export function sparseWorkBytes(k: i32, n: i32): i32 {
  return (((n + 7) >> 3) * k << 5) + ((k + 4) << 2);
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** packed[q·k·8 + p·8 + jj] = B[p, 8q + jj], zero-padded past n (the blocked product's panels); false when B holds an Inf or NaN. */
function packB(b: usize, packed: usize, k: i32, n: i32, panels: i32): bool {
  const zero = f32x4.splat(0);
  let bad = v128.splat<i32>(0);
  for (let q = 0; q < panels; q++) {
    const j0 = q << 3;
    const nr = imin(8, n - j0);
    let dst = packed + (<usize>q * <usize>k << 5);
    let src = b + (<usize>j0 << 2);
    for (let p = 0; p < k; p++) {
      if (nr == 8) {
        const v0 = v128.load(src), v1 = v128.load(src, 16);
        bad = v128.or(bad, v128.or(f32x4.ne(f32x4.sub(v0, v0), zero), f32x4.ne(f32x4.sub(v1, v1), zero))); // x − x ≠ 0: Inf or NaN
        v128.store(dst, v0);
        v128.store(dst, v1, 16);
      } else {
        v128.store(dst, zero);
        v128.store(dst, zero, 16);
        for (let jj = 0; jj < nr; jj++) {
          const x = load<f32>(src + (<usize>jj << 2));
          if (x - x != 0) return false;
          store<f32>(dst + (<usize>jj << 2), x);
        }
      }
      src += <usize>n << 2;
      dst += 32;
    }
  }
  return !v128.any_true(bad);
}

/**
 * A 4×8 tile of C in 8 accumulators, as kernels.ts's tile: acc[r, 0..8) = Σ_t A[i+r, p_t] · panel[p_t, 0..8)
 * over the tile's list of p; then stored with the bias and ReLU (mr rows, nr columns).
 */
@inline function tile(
  r0: usize, o1: usize, o2: usize, o3: usize, pb: usize, list: usize, cnt: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, bt: usize, hasBias: bool, relu: bool,
): void {
  let c00 = v128.splat<i32>(0), c01 = v128.splat<i32>(0);
  let c10 = v128.splat<i32>(0), c11 = v128.splat<i32>(0);
  let c20 = v128.splat<i32>(0), c21 = v128.splat<i32>(0);
  let c30 = v128.splat<i32>(0), c31 = v128.splat<i32>(0);
  for (let t = 0; t < cnt; t++) {
    const p = <usize>load<i32>(list + (<usize>t << 2));
    const w = pb + (p << 5);
    const pa = r0 + (p << 2);
    const b0 = v128.load(w), b1 = v128.load(w, 16);
    let av = v128.load32_splat(pa); c00 = vmadd(av, b0, c00); c01 = vmadd(av, b1, c01);
    av = v128.load32_splat(pa + o1); c10 = vmadd(av, b0, c10); c11 = vmadd(av, b1, c11);
    av = v128.load32_splat(pa + o2); c20 = vmadd(av, b0, c20); c21 = vmadd(av, b1, c21);
    av = v128.load32_splat(pa + o3); c30 = vmadd(av, b0, c30); c31 = vmadd(av, b1, c31);
  }
  if (nr == 8) {
    storeRow(ct, c00, c01, bt, hasBias, relu);
    if (mr > 1) storeRow(ct + ldc, c10, c11, bt, hasBias, relu);
    if (mr > 2) storeRow(ct + 2 * ldc, c20, c21, bt, hasBias, relu);
    if (mr > 3) storeRow(ct + 3 * ldc, c30, c31, bt, hasBias, relu);
    return;
  }
  storeEdge(ct, c00, c01, nr, bt, hasBias, relu);
  if (mr > 1) storeEdge(ct + ldc, c10, c11, nr, bt, hasBias, relu);
  if (mr > 2) storeEdge(ct + 2 * ldc, c20, c21, nr, bt, hasBias, relu);
  if (mr > 3) storeEdge(ct + 3 * ldc, c30, c31, nr, bt, hasBias, relu);
}

/** The same for a panel with at most 4 real columns: a 4×4 tile (kernels.ts's halfTile). */
@inline function halfTile(
  r0: usize, o1: usize, o2: usize, o3: usize, pb: usize, list: usize, cnt: i32,
  ct: usize, ldc: usize, mr: i32, nr: i32, bt: usize, hasBias: bool, relu: bool,
): void {
  let c0 = v128.splat<i32>(0), c1 = v128.splat<i32>(0), c2 = v128.splat<i32>(0), c3 = v128.splat<i32>(0);
  for (let t = 0; t < cnt; t++) {
    const p = <usize>load<i32>(list + (<usize>t << 2));
    const b0 = v128.load(pb + (p << 5));
    const pa = r0 + (p << 2);
    c0 = vmadd(v128.load32_splat(pa), b0, c0);
    c1 = vmadd(v128.load32_splat(pa + o1), b0, c1);
    c2 = vmadd(v128.load32_splat(pa + o2), b0, c2);
    c3 = vmadd(v128.load32_splat(pa + o3), b0, c3);
  }
  const z = v128.splat<i32>(0);
  storeEdge(ct, c0, z, nr, bt, hasBias, relu);
  if (mr > 1) storeEdge(ct + ldc, c1, z, nr, bt, hasBias, relu);
  if (mr > 2) storeEdge(ct + 2 * ldc, c2, z, nr, bt, hasBias, relu);
  if (mr > 3) storeEdge(ct + 3 * ldc, c3, z, nr, bt, hasBias, relu);
}

/** A row of 8 columns of C = acc (+ bias) (ReLU), as kernels.ts's storeRowFused: the bias added, then v > 0 ? v : 0. */
@inline function storeRow(row: usize, v0: v128, v1: v128, bt: usize, hasBias: bool, relu: bool): void {
  if (hasBias) {
    v0 = f32x4.add(v0, v128.load(bt));
    v1 = f32x4.add(v1, v128.load(bt, 16));
  }
  if (relu) {
    const zero = f32x4.splat(0);
    v0 = v128.and(v0, f32x4.gt(v0, zero));
    v1 = v128.and(v1, f32x4.gt(v1, zero));
  }
  v128.store(row, v0);
  v128.store(row, v1, 16);
}

/** The first nr (< 8) columns of such a row, element by element, as kernels.ts's storeEdgeFused. */
@inline function storeEdge(row: usize, v0: v128, v1: v128, nr: i32, bt: usize, hasBias: bool, relu: bool): void {
  for (let j = 0; j < nr; j++) {
    let v = j < 4 ? lane(v0, j) : lane(v1, j - 4);
    if (hasBias) v = v + load<f32>(bt + (<usize>j << 2));
    if (relu && !(v > 0)) v = 0;
    store<f32>(row + (<usize>j << 2), v);
  }
}

/** Lane j (0..3) of v. */
@inline function lane(v: v128, j: i32): f32 {
  return j == 0 ? f32x4.extract_lane(v, 0) : j == 1 ? f32x4.extract_lane(v, 1) : j == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}
