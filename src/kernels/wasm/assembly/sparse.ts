// The matrix product with A's zero elements skipped, float32: C = A · B (+ bias, ReLU) for an A
// whose rows are mostly zeros (images: 50% of a Fashion-MNIST image's pixels are 0, 80% of an
// MNIST digit's). Tiles of 2 rows × 16 columns of C in 8 accumulators (as many loads per
// multiply-add as the blocked product's 4×8 tile in kernels.ts) run over only the p where one
// of the tile's 2 rows of A is non-zero:
//
//   C[i, j] = Σ_{p: A[i, p] ≠ 0 or A[i', p] ≠ 0} A[i, p] · B[p, j]   (then + bias[j], then max(0, ·))
//
// for the pair (i, i'). The pairs are not rows next to each other but rows alike (sparseOrder):
// up to ORDER_ROWS rows at a time are sorted by where their non-zeros lie, then taken two by
// two. Fashion-MNIST: a pair of rows next to each other is non-zero in 66% of its p, a pair
// from the sorted order in 57–58% (a row alone: 50%); MNIST digits: 29% and 25%. Which row a
// row is paired with changes none of its sums (below).
//
// Why not one row at a time (50% of a Fashion-MNIST row's p against 58% of a pair's): V8's
// optimizing compiler issues all of a loop iteration's loads before its multiply-adds, so a
// tile's accumulators + loads of B + broadcasts of A must fit in the 15 vector registers it
// allocates (2×16: 8 + 4 + 2). 1×48 and 1×32 tiles spilled and took 1.6–1.8× as long; 3×12
// tiles over triples of rows, B's panel rows kept in L1 by blocking p, A's values compacted
// beside the list: no faster (measured on real images, 2026-12-02).
//
// Each C[i, j] is summed in the same order, with the same multiply-add, as the blocked product's
// micro-kernel (kernels.ts: one accumulator per element, p ascending, vmadd), and a skipped term
// adds nothing: A[i, p] · B[p, j] is ±0 for a finite B, and acc + ±0 = acc (acc starts at +0 and
// a sum never rounds to −0 ... an FMA's tiny product can, which changes the sign of a zero only).
// So for a finite B the result is the product's, bit for bit; B with an Inf or NaN (0 · Inf is
// NaN) is refused (sparsePrepare's return value) for the caller to run the plain product. A second entry
// file of the module (scripts/build-wasm.mjs), beside kernels.ts.
//
// The exception: where the blocked product's last panel has only 1 or 2 columns (kernels.ts's
// dotPanel: n = 50 and n = 10 in the plain build, n = 50 in the relaxed one), it computes them as
// dot products along A's rows with 4 partial sums (dotTile), and so does this kernel there, over
// every p, in the same order: 2 of 50 columns, no zeros skipped.

/** The float32 panel width of the blocked product in this build (kernels.ts's panelWidth). */
const BLOCKED_W: i32 = RELAXED_SIMD ? 12 : 8;

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
 * C (m×n, row stride n) = A (m×k, rows `lda` floats apart) · B (k×n) with A's zeros skipped, then
 * + bias (if `bias` ≠ 0), then the ReLU (if `relu`): sparsePrepare(B) into `work` (0: B holds an
 * Inf or NaN, nothing written), then sparseRows over row ranges, on one thread or several.
 * Bytes of `work` for `lists` row ranges at once: B as sparsePrepare lays it out, then each
 * range's scratch (sparseListBytes).
 */
export function sparseWorkBytes(k: i32, n: i32, lists: i32): i32 {
  return sparsePreparedBytes(k, n) + lists * sparseListBytes(k);
}

/** Rows of A sorted at a time by sparseOrder (a row range's longer runs are cut into pieces of this many, each sorted alone). */
const ORDER_ROWS: i32 = 256;
/**
 * A row range shorter than this keeps its rows' own order (pairs of neighbours): sorting so few
 * paid less than it cost. Measured in a training step on the digits (batches of 100): on 2
 * threads, where each of 8 chunks sorted its 12 or 13 rows, x · W1 took 74.8–75.7 µs against
 * 64.2–65.4 unsorted; on 1 thread (100 rows, sorted) 92.4–93.8 against 86.6–91.0, while on
 * Fashion-MNIST the sort is what makes skipping pay at 100 rows (WasmBackend's SPARSE_FIXED).
 * WasmBackend's SPARSE_ORDER_MIN is this.
 */
const ORDER_MIN: i32 = 64;

