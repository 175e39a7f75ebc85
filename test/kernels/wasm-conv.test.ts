/**
 * The wasm backend's window kernels (im2col, col2im, transposeBatch, maxPoolForward,
 * maxPoolBackward), its row gather and the element-wise kernels it shares out among threads,
 * against the TypeScript reference, bit for bit: float32 results, arg max indices, NaN, ties,
 * −0 and the padding, on the book's shapes (which take the SIMD fast paths) and on odd ones
 * (the edges), for arrays inside the wasm memory and plain arrays, on 1 and 2 threads.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeometry } from '../../src/kernels/Backend.js';
import { JsBackend } from '../../src/kernels/reference/JsBackend.js';
import { createWasmBackend, type WasmBackend } from '../../src/kernels/wasm/index.js';
import { Random } from '../../src/random.js';

const rng = new Random(23);
const js = new JsBackend();

function geometry(batch: number, channels: number, height: number, width: number, filterH: number, filterW: number, stride: number, pad: number): ConvGeometry {
  return {
    batch, channels, height, width, filterH, filterW, stride, pad,
    outH: Math.floor((height + 2 * pad - filterH) / stride) + 1, // the book's (H + 2·pad − FH) // stride + 1
    outW: Math.floor((width + 2 * pad - filterW) / stride) + 1,
  };
}

const GEOMETRIES: ConvGeometry[] = [
  geometry(3, 2, 28, 28, 5, 5, 1, 0), // the book's convolution (smaller batch)
  geometry(3, 4, 24, 24, 2, 2, 2, 0), // the book's pooling
  geometry(2, 3, 10, 14, 2, 2, 2, 0), // pooling, outW = 7: a vector group and a scalar tail
  geometry(2, 2, 9, 11, 2, 2, 2, 1), // padded pooling: the scalar path
  geometry(2, 3, 7, 7, 3, 3, 2, 1),
  geometry(1, 2, 9, 13, 3, 6, 3, 2),
  geometry(2, 1, 2, 2, 3, 3, 1, 1),
  geometry(1, 2, 8, 9, 8, 9, 1, 0), // one window covering the image
  geometry(2, 2, 5, 5, 1, 1, 1, 3), // windows entirely in the padding
  geometry(1, 3, 12, 12, 4, 4, 2, 1),
  // windows that do not divide the input: the last partial window is dropped
  geometry(2, 3, 25, 25, 2, 2, 2, 0), // pooling an odd convolution output: outW = 12, vector groups only, a row and column left over
  geometry(2, 2, 11, 19, 2, 2, 2, 0), // outW = 9: a vector group, a scalar tail and a column left over
  geometry(2, 3, 8, 8, 3, 3, 2, 0), //   convolution 3×3 stride 2 on 8×8 → 3×3
  geometry(1, 2, 9, 7, 2, 2, 2, 1), //   padded pooling, partial windows
  geometry(2, 2, 10, 13, 5, 4, 3, 2),
  geometry(2, 2, 10, 12, 3, 8, 1, 0), // im2col rows 8 wide: two whole vectors
  geometry(2, 1, 9, 11, 2, 7, 2, 1), //  7 wide, overlapping vectors, windows in and out of the padding
];

/** Random values with some ties, zeros of both signs and a few NaN. */
function values(n: number, specials: boolean): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    a[i] = !specials ? rng.normal() : r < 0.05 ? NaN : r < 0.1 ? -0 : r < 0.15 ? 0 : r < 0.3 ? Math.round(rng.normal()) : rng.normal();
  }
  return a;
}

/** Bitwise equality of float32 arrays (distinguishes −0 and 0, compares NaN payloads). */
function sameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

