import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/Tensor.js';
import { ShapeError } from '../../src/tensor/ShapeError.js';
import { col2im, convOutputSize, im2col, im2colT, maxPool, transposeBatch } from '../../src/tensor/conv.js';
import { Convolution } from '../../src/layers/Convolution.js';
import { Pooling } from '../../src/layers/Pooling.js';
import { Flatten } from '../../src/layers/Flatten.js';
import { Relu } from '../../src/layers/Relu.js';
import { numericalGradient } from '../../src/functions/numericalGradient.js';
import { Random } from '../../src/random.js';
import { allBackends } from '../kernels/backends.js';
import { assertClose, randn, snapshot, weightedSum } from '../helpers.js';

const backends = await allBackends();

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** x[n, c, y, x], or 0 in the padding. */
function at(x: Tensor, n: number, c: number, y: number, xx: number): number {
  const [, , H, W] = x.shape;
  return y >= 0 && y < H && xx >= 0 && xx < W ? x.get(n, c, y, xx) : 0;
}

/** Direct convolution, the independent reference: out[n, f, oy, ox] = b[f] + Σ W[f, c, ky, kx] · x[n, c, oy·s + ky − p, ox·s + kx − p]. */
function naiveConv(x: Tensor, W: Tensor, b: Tensor, stride: number, pad: number): number[] {
  const [N, C, H, Wd] = x.shape;
  const [FN, , FH, FW] = W.shape;
  const outH = Math.floor((H + 2 * pad - FH) / stride) + 1; // the book's (H + 2·pad − FH) // stride + 1
  const outW = Math.floor((Wd + 2 * pad - FW) / stride) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let f = 0; f < FN; f++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) {
    let s = b.get(f);
    for (let c = 0; c < C; c++) for (let ky = 0; ky < FH; ky++) for (let kx = 0; kx < FW; kx++) {
      s += W.get(f, c, ky, kx) * at(x, n, c, oy * stride + ky - pad, ox * stride + kx - pad);
    }
    out.push(s);
  }
  return out;
}