/**
 * Bytes of one row range's scratch for sparseRows: the list of p of a pair (pairListBytes), then
 * sparseOrder's (ORDER_ROWS rows: their order, then its sort's keys, second order and counts).
 */
export function sparseListBytes(k: i32): i32 {
  return pairListBytes(k) + ORDER_BYTES;
}

/** Bytes of nonZeros' list of a pair's p: k of them at most, and a whole vector stored past the last. */
@inline function pairListBytes(k: i32): i32 {
  return (k + 4) << 2;
}

/** Bytes of sparseOrder's scratch after the order itself: 2 keys of 8 bytes and a second order of 4 a row, and 256 counts. */
const SORT_BYTES: i32 = ORDER_ROWS * 20 + 1024;
const ORDER_BYTES: i32 = ORDER_ROWS * 4 + SORT_BYTES;

/** Bytes of B as sparsePrepare lays it out: panels of 16 columns, then the dot-product columns. */
export function sparsePreparedBytes(k: i32, n: i32): i32 {
  return panelBytes(k, n) + ((2 * k) << 2);
}

/** Bytes of the room for B's panels of 16 columns (k rows of 64 bytes each): the dot-product columns follow. */
@inline function panelBytes(k: i32, n: i32): i32 {
  return (((n + 15) >> 4) * k) << 6;
}

/** The first of the columns that the blocked product computes as dot products (see the top); n if none. */
@inline function dotStart(n: i32): i32 {
  const last = n - BLOCKED_W * ((n - 1) / BLOCKED_W);
  return last <= 2 ? n - last : n;
}

/**
 * The panels of 16 columns that sparseRows reads: those of the columns before the dot-product
 * ones (a last panel holding only those, as for n = 50 in the relaxed build, is left unpacked).
 */
export function sparsePanels(n: i32): i32 {
  return (dotStart(n) + 15) >> 4;
}

/**
 * B (k×n) into `work` for sparseRows: packed in panels of 16 columns (k rows of 64 bytes each,
 * zero-padded past n; sparsePanels of them), then the dot-product columns, each contiguous. 0
 * when the packed panels hold an Inf or NaN (the dot products skip no term: any value serves).
 */
export function sparsePrepare(b: usize, k: i32, n: i32, work: usize): i32 {
  return sparsePreparePanels(b, k, n, work, 0, sparsePanels(n), true);
}

/**
 * sparsePrepare's share of one thread: panels q0 ≤ q < q1 (their values checked), and the
 * dot-product columns if `columns`. 0 when those panels hold an Inf or NaN, else 1. Chunks of
 * panels covering the sparsePanels(n) of them, one with `columns`, do what sparsePrepare does.
 */
export function sparsePreparePanels(b: usize, k: i32, n: i32, work: usize, q0: i32, q1: i32, columns: bool): i32 {
  if (!packB(b, work, k, n, q0, q1)) return 0;
  if (!columns) return 1;
  const ns = dotStart(n);
  const cols = work + <usize>panelBytes(k, n);
  for (let j = ns; j < n; j++) {
    const d = cols + (<usize>(j - ns) * <usize>k << 2);
    for (let p = 0; p < k; p++) store<f32>(d + (<usize>p << 2), load<f32>(b + ((<usize>p * <usize>n + <usize>j) << 2)));
  }
  return 1;
}

/**
 * Rows i0 ≤ i < i1 of C from B as sparsePrepare left it in `work`, in pairs of rows alike: each
 * ORDER_ROWS rows of the range in sparseOrder's order, taken two by two (a last odd row is its
 * own pair); a range of fewer than ORDER_MIN rows in its own order. `list` is this call's own
 * sparseListBytes(k) of scratch, so that threads can run disjoint row ranges at once.
 */