for (const threads of [1, 2]) {
  describe(`wasm window kernels equal the reference bit for bit (${threads} thread${threads > 1 ? 's' : ''})`, () => {
    let wasm: WasmBackend;
    before(async () => {
      wasm = await createWasmBackend({ threads, threadThreshold: 0, threadBackOff: false });
    });
    /** The array, or a copy of it inside the wasm memory (re-read its .data after allocations). */
    const place = (a: Float32Array, resident: boolean) => {
      if (!resident) return () => a;
      const s = wasm.alloc(a.length, 'float32');
      s.data.set(a);
      return () => s.data as Float32Array;
    };

    for (const resident of [false, true]) {
      const where = resident ? 'in the wasm memory' : 'plain arrays';
      it(`im2col and col2im (${where})`, () => {
        for (const g of GEOMETRIES) {
          for (const specials of [false, true]) {
            const x = values(g.batch * g.channels * g.height * g.width, specials);
            const colSize = g.batch * g.outH * g.outW * g.channels * g.filterH * g.filterW;
            const expected = new Float32Array(colSize);
            js.im2col(x, expected, g);
            const xa = place(x, resident);
            const col = place(new Float32Array(colSize).fill(7), resident);
            wasm.im2col(xa(), col(), g);
            sameBits(col(), expected, `im2col ${JSON.stringify(g)}`);

            const c = values(colSize, false);
            const dx = new Float32Array(x.length);
            js.col2im(c, dx, g);
            const ca = place(c, resident);
            const out = place(new Float32Array(x.length).fill(7), resident);
            wasm.col2im(ca(), out(), g);
            sameBits(out(), dx, `col2im ${JSON.stringify(g)}`);
          }
        }
      });

      it(`transposeBatch (${where})`, () => {
        for (const [batch, rows, cols] of [[1, 1, 1], [2, 4, 4], [1, 3, 5], [2, 7, 3], [3, 576, 30], [2, 30, 576], [1, 9, 13], [2, 0, 3]]) {
          const x = values(batch * rows * cols, true);
          const expected = new Float32Array(x.length);
          js.transposeBatch(x, expected, batch, rows, cols);
          const xa = place(x, resident);
          const out = place(new Float32Array(x.length).fill(7), resident);
          wasm.transposeBatch(xa(), out(), batch, rows, cols);
          sameBits(out(), expected, `transposeBatch ${batch}×${rows}×${cols}`);
        }
      });

      it(`maxPoolForward and maxPoolBackward: values, arg max, ties, NaN, −0, padding (${where})`, () => {
        for (const g of GEOMETRIES) {
          for (const specials of [false, true]) {
            const x = values(g.batch * g.channels * g.height * g.width, specials);
            const outputs = g.batch * g.channels * g.outH * g.outW;
            const out = new Float32Array(outputs);
            const arg = new Int32Array(outputs);
            js.maxPoolForward(x, out, arg, g);
            const xa = place(x, resident);
            const wout = place(new Float32Array(outputs).fill(7), resident);
            const warg = new Int32Array(outputs).fill(-7);
            wasm.maxPoolForward(xa(), wout(), warg, g);
            sameBits(wout(), out, `maxPoolForward ${JSON.stringify(g)}`);
            assert.deepEqual(warg, arg, `maxPoolForward arg max ${JSON.stringify(g)}`);

            const dout = values(outputs, false);
            const dx = new Float32Array(x.length);
            js.maxPoolBackward(dout, arg, dx, g);
            const da = place(dout, resident);
            const wdx = place(new Float32Array(x.length).fill(7), resident);
            wasm.maxPoolBackward(da(), warg, wdx(), g);
            sameBits(wdx(), dx, `maxPoolBackward ${JSON.stringify(g)}`);
          }
        }
      });
    }

    it('maxPoolForward: NaN in each cell of a 2×2 window, in the vector path and the scalar tail', () => {
      const g = geometry(1, 1, 2, 10, 2, 2, 2, 0); // outW = 5: 4 vector outputs, 1 scalar
      for (let cell = 0; cell < 4; cell++) {
        const x = Float32Array.from({ length: 20 }, (_, i) => (i % 3) - 1);
        for (let w = 0; w < 5; w++) x[(cell >> 1) * 10 + 2 * w + (cell & 1)] = NaN;
        x[1] = NaN; // a second NaN in window 0: the first one stays
        const [out, arg] = [new Float32Array(5), new Int32Array(5)];
        const [wout, warg] = [new Float32Array(5), new Int32Array(5)];
        js.maxPoolForward(x, out, arg, g);
        wasm.maxPoolForward(x, wout, warg, g);
        sameBits(wout, out, `NaN in cell ${cell}`);
        assert.deepEqual(warg, arg);
        assert.ok(wout.every(Number.isNaN));
      }
    });

    it('argMax entries outside dx are skipped, not written', () => {
      const g = geometry(1, 1, 4, 4, 2, 2, 2, 0);
      const guard = wasm.alloc(64, 'float32');
      const dx = wasm.alloc(16, 'float32');
      const after = wasm.alloc(64, 'float32');
      guard.data.fill(5);
      after.data.fill(5);
      wasm.maxPoolBackward(Float32Array.of(1, 2, 3, 4), Int32Array.of(-1, 16, 1 << 20, 3), dx.data as Float32Array, g);
      assert.deepEqual([...dx.data], [0, 0, 0, 4, ...new Array(12).fill(0)]);
      assert.ok(guard.data.every((v) => v === 5) && after.data.every((v) => v === 5));
    });

    it('maxPoolBackward on the book\'s 2×2 pooling, with and without a mask, also when an arg max lies outside its window or plane', () => {
      const g = geometry(100, 30, 24, 24, 2, 2, 2, 0); // large enough for the threads
      const size = 100 * 30 * 24 * 24;
      const x = values(size, true);
      const [out, argMax] = [new Float32Array(size / 4), new Int32Array(size / 4)];
      js.maxPoolForward(x, out, argMax, g);
      const dout = values(size / 4, true);
      for (const stray of [false, true]) {
        const arg = Int32Array.from(argMax);
        if (stray) [arg[5], arg[700]] = [3, size - 1]; // another window of its plane; the last plane
        for (const mask of [null, x]) {
          const expected = new Float32Array(size);
          js.maxPoolBackward(dout, arg, expected, g, mask);
          const dx = new Float32Array(size).fill(9);
          wasm.maxPoolBackward(dout, arg, dx, g, mask);
          sameBits(dx, expected, `maxPoolBackward stray ${stray} mask ${mask !== null}`);
        }
      }
    });

    it('relu, reluBackward and addBias on arrays large enough to be shared out among threads', () => {
      for (const n of [3 * 4096 + 5, 8 * 4096, 20000]) {
        const x = values(n, true);
        const dout = values(n, true);
        const [out, dx] = [new Float32Array(n), new Float32Array(n)];
        js.relu(x, out);
        js.reluBackward(dout, x, dx);
        for (const resident of [false, true]) {
          const xa = place(x, resident);
          const wout = place(new Float32Array(n).fill(7), resident);
          wasm.relu(xa(), wout());
          sameBits(wout(), out, `relu ${n}`);
          const da = place(dout, resident);
          const wdx = place(new Float32Array(n).fill(7), resident);
          wasm.reluBackward(da(), xa(), wdx());
          sameBits(wdx(), dx, `reluBackward ${n}`);
          const inPlace = place(x, resident);
          wasm.relu(inPlace(), inPlace());
          sameBits(inPlace(), out, `relu in place ${n}`);
        }
      }
      for (const [rows, cols] of [[57600 / 16, 30], [1000, 33], [3, 5000]]) {
        const x = values(rows * cols, true);
        const bias = values(cols, true);
        const out = new Float32Array(rows * cols);
        js.addBias(x, bias, out, rows, cols);
        const wout = new Float32Array(rows * cols).fill(7);
        wasm.addBias(x, bias, wout, rows, cols);
        sameBits(wout, out, `addBias ${rows}×${cols}`);
        wasm.addBias(x, bias, x, rows, cols); // in place
        sameBits(x, out, `addBias in place ${rows}×${cols}`);
      }
    });

    it('gatherRows in the wasm memory copies the rows the reference copies', () => {
      // rows shorter than a 64-byte line, whole lines, lines and a rest; counts with and without
      // groups of 8 and 4 rows and single rows (the kernel copies 8, then 4 rows side by side)
      for (const [rows, cols, count] of [[50, 13, 40], [50, 16, 41], [30, 784, 100], [9, 21, 7], [5, 37, 3], [20, 21, 19], [12, 37, 13]]) {
        const src = wasm.alloc(rows * cols, 'float32');
        src.data.set(values(rows * cols, true));
        const index = Int32Array.from({ length: count }, () => rng.int(rows));
        index[0] = rows - 1;
        const out = wasm.alloc(count * cols + 16, 'float32');
        out.data.fill(9);
        const expected = new Float32Array(count * cols + 16).fill(9);
        js.gatherRows(src.data, index, expected, cols);
        wasm.gatherRows(src.data, index, out.data, cols);
        sameBits(out.data as Float32Array, expected, `gatherRows ${count} of ${rows}×${cols}`);
      }
      const [rows, cols] = [50, 13];
      const src = wasm.alloc(rows * cols, 'float32');
      src.data.set(values(rows * cols, true));
      // an index outside src: the reference's partial copy, no write outside out
      const bad = Int32Array.of(3, rows, -1);
      const small = wasm.alloc(3 * cols, 'float32');
      const after = wasm.alloc(16, 'float32');
      after.data.fill(5);
      small.data.fill(7);
      const e = new Float32Array(3 * cols).fill(7);
      js.gatherRows(src.data, bad, e, cols);
      wasm.gatherRows(src.data, bad, small.data, cols);
      sameBits(small.data as Float32Array, e, 'gatherRows with a bad index');
      assert.ok(after.data.every((v) => v === 5));
    });

    it('float64 and unusual geometries run on the reference', () => {
      const g = geometry(1, 2, 5, 5, 3, 3, 1, 1);
      const x = Float64Array.from({ length: 50 }, () => rng.normal());
      const [a, b] = [new Float64Array(450), new Float64Array(450)];
      js.im2col(x, a, g);
      wasm.im2col(x, b, g);
      assert.deepEqual(b, a);
      // a geometry with a fractional field is left to the reference rather than guessed at
      const odd = { ...g, outH: 2.5 };
      const [c, d] = [new Float32Array(450), new Float32Array(450)];
      js.im2col(Float32Array.from(x), c, odd);
      wasm.im2col(Float32Array.from(x), d, odd);
      sameBits(d, c, 'fractional geometry');
    });
  });
}