for (const backend of backends) {
  const f64 = { dtype: 'float64' as const, backend };

  describe(`im2col and col2im (float64, backend ${backend.name})`, () => {
    const rng = new Random(21);

    it('the book\'s shapes: (1, 3, 7, 7) → (9, 75) and (10, 3, 7, 7) → (90, 75) for 5×5 filters', () => {
      assert.deepEqual(im2col(randn([1, 3, 7, 7], rng, backend), 5, 5, 1, 0).shape, [9, 75]);
      assert.deepEqual(im2col(randn([10, 3, 7, 7], rng, backend), 5, 5, 1, 0).shape, [90, 75]);
    });

    it('im2col rows are the windows, in (n, oy, ox) × (c, ky, kx) order (stride 2, pad 1, 3 channels, batch 2)', () => {
      const x = randn([2, 3, 7, 6], rng, backend);
      const [FH, FW, stride, pad] = [3, 2, 2, 1];
      const col = im2col(x, FH, FW, stride, pad);
      const [outH, outW] = [convOutputSize(7, FH, stride, pad), convOutputSize(6, FW, stride, pad)];
      assert.deepEqual(col.shape, [2 * outH * outW, 3 * FH * FW]);
      for (let n = 0; n < 2; n++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++)
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < FH; ky++) for (let kx = 0; kx < FW; kx++) {
          const row = (n * outH + oy) * outW + ox;
          const column = (c * FH + ky) * FW + kx;
          assert.equal(col.get(row, column), at(x, n, c, oy * stride + ky - pad, ox * stride + kx - pad));
        }
    });

    it('col2im of im2col(ones) counts how many windows cover each pixel', () => {
      const ones = Tensor.from(new Float64Array(9).fill(1), [1, 1, 3, 3], f64);
      const counts = col2im(im2col(ones, 2, 2), [1, 1, 3, 3], 2, 2);
      assert.deepEqual(counts.toArray(), [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]);
      // with pad 1 and stride 1, every pixel of a 2×2 image lies in 4 of the 3×3 2×2 windows
      const ones2 = Tensor.from(new Float64Array(4).fill(1), [1, 1, 2, 2], f64);
      assert.deepEqual(col2im(im2col(ones2, 2, 2, 1, 1), [1, 1, 2, 2], 2, 2, 1, 1).toArray(), [[[[4, 4], [4, 4]]]]);
    });

    it('col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩', () => {
      for (const [shape, FH, FW, stride, pad] of [
        [[2, 3, 7, 7], 3, 3, 2, 1], [[1, 1, 5, 5], 5, 5, 1, 0], [[3, 2, 6, 8], 2, 4, 2, 0], [[2, 2, 4, 4], 3, 3, 1, 2],
        [[2, 1, 9, 9], 3, 3, 3, 0],
      ] as [number[], number, number, number, number][]) {
        const x = randn(shape, rng, backend);
        const colX = im2col(x, FH, FW, stride, pad);
        const c = randn([...colX.shape], rng, backend);
        const back = col2im(c, shape, FH, FW, stride, pad);
        assert.deepEqual(back.shape, shape);
        const [lhs, rhs] = [dot(colX.data, c.data), dot(x.data, back.data)];
        assert.ok(Math.abs(lhs - rhs) <= 1e-10 * (1 + Math.abs(lhs)), `${JSON.stringify(shape)} ${FH}×${FW} s${stride} p${pad}: ${lhs} vs ${rhs}`);
      }
    });

    it('writes into a given buffer of the right shape, and does not modify its input', () => {
      const x = randn([2, 2, 5, 5], rng, backend);
      const before = snapshot(x);
      const buf = im2col(x, 3, 3);
      assert.equal(im2col(x, 3, 3, 1, 0, buf), buf);
      assert.deepEqual(snapshot(x), before);
      const dx = col2im(buf, x.shape, 3, 3);
      assert.equal(col2im(buf, x.shape, 3, 3, 1, 0, dx), dx);
    });

    it('transposeBatch: (B, R, C) → (B, C, R)', () => {
      const x = Tensor.from([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], undefined, f64);
      assert.deepEqual(transposeBatch(x).toArray(), [[[1, 4], [2, 5], [3, 6]], [[7, 10], [8, 11], [9, 12]]]);
    });

    it('shape errors name the operation, the sizes and the shape', () => {
      const x = randn([1, 1, 28, 28], rng, backend);
      assert.throws(() => im2col(randn([1, 1, 3, 3], rng, backend), 5, 5), (e: Error) =>
        e instanceof ShapeError &&
        /^im2col: a window of 5 does not fit in 3 padded by 0 on each side \(input shape \[1,1,3,3\], window 5×5, stride 1, pad 0\)$/.test(e.message));
      assert.throws(() => im2col(randn([1, 1, 3, 8], rng, backend), 6, 6, 1, 1), /im2col: a window of 6 does not fit in 3 padded by 1 on each side/);
      assert.throws(() => im2col(randn([3, 28, 28], rng, backend), 5, 5), /im2col: input must be 4-D \(N, C, H, W\), got shape \[3,28,28\]/);
      assert.throws(() => im2col(x, 5, 5, 0), /im2col: stride must be a whole number ≥ 1, got 0/);
      assert.throws(() => im2col(x, 5, 5, 1, -1), /im2col: pad must be a whole number ≥ 0, got -1/);
      // im2colT checks its geometry as im2col does, under its own name
      assert.throws(() => im2colT(randn([1, 1, 3, 3], rng, backend), 5, 5), (e: Error) =>
        e instanceof ShapeError && e.message.startsWith('im2colT: a window of 5 does not fit in 3 padded by 0 on each side (input shape [1,1,3,3]'));
      assert.throws(() => im2colT(randn([3, 28, 28], rng, backend), 5, 5), /im2colT: input must be 4-D \(N, C, H, W\), got shape \[3,28,28\]/);
      assert.throws(() => im2colT(x, 5, 5, 1.5), /im2colT: stride must be a whole number ≥ 1, got 1.5/);
      assert.throws(() => im2colT(x, 0, 5), /im2colT: filter height must be a whole number ≥ 1, got 0/);
      assert.throws(() => col2im(randn([10, 25], rng, backend), [1, 1, 28, 28], 5, 5), /col2im: col has shape \[10,25\] but input shape \[1,1,28,28\] with 5×5 windows, stride 1, pad 0 needs \[576,25\]/);
      assert.throws(() => transposeBatch(randn([2, 3], rng, backend)), /transposeBatch: x must be 3-D/);
      assert.equal(convOutputSize(28, 5), 24);
      assert.equal(convOutputSize(7, 3, 2, 1), 4);
      assert.throws(() => convOutputSize(3, 6, 1, 1), /convOutputSize: a window of 6 does not fit in 3 padded by 1/);
    });

    it('windows that do not divide the input evenly: the book\'s (H + 2·pad − FH) // stride + 1, the partial window dropped', () => {
      // by hand: (28 − 5) // 2 + 1 = 11 + 1 = 12; (8 − 3) // 2 + 1 = 3; (7 − 2) // 2 + 1 = 3; (5 + 2 − 2) // 2 + 1 = 3; (3 + 2 − 5) // 3 + 1 = 1
      assert.equal(convOutputSize(28, 5, 2), 12);
      assert.equal(convOutputSize(8, 3, 2), 3);
      assert.equal(convOutputSize(7, 2, 2), 3);
      assert.equal(convOutputSize(5, 2, 2, 1), 3);
      assert.equal(convOutputSize(3, 5, 3, 1), 1);
      // im2col of 8×8 with 3×3, stride 2: the rows are the windows at (0|2|4, 0|2|4); row 6 and column 6..7 only pad the last windows
      const x = Tensor.from(Array.from({ length: 64 }, (_, i) => i), [1, 1, 8, 8], f64);
      const col = im2col(x, 3, 3, 2, 0);
      assert.deepEqual(col.shape, [9, 9]);
      const rows = col.toArray() as number[][];
      for (let oy = 0; oy < 3; oy++) for (let ox = 0; ox < 3; ox++) {
        const expected: number[] = [];
        for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) expected.push((2 * oy + ky) * 8 + 2 * ox + kx);
        assert.deepEqual(rows[oy * 3 + ox], expected, `window (${oy}, ${ox})`);
      }
      // col2im sends nothing to row 7 or column 7, which no window covers
      const back = col2im(Tensor.from(new Array(81).fill(1), [9, 9], f64), [1, 1, 8, 8], 3, 3, 2, 0).toArray() as number[][][][];
      const counts = back[0][0];
      assert.deepEqual(counts[7], [0, 0, 0, 0, 0, 0, 0, 0]);
      assert.deepEqual(counts.map((r) => r[7]), [0, 0, 0, 0, 0, 0, 0, 0]);
      assert.deepEqual(counts[2], [2, 2, 4, 2, 4, 2, 2, 0]); // row 2 is shared by the windows at rows 0 and 2
      assert.deepEqual(counts[0], [1, 1, 2, 1, 2, 1, 1, 0]);
    });
  });

  describe(`Convolution (float64, backend ${backend.name})`, () => {
    const rng = new Random(22);

    // [H, W, stride, pad, outH, outW]: outH = (H + 2·pad − 3) // stride + 1 worked out by hand;
    // the last three drop a partial window (8×8, stride 2: windows at 0, 2, 4; one at 6 would need column 8)
    for (const [H, W_, stride, pad, outH, outW] of [[7, 7, 1, 0, 5, 5], [7, 7, 2, 1, 4, 4], [7, 7, 1, 2, 9, 9], [8, 8, 2, 0, 3, 3], [6, 9, 3, 1, 2, 3], [8, 7, 2, 2, 5, 5]]) {
      it(`forward equals the direct convolution; dx, dW, db match the central difference (${H}×${W_}, 3×3, stride ${stride}, pad ${pad} → ${outH}×${outW})`, () => {
        const W = randn([4, 3, 3, 3], rng, backend);
        const b = randn([4], rng, backend);
        const x = randn([2, 3, H, W_], rng, backend);
        const conv = new Convolution(W, b, stride, pad);
        const out = conv.forward(x);
        assert.deepEqual(out.shape, [2, 4, outH, outW]);
        assertClose(out.data, naiveConv(x, W, b, stride, pad), 1e-12, 'Convolution forward');

        const g = randn([...out.shape], rng, backend);
        const loss = (): number => weightedSum(conv.forward(x), g);
        const [nx, nW, nb] = [numericalGradient(loss, x), numericalGradient(loss, W), numericalGradient(loss, b)];
        conv.forward(x);
        const [xBefore, gBefore] = [snapshot(x), snapshot(g)];
        const dx = conv.backward(g);
        assert.deepEqual(dx.shape, x.shape);
        assert.deepEqual(conv.dW!.shape, W.shape);
        assert.deepEqual(conv.db!.shape, [4]);
        assertClose(dx.data, nx.data, 1e-7, 'Convolution dx');
        assertClose(conv.dW!.data, nW.data, 1e-7, 'Convolution dW');
        assertClose(conv.db!.data, nb.data, 1e-7, 'Convolution db');
        assert.deepEqual(snapshot(g), gBefore, 'backward must not modify dout');
        assert.deepEqual(snapshot(x), xBefore, 'forward must not modify x');
      });
    }

    it('backward with { inputGradient: false } gives the same dW and db and no dx', () => {
      const conv = new Convolution(randn([2, 1, 3, 3], rng, backend), randn([2], rng, backend));
      const x = randn([3, 1, 6, 6], rng, backend);
      const g = randn([3, 2, 4, 4], rng, backend);
      conv.forward(x);
      conv.backward(g);
      const [dW, db] = [snapshot(conv.dW!), snapshot(conv.db!)];
      conv.forward(x);
      assert.equal(conv.backward(g, { inputGradient: false }), null);
      assert.deepEqual(snapshot(conv.dW!), dW);
      assert.deepEqual(snapshot(conv.db!), db);
    });

    it('reuses its buffers across calls of the same shape, and reallocates for a new batch size', () => {
      const conv = new Convolution(randn([2, 1, 3, 3], rng, backend), randn([2], rng, backend));
      const x = randn([3, 1, 6, 6], rng, backend);
      const out = conv.forward(x);
      const col = conv.col;
      const dx = conv.backward(randn([3, 2, 4, 4], rng, backend));
      const dW = conv.dW;
      assert.equal(conv.forward(randn([3, 1, 6, 6], rng, backend)), out);
      assert.equal(conv.col, col);
      assert.equal(conv.backward(randn([3, 2, 4, 4], rng, backend)), dx);
      assert.equal(conv.dW, dW);
      const out5 = conv.forward(randn([5, 1, 6, 6], rng, backend));
      assert.deepEqual(out5.shape, [5, 2, 4, 4]);
      assert.deepEqual(conv.backward(randn([5, 2, 4, 4], rng, backend)).shape, [5, 1, 6, 6]);
    });

    it('col is the book\'s col of the input as the last forward saw it, made once per forward', () => {
      const [FH, FW, stride, pad] = [3, 2, 2, 1];
      const conv = new Convolution(randn([2, 3, FH, FW], rng, backend), randn([2], rng, backend), stride, pad);
      assert.equal(conv.col === null, true, 'no col before a forward pass');
      const x = randn([2, 3, 7, 6], rng, backend);
      const seen = x.clone();
      conv.forward(x);
      x.data.fill(7); // the book keeps the col it made in forward; a later change to x is not in it
      const col = conv.col!;
      const [outH, outW] = [convOutputSize(7, FH, stride, pad), convOutputSize(6, FW, stride, pad)];
      assert.deepEqual(col.shape, [2 * outH * outW, 3 * FH * FW]);
      for (let n = 0; n < 2; n++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++)
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < FH; ky++) for (let kx = 0; kx < FW; kx++) {
          const row = (n * outH + oy) * outW + ox;
          assert.equal(col.get(row, (c * FH + ky) * FW + kx), at(seen, n, c, oy * stride + ky - pad, ox * stride + kx - pad));
        }
      col.data.fill(-1); // read again before the next forward: the same tensor, not made again
      assert.equal(conv.col, col);
      assert.equal(col.get(0, 0), -1);
      conv.forward(seen);
      assert.equal(conv.col!.get(0, 0), at(seen, 0, 0, -pad, -pad));
    });

    // float32 runs this backend's own kernels (float64 runs the reference on every backend)
    for (const [H, stride, pad, out] of [[9, 2, 1, 5], [8, 2, 0, 3], [10, 3, 1, 4]]) {
      it(`in float32 it agrees with float64 (${H}×${H}, stride ${stride}, pad ${pad} → ${out}×${out})`, () => {
        const W = randn([5, 2, 3, 3], rng, backend);
        const b = randn([5], rng, backend);
        const x = randn([4, 2, H, H], rng, backend);
        const g = randn([4, 5, out, out], rng, backend);
        const f32 = (t: Tensor): Tensor => t.clone({ dtype: 'float32' });
        const c64 = new Convolution(W, b, stride, pad);
        const c32 = new Convolution(f32(W), f32(b), stride, pad);
        assertClose(c32.forward(f32(x)).data, c64.forward(x).data, 1e-5, 'float32 forward');
        assertClose(c32.backward(f32(g)).data, c64.backward(g).data, 1e-5, 'float32 dx');
        assertClose(c32.dW!.data, c64.dW!.data, 1e-4, 'float32 dW');
        assertClose(c32.db!.data, c64.db!.data, 1e-5, 'float32 db');
      });
    }

    it('shape errors name the layer and both shapes', () => {
      const W = randn([30, 1, 5, 5], rng, backend);
      const b = randn([30], rng, backend);
      const conv = new Convolution(W, b);
      assert.throws(() => conv.forward(randn([2, 3, 28, 28], rng, backend)), (e: Error) =>
        e instanceof ShapeError && e.message === 'Convolution: input has 3 channels but W expects 1 (x shape [2,3,28,28], W shape [30,1,5,5])');
      assert.throws(() => conv.forward(randn([2, 784], rng, backend)), /Convolution: input must be 4-D \(N, C, H, W\), got shape \[2,784\] \(W shape \[30,1,5,5\]\)/);
      assert.deepEqual(new Convolution(W, b, 2).forward(randn([1, 1, 28, 28], rng, backend)).shape, [1, 30, 12, 12]); // (28 − 5) // 2 + 1
      assert.throws(() => conv.forward(randn([1, 1, 4, 4], rng, backend)), /Convolution: a window of 5 does not fit in 4/);
      assert.throws(() => new Convolution(W, randn([10], rng, backend)), /Convolution: b has 10 elements but W has 30 filters \(W shape \[30,1,5,5\], b shape \[10\]\)/);
      assert.throws(() => new Convolution(randn([30, 25], rng, backend), b), /Convolution: W must be 4-D \(FN, C, FH, FW\), got shape \[30,25\]/);
      assert.throws(() => new Convolution(W, b, 0), /Convolution: stride must be a whole number ≥ 1, got 0/);
      assert.throws(() => new Convolution(W, b).backward(randn([1, 30, 24, 24], rng, backend)), /Convolution: backward called before forward/);
      conv.forward(randn([2, 1, 28, 28], rng, backend));
      assert.throws(() => conv.backward(randn([2, 30, 24, 23], rng, backend)), /Convolution: dout has shape \[2,30,24,23\] but the output was \[2,30,24,24\]/);
    });
  });

  describe(`Convolution fused with its Relu (backend ${backend.name})`, () => {
    it('forwardRelu is bit-identical to relu.forward(conv.forward(x)), float32 and float64, and Relu.backward uses it', () => {
      const rng = new Random(23);
      for (const dtype of ['float32', 'float64'] as const) {
        const as = (t: Tensor): Tensor => t.clone({ dtype });
        const [W, b, x] = [as(randn([5, 2, 3, 3], rng, backend)), as(randn([5], rng, backend)), as(randn([3, 2, 9, 8], rng, backend))];
        const [plain, fused] = [new Convolution(W, b, 1, 1), new Convolution(W, b, 1, 1)];
        const [relu1, relu2] = [new Relu(), new Relu()];
        const expected = relu1.forward(plain.forward(x));
        const got = fused.forwardRelu(x, relu2);
        assert.equal(got, relu2.out);
        assert.deepEqual(got.shape, expected.shape);
        assert.deepEqual(Array.from(got.data), Array.from(expected.data), `${dtype} forwardRelu`);
        assert.ok(Array.from(got.data).some((v) => v === 0) && Array.from(got.data).some((v) => v > 0));
        const g = as(randn([...got.shape], rng, backend));
        const [d1, d2] = [plain.backward(relu1.backward(g)), fused.backward(relu2.backward(g))];
        assert.deepEqual(Array.from(d2.data), Array.from(d1.data), `${dtype} dx through the fused Relu`);
        assert.deepEqual(Array.from(fused.dW!.data), Array.from(plain.dW!.data), `${dtype} dW`);
      }
    });
  });

  describe(`Pooling fused with the Relu it pools (backend ${backend.name})`, () => {
    it('backwardRelu is bit-identical to relu.backward(pool.backward(dout)), float32 and float64; another Relu is refused', () => {
      const rng = new Random(24);
      for (const dtype of ['float32', 'float64'] as const) {
        for (const [P, stride, pad] of [[2, 2, 0], [3, 2, 1]]) {
          const x = randn([2, 3, 9, 8], rng, backend).clone({ dtype });
          const [relu, pool] = [new Relu(), new Pooling(P, P, stride, pad)];
          const out = pool.forward(relu.forward(x));
          const g = randn([...out.shape], rng, backend).clone({ dtype });
          const expected = Array.from(relu.backward(pool.backward(g)).data);
          assert.ok(expected.some((v) => v === 0) && expected.some((v) => v !== 0));
          assert.deepEqual(Array.from(pool.backwardRelu(g, relu).data), expected, `${dtype} ${P} ${stride} ${pad}`);
          const other = new Relu();
          other.forward(x);
          assert.throws(() => pool.backwardRelu(g, other), /did not produce this layer's input/);
        }
      }
    });
  });

  describe(`Pooling and Flatten (float64, backend ${backend.name})`, () => {
    const rng = new Random(23);

    it('2×2 max pooling with the book\'s default stride 2', () => {
      const x = Tensor.from([[[[1, 2, 0, 1], [3, 0, 4, 2], [-1, -2, 5, 6], [-3, -4, 7, 8]]]], undefined, f64);
      const pool = new Pooling(2, 2);
      assert.equal(pool.stride, 2);
      assert.deepEqual(pool.forward(x).toArray(), [[[[3, 4], [-1, 8]]]]);
      assert.deepEqual(pool.backward(Tensor.from([[[[10, 20], [30, 40]]]], undefined, f64)).toArray(),
        [[[[0, 0, 0, 0], [10, 0, 20, 0], [30, 0, 0, 0], [0, 0, 0, 40]]]]);
    });

    it('ties send the gradient to the first maximum only', () => {
      const pool = new Pooling(2, 2);
      pool.forward(Tensor.from([[[[5, 5], [5, 5]]]], undefined, f64));
      assert.deepEqual(pool.backward(Tensor.from([[[[1]]]], undefined, f64)).toArray(), [[[[1, 0], [0, 0]]]]);
    });

    // [PH, PW, stride, pad, H, W, outH, outW], the output size (H + 2·pad − PH) // stride + 1 by hand
    for (const [PH, PW, stride, pad, H, W, outH, outW] of [
      [2, 2, 2, 0, 6, 6, 3, 3], [3, 3, 1, 1, 6, 6, 6, 6], [2, 3, 1, 0, 6, 6, 5, 4],
      [2, 2, 2, 0, 7, 7, 3, 3], [3, 3, 2, 0, 8, 7, 3, 3], [2, 2, 2, 1, 5, 5, 3, 3], [3, 2, 3, 1, 8, 5, 3, 2],
    ]) {
      it(`dx matches the central difference (${PH}×${PW}, stride ${stride}, pad ${pad} on ${H}×${W} → ${outH}×${outW}; overlapping windows sum)`, () => {
        const x = randn([2, 3, H, W], rng, backend); // distinct values: no ties within h
        const pool = new Pooling(PH, PW, stride, pad);
        const out = pool.forward(x);
        assert.deepEqual(out.shape, [2, 3, outH, outW]);
        const g = randn([...out.shape], rng, backend);
        const numeric = numericalGradient(() => weightedSum(pool.forward(x), g), x);
        pool.forward(x);
        const gBefore = snapshot(g);
        const dx = pool.backward(g);
        assert.deepEqual(dx.shape, x.shape);
        assertClose(dx.data, numeric.data, 1e-7, 'Pooling dx');
        assert.deepEqual(snapshot(g), gBefore, 'backward must not modify dout');
      });
    }

    it('2×2, stride 2 on 7×7 gives 3×3: the last row and column, in no whole window, are dropped', () => {
      const x = Tensor.from(Array.from({ length: 49 }, (_, i) => i), [1, 1, 7, 7], f64); // x[y][x] = 7y + x
      const pool = new Pooling(2, 2);
      // each window's maximum is its bottom-right cell: 7·(2oy + 1) + 2ox + 1
      assert.deepEqual(pool.forward(x).toArray(), [[[[8, 10, 12], [22, 24, 26], [36, 38, 40]]]]);
      const dx = pool.backward(Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], f64)).toArray() as number[][][][];
      const expected = Array.from({ length: 7 }, () => new Array(7).fill(0));
      [[1, 1], [1, 3], [1, 5], [3, 1], [3, 3], [3, 5], [5, 1], [5, 3], [5, 5]].forEach(([y, xx], i) => (expected[y][xx] = i + 1));
      assert.deepEqual(dx[0][0], expected);
    });

    it('pad 1: zero padding as the book\'s im2col (np.pad), so 0 is the maximum of a window over negatives and padding', () => {
      // x[y][x] = −(5y + x + 1) on 5×5; 2×2 windows, stride 2, pad 1 cover rows and columns 2o − 1 and 2o
      const x = Tensor.from(Array.from({ length: 25 }, (_, i) => -(i + 1)), [1, 1, 5, 5], f64);
      const pool = new Pooling(2, 2, 2, 1);
      // windows touching row or column −1 hold a padding 0; the others peak at their top-left cell (1|3, 1|3)
      assert.deepEqual(pool.forward(x).toArray(), [[[[0, 0, 0], [0, -7, -9], [0, -17, -19]]]]);
      const dx = pool.backward(Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3], f64)).toArray() as number[][][][];
      const expected = Array.from({ length: 5 }, () => new Array(5).fill(0));
      expected[1][1] = 5; expected[1][3] = 6; expected[3][1] = 8; expected[3][3] = 9; // a maximum in the padding sends nothing back
      assert.deepEqual(dx[0][0], expected);
    });

    it('in float32 it agrees with float64 on windows that do not divide the input (this backend\'s own kernels)', () => {
      for (const [PH, stride, pad, H] of [[2, 2, 0, 7], [2, 2, 0, 25], [3, 2, 1, 10], [2, 2, 1, 9]]) {
        const x = randn([3, 4, H, H], rng, backend);
        const f32 = (t: Tensor): Tensor => t.clone({ dtype: 'float32' });
        const [p64, p32] = [new Pooling(PH, PH, stride, pad), new Pooling(PH, PH, stride, pad)];
        const o64 = p64.forward(x);
        assertClose(p32.forward(f32(x)).data, o64.data, 1e-6, `float32 forward ${PH} ${stride} ${pad} ${H}`);
        const g = randn([...o64.shape], rng, backend);
        // both results before reading either's data: an allocation may grow the memory and detach a view
        const [dx32, dx64] = [p32.backward(f32(g)), p64.backward(g)];
        assertClose(dx32.data, dx64.data, 1e-6, `float32 dx ${PH} ${stride} ${pad} ${H}`);
      }
    });

    it('maxPool keeps the arg max as indices into x', () => {
      const x = Tensor.from([[[[1, 9], [3, 4]], [[8, 2], [7, 6]]]], undefined, f64);
      const { out, argMax } = maxPool(x, 2, 2);
      assert.deepEqual(out.toArray(), [[[[9]], [[8]]]]);
      assert.deepEqual([...argMax], [1, 4]);
    });

    it('shape errors name the layer', () => {
      const pool = new Pooling(2, 2);
      assert.throws(() => pool.forward(randn([2, 784], rng, backend)), /Pooling: input must be 4-D \(N, C, H, W\), got shape \[2,784\]/);
      assert.throws(() => pool.forward(randn([1, 1, 1, 5], rng, backend)), /Pooling: a window of 2 does not fit in 1 padded by 0 on each side \(input shape \[1,1,1,5\], window 2×2, stride 2, pad 0\)/);
      assert.throws(() => new Pooling(0, 2), /Pooling: poolH must be a whole number ≥ 1, got 0/);
      pool.forward(randn([1, 2, 4, 4], rng, backend));
      assert.throws(() => pool.backward(randn([1, 2, 2, 3], rng, backend)), /Pooling: dout has shape \[1,2,2,3\] but the output was \[1,2,2,2\]/);
    });

    it('Flatten: (N, C, H, W) → (N, C·H·W) as a view, and back', () => {
      const flatten = new Flatten();
      const x = randn([2, 3, 4, 5], rng, backend);
      const out = flatten.forward(x);
      assert.deepEqual(out.shape, [2, 60]);
      assert.equal(out.storage, x.storage);
      const dout = randn([2, 60], rng, backend);
      const dx = flatten.backward(dout);
      assert.deepEqual(dx.shape, [2, 3, 4, 5]);
      assert.deepEqual(snapshot(dx), snapshot(dout));
      assert.throws(() => flatten.backward(randn([2, 59], rng, backend)), /Flatten: dout has shape \[2,59\] but the output was \[2,60\]/);
    });
  });
}