export function sparseRows(a: usize, lda: i32, c: usize, k: i32, n: i32, bias: usize, relu: i32, work: usize, i0: i32, i1: i32, list: usize): void {
  if (!compactReady) initCompact();
  const panels = (n + 15) >> 4;
  const packed = work;
  const ns = dotStart(n);
  const cols = work + <usize>panelBytes(k, n);
  const sa = <usize>lda << 2;
  const ldc = <usize>n << 2;
  const order = list + <usize>pairListBytes(k);
  const sorted = i1 - i0 >= ORDER_MIN;
  for (let s = i0; s < i1; s += ORDER_ROWS) {
    const rows = imin(ORDER_ROWS, i1 - s);
    if (sorted) sparseOrder(a, lda, k, s, s + rows, order);
    else for (let r = 0; r < rows; r++) store<i32>(order + (<usize>r << 2), s + r);
    for (let t = 0; t < rows; t += 2) {
      const two = rows - t > 1;
      const i = load<i32>(order + (<usize>t << 2));
      const i2 = two ? load<i32>(order + (<usize>t << 2), 4) : i;
      const r0 = a + <usize>i * sa;
      const o1: usize = <usize>(i2 - i) * sa; // from row i to row i2 (wraps around when i2 < i, as the addresses do)
      const ct = c + <usize>i * ldc;
      const co: usize = <usize>(i2 - i) * ldc;
      // the dot-product columns (at most 2), both rows at once: 4 independent sums in flight
      if (ns < n) dotColumns(r0, o1, cols, k, n - ns, ct + (<usize>ns << 2), co, two, bias + (<usize>ns << 2), bias != 0, relu != 0);
      // the other columns in tiles of the pair, over the p where one of its rows is non-zero
      const cnt = nonZeros(r0, r0 + o1, k, list);
      for (let q = 0; q < panels; q++) {
        const j0 = q << 4;
        const nr = imin(16, ns - j0);
        if (nr <= 0) break;
        const pb = packed + (<usize>q * <usize>k << 6);
        const cq = ct + (<usize>j0 << 2);
        const bt = bias + (<usize>j0 << 2);
        if (nr > 4) tile4(r0, o1, pb, list, cnt, cq, co, two, nr, bt, bias != 0, relu != 0);
        else tile1(r0, o1, pb, list, cnt, cq, co, two, nr, bt, bias != 0, relu != 0);
      }
    }
  }
}

/**
 * Rows i0 ≤ i < i1 of A (rows `lda` floats apart; at most ORDER_ROWS of them) into `order` (4
 * bytes each, followed by SORT_BYTES of scratch), sorted by a key of where each row's non-zeros
 * lie, so that rows next to each other in the order are alike: bit 63 − j of the key is set when
 * one of A[i, jw .. jw + 4) is non-zero (NaN counts, −0 does not), for the 64 or fewer blocks of
 * w = 16·⌈k / 1024⌉ columns; the first 4 columns of a block stand for it (on Fashion-MNIST the
 * pairs were as alike as by all 16: 56–59% of the p against 58–59%, sorting 100 to 4,000 rows;
 * and it reads one vector a cache line). Keys sorted by bytes, lowest first (a stable radix
 * sort: rows of equal keys stay in order), skipping the bytes where every key is the same.
 */
export function sparseOrder(a: usize, lda: i32, k: i32, i0: i32, i1: i32, order: usize): void {
  const rows = i1 - i0;
  const keys = order + (<usize>ORDER_ROWS << 2);
  const keys2 = keys + (<usize>ORDER_ROWS << 3);
  const order2 = keys2 + (<usize>ORDER_ROWS << 3);
  const counts = order2 + (<usize>ORDER_ROWS << 2);
  const w = 16 * ((k + 1023) >> 10);
  const blocks = (k + w - 1) / w;
  const sa = <usize>lda << 2;
  const zero = f32x4.splat(0);
  let all: u64 = ~(<u64>0), any: u64 = 0;
  for (let r = 0; r < rows; r++) {
    const row = a + <usize>(i0 + r) * sa;
    // block j's bit shifted in from the right, then the first block moved to bit 63 (the time
    // is the loads: 100 rows of a batch in L2 take ~8 µs, the sort below well under 1)
    let key: u64 = 0;
    let j = 0;
    for (let p = 0; p + 4 <= k; p += w, j++) {
      key = (key << 1) | <u64>v128.any_true(f32x4.ne(v128.load(row + (<usize>p << 2)), zero));
    }
    if (j < blocks) {
      // a last block of fewer than 4 columns
      let bit: u64 = 0;
      for (let p = j * w; p < k; p++) bit |= <u64>(load<f32>(row + (<usize>p << 2)) != 0);
      key = (key << 1) | bit;
    }
    key <<= <u64>(64 - blocks);
    store<u64>(keys + (<usize>r << 3), key);
    store<i32>(order + (<usize>r << 2), i0 + r);
    all &= key;
    any |= key;
  }
  // LSD radix sort by bytes, between (keys, order) and (keys2, order2)
  let src = keys, dst = keys2, from = order, to = order2;
  for (let shift: u64 = 0; shift < 64; shift += 8) {
    if ((((all ^ any) >> shift) & 0xff) == 0) continue; // this byte is the same in every key
    memory.fill(counts, 0, 1024);
    for (let r = 0; r < rows; r++) {
      const d = counts + (<usize>((load<u64>(src + (<usize>r << 3)) >> shift) & 0xff) << 2);
      store<i32>(d, load<i32>(d) + 1);
    }
    let sum = 0;
    for (let d = 0; d < 256; d++) {
      const at = counts + (<usize>d << 2);
      const c = load<i32>(at);
      store<i32>(at, sum);
      sum += c;
    }
    for (let r = 0; r < rows; r++) {
      const key = load<u64>(src + (<usize>r << 3));
      const d = counts + (<usize>((key >> shift) & 0xff) << 2);
      const slot = load<i32>(d);
      store<i32>(d, slot + 1);
      store<u64>(dst + (<usize>slot << 3), key);
      store<i32>(to + (<usize>slot << 2), load<i32>(from + (<usize>r << 2)));
    }
    const k2 = src; src = dst; dst = k2;
    const o2 = from; from = to; to = o2;
  }
  if (from != order) memory.copy(order, from, <usize>rows << 2);
}