describe('wasm products of a convolution net: 2 threads equal 1 thread bit for bit', () => {
  // dW = doutᵀ · col (few rows, large packed B: chunks split by panels, see fewerPasses), and
  // SimpleConvNet's Affine1 products.
  const shapes: [number, number, number, boolean, boolean][] = [
    [30, 57600, 25, true, false], [100, 4320, 100, false, false], [100, 100, 4320, false, true], [5760, 25, 30, false, true],
  ];
  for (const [m, k, n, tA, tB] of shapes) {
    it(`${m}×${k}×${n}${tA ? ' Aᵀ' : ''}${tB ? ' Bᵀ' : ''}`, async () => {
      const one = await createWasmBackend({ threads: 1 });
      const two = await createWasmBackend({ threads: 2, threadBackOff: false });
      const a = values(m * k, false);
      const b = values(k * n, false);
      const c1 = new Float32Array(m * n);
      const c2 = new Float32Array(m * n).fill(7);
      one.matmul(a, b, c1, m, k, n, tA, tB, false);
      two.matmul(a, b, c2, m, k, n, tA, tB, false);
      sameBits(c2, c1, 'product');
      two.matmul(a, b, c2, m, k, n, tA, tB, true);
      one.matmul(a, b, c1, m, k, n, tA, tB, true);
      sameBits(c2, c1, 'accumulated product');
      await two.close();
    });
  }
});
