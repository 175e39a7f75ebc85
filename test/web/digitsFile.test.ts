import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDigits, encodeDigits } from '../../src/data/digitsFile.js';

describe('playground digits file', () => {
  const set = { images: Uint8Array.from({ length: 3 * 4 }, (_, i) => i * 20), labels: Uint8Array.from([7, 0, 9]), count: 3, rows: 2, cols: 2 };

  it('round-trips images and labels with a 12-byte header', () => {
    const bytes = encodeDigits(set);
    assert.equal(bytes.length, 12 + 12 + 3);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'BPD1');
    const back = decodeDigits(bytes);
    assert.deepEqual([back.count, back.rows, back.cols], [3, 2, 2]);
    assert.deepEqual(back.images, set.images);
    assert.deepEqual(back.labels, set.labels);
  });

  it('refuses a file that is not one, or is truncated, saying so', () => {
    assert.throws(() => decodeDigits(new Uint8Array([60, 104, 116, 109, 108, 62, 0, 0, 0, 0, 0, 0]), 'digits.bin'), /digits\.bin: not a playground digits file/);
    assert.throws(() => decodeDigits(encodeDigits(set).subarray(0, 20), 'digits.bin'), /digits\.bin: 3 images of 2×2 need 27 bytes, the file has 20/);
    assert.throws(() => encodeDigits({ ...set, count: 4 }), RangeError);
  });
});