/**
 * How many p sparseRows would multiply, estimated over `samples` pairs of rows of A (m×k, rows k
 * floats apart) evenly spaced: pair s starts at row 2·⌊s·tiles / samples⌋ (tiles = ⌈m / 2⌉), a
 * last odd row alone. With `sorted` (the ranges sparseRows will get have ORDER_MIN rows or more)
 * it pairs rows alike (sparseOrder), so a pair is non-zero in fewer p than two rows next to each
 * other and in more than a row alone: taken as the mean of the two, which is what sorting gave
 * (Fashion-MNIST: rows next to each other 66%, alone 49.5%, the mean 57.8%, sorted pairs 57.7%;
 * MNIST digits: 29%, 19%, 24%, 25%). Returns four times that count (an integer): Σ over the
 * sampled pairs and p of 2·[x or y non-zero] + [x non-zero] + [y non-zero], or without `sorted`
 * 4·[x or y non-zero] (NaN counts, −0 does not; a lone row is its own y). The caller's share of
 * the work is this over 4·samples·k.
 */
export function sparseShare(a: usize, m: i32, k: i32, samples: i32, sorted: i32): i32 {
  const tiles = (m + 1) >> 1;
  const zero = f32x4.splat(0);
  const sa = <usize>k << 2;
  let used = 0;
  for (let s = 0; s < samples; s++) {
    const i = <i32>((<i64>s * <i64>tiles) / <i64>samples) << 1;
    const x = a + <usize>i * sa;
    const y = m - i > 1 ? x + sa : x;
    let p = 0;
    for (; p + 4 <= k; p += 4) {
      const o = <usize>p << 2;
      const nx = f32x4.ne(v128.load(x + o), zero), ny = f32x4.ne(v128.load(y + o), zero);
      const either = popcnt<i32>(i32x4.bitmask(v128.or(nx, ny)));
      used += sorted ? 2 * either + popcnt<i32>(i32x4.bitmask(nx)) + popcnt<i32>(i32x4.bitmask(ny)) : 4 * either;
    }
    for (; p < k; p++) {
      const o = <usize>p << 2;
      const bx: i32 = load<f32>(x + o) != 0, by: i32 = load<f32>(y + o) != 0;
      used += sorted ? 2 * (bx | by) + bx + by : 4 * (bx | by);
    }
  }
  return used;
}

/**
 * The p where row x or row y (k floats each; the same row for one) is non-zero, in order, into
 * `list` as byte offsets 4p (the tiles add them to A's rows and 16 times them to B's panels: a
 * shift less per step than p, 1–2% of a product); returns how many: vector compares, then a
 * shuffle that packs them.
 */
@inline function nonZeros(x: usize, y: usize, k: i32, list: usize): i32 {
  const zero = f32x4.splat(0);
  const four = i32x4.splat(16);
  let cnt = 0;
  let pv = i32x4(0, 4, 8, 12);
  let p = 0;
  for (; p + 4 <= k; p += 4) {
    const o = <usize>p << 2;
    const mask = i32x4.bitmask(v128.or(f32x4.ne(v128.load(x + o), zero), f32x4.ne(v128.load(y + o), zero)));
    v128.store(list + (<usize>cnt << 2), i8x16.swizzle(pv, v128.load(COMPACT + (<usize>mask << 4))));
    cnt += popcnt<i32>(mask);
    pv = i32x4.add(pv, four);
  }
  for (; p < k; p++) {
    const o = <usize>p << 2;
    if (load<f32>(x + o) != 0 || load<f32>(y + o) != 0) {
      store<i32>(list + (<usize>cnt << 2), p << 2);
      cnt++;
    }
  }
  return cnt;
}

