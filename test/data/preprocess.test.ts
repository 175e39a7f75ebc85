import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { centreOfMass, inkFromRgba, toMnist } from '../../src/data/preprocess.js';

/** A 280×280 drawing with ink in the given rectangle. */
function drawing(x0: number, y0: number, x1: number, y1: number): Float32Array {
  const ink = new Float32Array(280 * 280);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink[y * 280 + x] = 1;
  return ink;
}

/** The bounding box [x0, y0, x1, y1] (inclusive) of pixels above 0.1 in a 28×28 image. */
function box(p: Float32Array): number[] {
  let [x0, y0, x1, y1] = [28, 28, -1, -1];
  for (let i = 0; i < 784; i++) {
    if (p[i] > 0.1) {
      const x = i % 28, y = Math.floor(i / 28);
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  return [x0, y0, x1, y1];
}

describe('drawing to MNIST', () => {
  it('an empty drawing gives null', () => {
    assert.equal(toMnist(new Float32Array(280 * 280), 280, 280), null);
  });

  it('scales a tall stroke in a corner to 20 px high and centres its mass', () => {
    const p = toMnist(drawing(10, 20, 30, 220), 280, 280)!; // 20 × 200 px, top left
    assert.equal(p.length, 784);
    assert.ok(p.every((v) => v >= 0 && v <= 1));
    const [x0, y0, x1, y1] = box(p);
    assert.equal(y1 - y0 + 1, 20);
    assert.equal(x1 - x0 + 1, 2);
    const [cx, cy] = centreOfMass(p)!;
    assert.ok(Math.abs(cx - 13.5) <= 0.5 && Math.abs(cy - 13.5) <= 0.5, `centre of mass ${cx}, ${cy}`);
  });

  it('keeps the aspect ratio of a wide shape and full ink inside it', () => {
    const p = toMnist(drawing(100, 100, 260, 180), 280, 280)!; // 160 × 80
    const [x0, y0, x1, y1] = box(p);
    assert.deepEqual([x1 - x0 + 1, y1 - y0 + 1], [20, 10]);
    assert.equal(p[14 * 28 + 14], 1);
  });

  it('a single dot becomes a centred blob, not a crash', () => {
    const ink = new Float32Array(280 * 280);
    ink[5 * 280 + 270] = 1;
    const p = toMnist(ink, 280, 280)!;
    const [cx, cy] = centreOfMass(p)!;
    assert.ok(Math.abs(cx - 13.5) <= 0.5 && Math.abs(cy - 13.5) <= 0.5);
  });

  it('reads ink as 1 − luminance, transparent as paper', () => {
    const rgba = new Uint8ClampedArray([0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0, 128, 128, 128, 255]);
    const ink = inkFromRgba(rgba);
    assert.deepEqual(Array.from(ink.subarray(0, 3)), [1, 0, 0]);
    assert.ok(Math.abs(ink[3] - 0.498) < 0.01);
  });
});
