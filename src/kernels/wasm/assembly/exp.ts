// exp of four float32 lanes at once, with the bits of AssemblyScript's scalar Mathf.exp.
//
// Mathf.exp (with -O3: the standard library's expf_lut, after ARM's optimized-routines expf)
// computes, in float64,
//
//   exp(x) = 2^(k/32) · 2^(r/32),  k = round(x · 32/ln 2),  r = x · 32/ln 2 − k ∈ [−1/2, 1/2]
//   2^(k/32) = 2^⌊k/32⌋ · T[k mod 32]  (a table of 32 doubles; ⌊k/32⌋ added to the exponent bits)
//   2^(r/32) ≈ 1 + C2·r + (C0·r + C1)·r²
//
// then rounds once to float32. exp4 does the same float64 operations in the same order on two
// f64x2 halves (SIMD float64 arithmetic rounds as the scalar one does), so each lane gets
// Mathf.exp's bits: compared on all 2^32 float32 inputs when it was written, 0 differed (the
// tests: every position of a softmax or sigmoid gets the same bits, test/kernels/kernels.test.ts;
// the table, test/kernels/wasm.test.ts). The scalar code's special cases (|x| ≥ 88: overflow,
// underflow below −103.97, ±Inf; NaN) go lane by lane to Mathf.exp itself. The kernel of a
// (100×10) batch's softmax + cross-entropy + dx took 7.6 µs with the scalar exp, 3.2 with this.

/**
 * T[i] = the bits of 2^(i/32) rounded to a double, minus i << 47, so that adding k << 47
 * (k ≡ i mod 32) to them puts ⌊k/32⌋ into the exponent: the table of the scalar code.
 */
const TABLE = memory.data<u64>([
  0x3FF0000000000000, 0x3FEFD9B0D3158574, 0x3FEFB5586CF9890F, 0x3FEF9301D0125B51,
  0x3FEF72B83C7D517B, 0x3FEF54873168B9AA, 0x3FEF387A6E756238, 0x3FEF1E9DF51FDEE1,
  0x3FEF06FE0A31B715, 0x3FEEF1A7373AA9CB, 0x3FEEDEA64C123422, 0x3FEECE086061892D,
  0x3FEEBFDAD5362A27, 0x3FEEB42B569D4F82, 0x3FEEAB07DD485429, 0x3FEEA47EB03A5585,
  0x3FEEA09E667F3BCD, 0x3FEE9F75E8EC5F74, 0x3FEEA11473EB0187, 0x3FEEA589994CCE13,
  0x3FEEACE5422AA0DB, 0x3FEEB737B0CDC5E5, 0x3FEEC49182A3F090, 0x3FEED503B23E255D,
  0x3FEEE89F995AD3AD, 0x3FEEFF76F2FB5E47, 0x3FEF199BDD85529C, 0x3FEF3720DCEF9069,
  0x3FEF5818DCFBA487, 0x3FEF7C97337B9B5F, 0x3FEFA4AFA2A490DA, 0x3FEFD0765B6E4540,
]);

const N: f64 = 32;

/** exp of two float64 lanes, each x with |x| < 88, as the scalar code computes it before its rounding to float32. */
@inline function exp2Lanes(x: v128): v128 {
  const shift = f64x2.splat(reinterpret<f64>(0x4338000000000000)); // 1.5 · 2^52: adding it rounds to an integer
  const z = f64x2.mul(f64x2.splat(reinterpret<f64>(0x3FF71547652B82FE) * N), x); // x · 32/ln 2
  const kd = f64x2.add(z, shift); // k in the low bits
  const r = f64x2.sub(z, f64x2.sub(kd, shift));
  const i0 = <usize>(i64x2.extract_lane(kd, 0) & 31);
  const i1 = <usize>(i64x2.extract_lane(kd, 1) & 31);
  let s = v128.load64_zero(TABLE + (i0 << 3));
  s = v128.load64_lane(TABLE + (i1 << 3), s, 1);
  s = i64x2.add(s, i64x2.shl(kd, 47)); // 2^(k/32)
  const c0 = f64x2.splat(reinterpret<f64>(0x3FAC6AF84B912394) / N / N / N);
  const c1 = f64x2.splat(reinterpret<f64>(0x3FCEBFCE50FAC4F3) / N / N);
  const c2 = f64x2.splat(reinterpret<f64>(0x3FE62E42FF0C52D6) / N);
  const zz = f64x2.add(f64x2.mul(c0, r), c1);
  let y = f64x2.add(f64x2.mul(c2, r), f64x2.splat(1));
  y = f64x2.add(y, f64x2.mul(zz, f64x2.mul(r, r)));
  return f64x2.mul(y, s);
}

/** Mathf.exp of each lane of x (f32x4). */
@inline export function exp4(x: v128): v128 {
  // |x| ≥ 88 or NaN (the scalar code's test on the top bits): Mathf.exp lane by lane
  if (v128.any_true(i32x4.ge_u(v128.and(x, i32x4.splat(0x7FFFFFFF)), i32x4.splat(0x42B00000)))) {
    return f32x4(
      Mathf.exp(f32x4.extract_lane(x, 0)), Mathf.exp(f32x4.extract_lane(x, 1)),
      Mathf.exp(f32x4.extract_lane(x, 2)), Mathf.exp(f32x4.extract_lane(x, 3)),
    );
  }
  const lo = f32x4.demote_f64x2_zero(exp2Lanes(f64x2.promote_low_f32x4(x)));
  const hi = f32x4.demote_f64x2_zero(exp2Lanes(f64x2.promote_low_f32x4(i8x16.shuffle(x, x, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7))));
  return i8x16.shuffle(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