/**
 * C[i + r, ns + j] = A[i + r, :] · B[:, ns + j] for the tile's rows r (2 if `two`) and the
 * `cnt` (1 or 2) dot-product columns, each as kernels.ts's dotTile and dotStore sum it: 4 partial
 * sums over p ≡ l mod 4 for p < k − k % 4 (vmadd), ((s0 + s1) + (s2 + s3)), then the last p in
 * order; then + bias and the ReLU. The up to 4 sums run side by side (one sum alone waits on
 * each multiply-add's latency: it took 40% of a digits product's time); each keeps its own order.
 */
@inline function dotColumns(r0: usize, o1: usize, cols: usize, k: i32, cnt: i32, ct: usize, co: usize, two: bool, bt: usize, hasBias: bool, relu: bool): void {
  const k4 = k & ~3;
  const b0 = cols, b1 = cnt > 1 ? cols + (<usize>k << 2) : cols; // a lone column is summed twice, stored once
  const r1 = r0 + o1;
  let a00 = v128.splat<i32>(0), a01 = v128.splat<i32>(0), a10 = v128.splat<i32>(0), a11 = v128.splat<i32>(0);
  for (let p = 0; p < k4; p += 4) {
    const o = <usize>p << 2;
    const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o);
    const y0 = v128.load(b0 + o), y1 = v128.load(b1 + o);
    a00 = vmadd(x0, y0, a00); a01 = vmadd(x0, y1, a01);
    a10 = vmadd(x1, y0, a10); a11 = vmadd(x1, y1, a11);
  }
  dotStore(a00, r0, b0, k4, k, ct, bt, hasBias, relu);
  if (cnt > 1) dotStore(a01, r0, b1, k4, k, ct + 4, bt + 4, hasBias, relu);
  if (two) {
    dotStore(a10, r1, b0, k4, k, ct + co, bt, hasBias, relu);
    if (cnt > 1) dotStore(a11, r1, b1, k4, k, ct + co + 4, bt + 4, hasBias, relu);
  }
}

/** One dot product's end: its 4 partial sums added pairwise, the last p, the bias, the ReLU. */
@inline function dotStore(acc: v128, ar: usize, bj: usize, k4: i32, k: i32, at: usize, bt: usize, hasBias: bool, relu: bool): void {
  let v = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (let p = k4; p < k; p++) {
    const o = <usize>p << 2;
    v += load<f32>(ar + o) * load<f32>(bj + o);
  }
  if (hasBias) v = v + load<f32>(bt);
  if (relu && !(v > 0)) v = 0;
  store<f32>(at, v);
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

/** packed[q·k·16 + p·16 + jj] = B[p, 16q + jj] for the panels q0 ≤ q < q1, zero-padded past n; false when they hold an Inf or NaN. */
function packB(b: usize, packed: usize, k: i32, n: i32, q0: i32, q1: i32): bool {
  const zero = f32x4.splat(0);
  let bad = v128.splat<i32>(0);
  for (let q = q0; q < q1; q++) {
    const j0 = q << 4;
    const nr = imin(16, n - j0);
    let dst = packed + (<usize>q * <usize>k << 6);
    let src = b + (<usize>j0 << 2);
    for (let p = 0; p < k; p++) {
      if (nr == 16) {
        for (let v: usize = 0; v < 64; v += 16) {
          const x = v128.load(src + v);
          bad = v128.or(bad, f32x4.ne(f32x4.sub(x, x), zero)); // x − x ≠ 0: Inf or NaN
          v128.store(dst + v, x);
        }
      } else {
        for (let v: usize = 0; v < 64; v += 16) v128.store(dst + v, zero);
        for (let jj = 0; jj < nr; jj++) {
          const x = load<f32>(src + (<usize>jj << 2));
          if (x - x != 0) return false;
          store<f32>(dst + (<usize>jj << 2), x);
        }
      }
      src += <usize>n << 2;
      dst += 64;
    }
  }
  return !v128.any_true(bad);
}

/**
 * A 2×16 tile of C in 8 accumulators: acc[r, 0..16) = Σ_t A[i+r, p_t] · panel[p_t, 0..16) over
 * the tile's list of p (as 4p); then stored with the bias and ReLU (row 2 if `two`, nr columns).
 */
@inline function tile4(
  r0: usize, o1: usize, pb: usize, list: usize, cnt: i32,
  ct: usize, co: usize, two: bool, nr: i32, bt: usize, hasBias: bool, relu: bool,
): void {
  let c00 = v128.splat<i32>(0), c01 = v128.splat<i32>(0), c02 = v128.splat<i32>(0), c03 = v128.splat<i32>(0);
  let c10 = v128.splat<i32>(0), c11 = v128.splat<i32>(0), c12 = v128.splat<i32>(0), c13 = v128.splat<i32>(0);
  for (let t = 0; t < cnt; t++) {
    const o = <usize>load<i32>(list + (<usize>t << 2));
    const w = pb + (o << 4);
    const pa = r0 + o;
    const b0 = v128.load(w), b1 = v128.load(w, 16), b2 = v128.load(w, 32), b3 = v128.load(w, 48);
    let av = v128.load32_splat(pa);
    c00 = vmadd(av, b0, c00); c01 = vmadd(av, b1, c01); c02 = vmadd(av, b2, c02); c03 = vmadd(av, b3, c03);
    av = v128.load32_splat(pa + o1);
    c10 = vmadd(av, b0, c10); c11 = vmadd(av, b1, c11); c12 = vmadd(av, b2, c12); c13 = vmadd(av, b3, c13);
  }
  storeRow(ct, c00, c01, c02, c03, nr, bt, hasBias, relu);
  if (two) storeRow(ct + co, c10, c11, c12, c13, nr, bt, hasBias, relu);
}

/** The same for a panel with at most 4 real columns: a 2×4 tile. */
@inline function tile1(
  r0: usize, o1: usize, pb: usize, list: usize, cnt: i32,
  ct: usize, co: usize, two: bool, nr: i32, bt: usize, hasBias: bool, relu: bool,
): void {
  let c0 = v128.splat<i32>(0), c1 = v128.splat<i32>(0);
  for (let t = 0; t < cnt; t++) {
    const o = <usize>load<i32>(list + (<usize>t << 2));
    const b0 = v128.load(pb + (o << 4));
    const pa = r0 + o;
    c0 = vmadd(v128.load32_splat(pa), b0, c0);
    c1 = vmadd(v128.load32_splat(pa + o1), b0, c1);
  }
  const z = v128.splat<i32>(0);
  storeRow(ct, c0, z, z, z, nr, bt, hasBias, relu);
  if (two) storeRow(ct + co, c1, z, z, z, nr, bt, hasBias, relu);
}

/**
 * The first nr (≤ 16) columns of a row of C = acc (+ bias) (ReLU), as kernels.ts's fused output
 * (storeRowFused, storeEdgeFused): the bias added, then v > 0 ? v : 0; whole vectors, then the
 * last columns one by one.
 */
@inline function storeRow(row: usize, v0: v128, v1: v128, v2: v128, v3: v128, nr: i32, bt: usize, hasBias: bool, relu: bool): void {
  const vecs = nr >> 2;
  if (vecs > 0) storeVector(row, v0, bt, hasBias, relu);
  if (vecs > 1) storeVector(row + 16, v1, bt + 16, hasBias, relu);
  if (vecs > 2) storeVector(row + 32, v2, bt + 32, hasBias, relu);
  if (vecs > 3) storeVector(row + 48, v3, bt + 48, hasBias, relu);
  if ((nr & 3) == 0) return;
  const v = vecs == 0 ? v0 : vecs == 1 ? v1 : vecs == 2 ? v2 : v3;
  const j0 = vecs << 2;
  for (let j = 0; j < (nr & 3); j++) {
    let x = lane(v, j);
    const o = <usize>(j0 + j) << 2;
    if (hasBias) x = x + load<f32>(bt + o);
    if (relu && !(x > 0)) x = 0;
    store<f32>(row + o, x);
  }
}

@inline function storeVector(dst: usize, v: v128, bt: usize, hasBias: bool, relu: bool): void {
  if (hasBias) v = f32x4.add(v, v128.load(bt));
  if (relu) v = v128.and(v, f32x4.gt(v, f32x4.splat(0)));
  v128.store(dst, v);
}

/** Lane j (0..3) of v. */
@inline function lane(v: v128, j: i32): f32 {
  return j == 0 ? f32x4.extract_lane(v, 0) : j == 1 ? f32x4.extract_lane(v, 1) : j == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

// ---------------------------------------------------------------------------------------------
// The transposed product with A's zeros skipped, float32: C (m×n) = Aᵀ · B for A stored k×m and
// B k×n (an Affine layer's dW = xᵀ · dout: A = x, one row per image; B = dout), in tiles of 3
// rows × 12 columns of C (kernels.ts's tile3x12: 9 accumulators) over the p where one of the
// tile's 3 values A[p, i..i+3) is non-zero (an image's 3 adjacent pixels: 25% of the
// (image, 3 pixels) of MNIST digits, 59% of Fashion-MNIST's):
//
//   C[i, j] = Σ_{p: A[p, i..i+3) ≠ 0} A[p, i] · B[p, j]
//
// The blocked product sums each element of a product with A transposed over p in order, one
// accumulator each, with vmadd (its dot-product columns serve only A not transposed), and so
// does this: for a finite B the same bits, as argued at the top of this file (B with an Inf or
// NaN is refused). B's rows are read where they lie; only a last panel of fewer than 12 columns
// is copied, zero-padded, so that no read goes past B.
// ---------------------------------------------------------------------------------------------

/** Rows of C per tile (and per list of p) of the transposed product. */
const TRANS_ROWS: i32 = 3;

/** Bytes of sparseTransPrepare's copy of B's last columns (k rows of 12 floats). */
@inline function transPanelBytes(k: i32): i32 {
  return k * 48;
}

/** Bytes of `work` for sparseTransRows with `lists` row ranges at once: the last panel, then each range's list of p. */
export function sparseTransWorkBytes(k: i32, lists: i32): i32 {
  return transPanelBytes(k) + lists * ((k + 4) << 2);
}

/**
 * B (k×n) checked and its last n % 12 columns copied into `work` (k rows of 12 floats,
 * zero-padded); 0 when B holds an Inf or NaN (nothing to run), else 1.
 */
export function sparseTransPrepare(b: usize, k: i32, n: i32, work: usize): i32 {
  const zero = f32x4.splat(0);
  let bad = v128.splat<i32>(0);
  const total = k * n;
  let e = 0;
  for (; e + 4 <= total; e += 4) {
    const x = v128.load(b + (<usize>e << 2));
    bad = v128.or(bad, f32x4.ne(f32x4.sub(x, x), zero)); // x − x ≠ 0: Inf or NaN
  }
  for (; e < total; e++) {
    const x = load<f32>(b + (<usize>e << 2));
    if (x - x != 0) return 0;
  }
  if (v128.any_true(bad)) return 0;
  const j0 = n - n % 12;
  if (j0 < n) {
    for (let p = 0; p < k; p++) {
      const d = work + <usize>p * 48;
      v128.store(d, zero);
      v128.store(d, zero, 16);
      v128.store(d, zero, 32);
      for (let j = j0; j < n; j++) store<f32>(d + (<usize>(j - j0) << 2), load<f32>(b + ((<usize>p * <usize>n + <usize>j) << 2)));
    }
  }
  return 1;
}

/**
 * How many p are multiplied, summed over `samples` groups of TRANS_ROWS rows of C (columns of A,
 * k×m) evenly spaced: group s is rows 3·⌊s·groups / samples⌋ onwards (groups = ⌈m / 3⌉, the last
 * one shorter when m is not a multiple of 3); p counts where one of the group's A[p, i..] is
 * non-zero (NaN counts, −0 does not), as sparseTransRows lists them.
 */
export function sparseTransShare(a: usize, m: i32, k: i32, samples: i32): i32 {
  const groups = (m + TRANS_ROWS - 1) / TRANS_ROWS;
  let used = 0;
  for (let s = 0; s < samples; s++) {
    const i = <i32>((<i64>s * <i64>groups) / <i64>samples) * TRANS_ROWS;
    used += transNonZeros(a, m, k, i, imin(TRANS_ROWS, m - i), 0);
  }
  return used;
}

/** The p where A[p, i..i+rows) (A k×m) has a non-zero, in order, into `list` (if not 0); returns how many. */
@inline function transNonZeros(a: usize, m: i32, k: i32, i: i32, rows: i32, list: usize): i32 {
  const sa = <usize>m << 2;
  let pa = a + (<usize>i << 2);
  let cnt = 0;
  if (rows == 3 && i + 4 <= m) {
    // A[p, i..i+4) loaded, its 4th value masked off (it is inside A's row)
    const zero = f32x4.splat(0);
    const three = i32x4(-1, -1, -1, 0);
    for (let p = 0; p < k; p++) {
      if (list) store<i32>(list + (<usize>cnt << 2), p);
      cnt += <i32>v128.any_true(v128.and(f32x4.ne(v128.load(pa), zero), three));
      pa += sa;
    }
    return cnt;
  }
  for (let p = 0; p < k; p++) {
    let any = false;
    for (let r = 0; r < rows; r++) if (load<f32>(pa + (<usize>r << 2)) != 0) any = true;
    if (any) {
      if (list) store<i32>(list + (<usize>cnt << 2), p);
      cnt++;
    }
    pa += sa;
  }
  return cnt;
}

/**
 * Rows i0 ≤ i < i1 of C = Aᵀ · B (i0 a multiple of 3), B as sparseTransPrepare left it in `work`
 * for its last columns; `list` is this call's own (k + 4)·4 bytes of scratch (the p of one group
 * of rows), so that threads can run disjoint row ranges at once.
 */
export function sparseTransRows(a: usize, m: i32, k: i32, b: usize, n: i32, c: usize, work: usize, i0: i32, i1: i32, list: usize): void {
  const ldc = <usize>n << 2;
  const sa = <usize>m << 2;
  const full = n - n % 12;
  for (let i = i0; i < i1; i += TRANS_ROWS) {
    const rows = imin(TRANS_ROWS, i1 - i);
    const cnt = transNonZeros(a, m, k, i, rows, list);
    // rows past the group's last read its last row again (never stored): no read past A
    const o1: usize = rows > 1 ? 4 : 0;
    const o2: usize = rows > 2 ? 8 : o1;
    const pa = a + (<usize>i << 2);
    const ct = c + <usize>i * ldc;
    // full panels where B lies (a row n floats from the next), the last columns from work
    for (let j0 = 0; j0 < full; j0 += 12) transTile(pa, sa, o1, o2, b + (<usize>j0 << 2), ldc, list, cnt, ct + (<usize>j0 << 2), ldc, rows, 12);
    if (full < n) transTile(pa, sa, o1, o2, work, 48, list, cnt, ct + (<usize>full << 2), ldc, rows, n - full);
  }
}

/**
 * A 3×12 tile of C in 9 accumulators: acc[r, 0..12) = Σ_t A[p_t, i + r] · B[p_t, j0..j0+12) over
 * the group's list of p, in order; rows r < `rows`, `nr` columns stored.
 */
@inline function transTile(
  pa: usize, sa: usize, o1: usize, o2: usize, pb: usize, sb: usize, list: usize, cnt: i32,
  ct: usize, ldc: usize, rows: i32, nr: i32,
): void {
  let c00 = v128.splat<i32>(0), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00, c20 = c00, c21 = c00, c22 = c00;
  for (let t = 0; t < cnt; t++) {
    const p = <usize>load<i32>(list + (<usize>t << 2));
    const w = pb + p * sb;
    const x = pa + p * sa;
    const b0 = v128.load(w), b1 = v128.load(w, 16), b2 = v128.load(w, 32);
    let av = v128.load32_splat(x);
    c00 = vmadd(av, b0, c00); c01 = vmadd(av, b1, c01); c02 = vmadd(av, b2, c02);
    av = v128.load32_splat(x + o1);
    c10 = vmadd(av, b0, c10); c11 = vmadd(av, b1, c11); c12 = vmadd(av, b2, c12);
    av = v128.load32_splat(x + o2);
    c20 = vmadd(av, b0, c20); c21 = vmadd(av, b1, c21); c22 = vmadd(av, b2, c22);
  }
  if (nr == 12) {
    v128.store(ct, c00); v128.store(ct, c01, 16); v128.store(ct, c02, 32);
    if (rows > 1) { v128.store(ct + ldc, c10); v128.store(ct + ldc, c11, 16); v128.store(ct + ldc, c12, 32); }
    if (rows > 2) { v128.store(ct + 2 * ldc, c20); v128.store(ct + 2 * ldc, c21, 16); v128.store(ct + 2 * ldc, c22, 32); }
    return;
  }
  const z = v128.splat<i32>(0);
  storeRow(ct, c00, c01, c02, z, nr, 0, false, false);
  if (rows > 1) storeRow(ct + ldc, c10, c11, c12, z, nr, 0, false, false);
  if (rows > 2) storeRow(ct + 2 * ldc, c20, c21, c22, z, nr, 0, false, false);
}
