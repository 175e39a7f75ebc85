/**
 * Property-based tests of the IDX reader (raw and gzip): generated files read back exactly, and
 * every mutation of a valid file (truncation, flipped bytes, changed counts and header fields,
 * huge dimensions, gzip damage, decompression bombs) gives the right array or a DataError
 * naming the file, without allocating much more than the file holds.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DataError } from '../../src/data/DataError.js';
import { imageSetFromIdx, parseIdx } from '../../src/data/idx.js';
import { loadIdxDataset, readIdxFile } from '../../src/data/idxFiles.js';
import { applyMutation, assertAllocatedAtMost, check, concat, measureAllocations, mutationArb, sometimes } from '../property.js';

const dir = mkdtempSync(join(tmpdir(), 'backprop-idx-property-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file written independently of the reader: magic, type, count, big-endian sizes, data. */
function writeIdx(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    const o = 4 + 4 * i;
    out[o] = d >>> 24;
    out[o + 1] = (d >>> 16) & 0xff;
    out[o + 2] = (d >>> 8) & 0xff;
    out[o + 3] = d & 0xff;
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** 1 to 4 dimensions of 1 to 12 each, with their data. */
const idxArb = fc
  .array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 })
  .chain((dims) => {
    const size = dims.reduce((a, b) => a * b, 1);
    return fc.record({ dims: fc.constant(dims), data: fc.uint8Array({ minLength: size, maxLength: size }) });
  });

/** Header edits: what a corrupt or hostile header says. */
const headerEditArb = fc.oneof(
  fc.record({ field: fc.constant('dim' as const), index: fc.nat(3), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x80000000, 0x10000, 60000), fc.nat()) }),
  fc.record({ field: fc.constant('ndims' as const), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ field: fc.constant('type' as const), value: fc.constantFrom(0x00, 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0xff) }),
  fc.record({ field: fc.constant('magic' as const), value: fc.constantFrom(0x01, 0x1f, 0x80, 0xff) }),
);

type HeaderEdit = typeof headerEditArb extends fc.Arbitrary<infer T> ? T : never;

function editHeader(file: Uint8Array, edit: HeaderEdit): Uint8Array {
  const out = file.slice();
  const view = new DataView(out.buffer);
  if (edit.field === 'dim') {
    const offset = 4 + 4 * Math.min(edit.index, out[3] - 1);
    if (offset + 4 <= out.length) view.setUint32(offset, edit.value >>> 0, false);
  } else if (edit.field === 'ndims') out[3] = edit.value;
  else if (edit.field === 'type') out[2] = edit.value;
  else out[0] = edit.value;
  return out;
}

/** A broken file: header edits and byte mutations of a valid one. */
const brokenArb = fc.record({
  idx: idxArb,
  edits: fc.array(headerEditArb, { maxLength: 2 }),
  mutations: fc.array(mutationArb, { maxLength: 3 }),
}).map(({ idx, edits, mutations }) => {
  let file = writeIdx(idx.dims, idx.data);
  for (const e of edits) file = editHeader(file, e);
  for (const m of mutations) file = applyMutation(file, m);
  return file;
});

/** What the test's own reading of `file` says it should give: the array, or null for invalid. */
function expectedIdx(file: Uint8Array): { dims: number[]; data: Uint8Array } | null {
  if (file.length < 8 || file[0] !== 0 || file[1] !== 0 || file[2] !== 0x08) return null;
  const n = file[3];
  if (n < 1 || n > 4 || file.length < 4 + 4 * n) return null;
  const dims: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = 4 + 4 * i;
    dims.push(file[o] * 2 ** 24 + file[o + 1] * 2 ** 16 + file[o + 2] * 2 ** 8 + file[o + 3]);
  }
  if (dims.includes(0)) return null;
  const size = dims.reduce((a, b) => a * b, 1); // exact while it matters: compared with the file length
  if (size !== file.length - 4 - 4 * n) return null;
  return { dims, data: file.subarray(4 + 4 * n) };
}

/** The whole data section an IDX header declares, or 0 when the header is not readable. */
function declaredBytes(file: Uint8Array): number {
  if (file.length < 4) return 0;
  const n = file[3];
  if (file[0] !== 0 || file[1] !== 0 || file[2] !== 0x08 || n < 1 || n > 4 || file.length < 4 + 4 * n) return 0;
  let size = 1;
  for (let i = 0; i < n; i++) size *= new DataView(file.buffer, file.byteOffset).getUint32(4 + 4 * i, false);
  return 4 + 4 * n + size;
}

/** The file's outcome is right: the expected array, or a DataError whose message starts with `name`. */
function assertOutcome(outcome: { result?: { dims: number[]; data: Uint8Array }; error?: unknown }, expected: ReturnType<typeof expectedIdx>, name: string): void {
  if (expected) {
    assert.ok(outcome.result, `a valid file was refused: ${String(outcome.error)}`);
    assert.deepEqual(outcome.result.dims, expected.dims);
    assert.deepEqual(Array.from(outcome.result.data), Array.from(expected.data));
  } else {
    assert.ok(outcome.error instanceof DataError, `expected a DataError, got ${outcome.error === undefined ? 'a result' : String(outcome.error)}`);
    assert.ok(outcome.error.message.startsWith(name), `the message names the file: ${outcome.error.message}`);
  }
}

const NAME = '/data/mnist/train-images-idx3-ubyte';

/** Zeros that deflate ~1000:1, as separate gzip members to append: a decompression bomb. */
const BOMBS = [1 << 20, 8 << 20].map((n) => gzipSync(new Uint8Array(n), { level: 9 }));

describe('IDX reader, property-based', () => {
  it('reads back every generated file exactly', () => {
    check('idx round trip', 1000, fc.property(idxArb, ({ dims, data }) => {
      const got = parseIdx(writeIdx(dims, data), NAME);
      assert.deepEqual(got.dims, dims);
      assert.deepEqual(Array.from(got.data), Array.from(data));
    }));
  });

  it('a mutated file gives the right array or a DataError naming the file, allocating nothing much', () => {
    check('idx mutations', 2000, fc.property(brokenArb, (file) => {
      const outcome = measureAllocations(() => parseIdx(file, NAME));
      assertOutcome(outcome, expectedIdx(file), NAME);
      assertAllocatedAtMost(outcome, 4 * file.length + 65536, `${file.length}-byte file`);
    }));
  });

  it('gzip: round trips, damaged streams and decompression bombs give the right array or a DataError', () => {
    const path = join(dir, 'train-images-idx3-ubyte.gz');
    const gzArb = fc.record({
      raw: fc.oneof(idxArb.map(({ dims, data }) => writeIdx(dims, data)), brokenArb),
      level: fc.integer({ min: 0, max: 9 }),
      gzMutations: fc.array(mutationArb, { maxLength: 2 }),
      bomb: sometimes(fc.integer({ min: 0, max: BOMBS.length - 1 }), 8),
    });
    check('idx gzip', 500, fc.property(gzArb, ({ raw, level, gzMutations, bomb }) => {
      let gz: Uint8Array = gzipSync(raw, { level });
      for (const m of gzMutations) gz = applyMutation(gz, m);
      if (bomb !== null) gz = concat(gz, BOMBS[bomb]);
      writeFileSync(path, gz);
      // What the file really decompresses to, by the test's own gunzip (when it is valid gzip).
      let plain: Uint8Array | null = null;
      try {
        plain = gunzipSync(gz);
      } catch { /* corrupt gzip: a DataError is expected */ }
      const isGzip = gz.length >= 2 && gz[0] === 0x1f && gz[1] === 0x8b;
      const expected = isGzip ? (plain ? expectedIdx(plain) : null) : expectedIdx(gz);
      const name = isGzip ? `${path} (decompressed)` : path;
      const outcome = measureAllocations(() => readIdxFile(path));
      if (!expected && outcome.error instanceof DataError) assert.ok(outcome.error.message.startsWith(path), outcome.error.message);
      else assertOutcome(outcome, expected, name);
      // Never more than the file, plus what its header declares and the data delivers.
      const legit = plain ? Math.min(plain.length, declaredBytes(plain)) : 0;
      assertAllocatedAtMost(outcome, 8 * gz.length + 3 * legit + (1 << 18), `${gz.length}-byte gzip file`);
    }));
  });

  it('a dataset directory of four files, one damaged, compressed or missing, loads or names the directory or file', () => {
    const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
    const arb = fc.record({
      counts: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })),
      sides: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      gzip: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      damaged: fc.integer({ min: 0, max: 3 }),
      damage: sometimes(fc.oneof(mutationArb.map((m) => ({ m })), fc.constant('missing' as const), fc.constant('directory' as const)), 1),
    });
    let k = 0;
    check('idx dataset', 200, fc.property(arb, ({ counts, sides: [rows, cols, testCols], gzip, damaged, damage }) => {
      const sub = join(dir, `set-${k++}`);
      mkdirSync(sub);
      const files = [
        writeIdx([counts[0], rows, cols], new Uint8Array(counts[0] * rows * cols).fill(7)), writeIdx([counts[0]], new Uint8Array(counts[0]).fill(3)),
        writeIdx([counts[1], rows, testCols], new Uint8Array(counts[1] * rows * testCols).fill(9)), writeIdx([counts[1]], new Uint8Array(counts[1]).fill(1)),
      ];
      files.forEach((bytes, i) => {
        const name = gzip[i] ? `${FILES[i]}.gz` : FILES[i];
        if (i === damaged && damage === 'missing') return;
        if (i === damaged && damage === 'directory') return mkdirSync(join(sub, name));
        const data = i === damaged && typeof damage === 'object' && damage !== null ? applyMutation(bytes, damage.m) : bytes;
        writeFileSync(join(sub, name), gzip[i] ? gzipSync(data) : data);
      });
      const outcome = measureAllocations(() => loadIdxDataset(sub));
      if (damage === null && testCols === cols) {
        assert.ok(outcome.result, String(outcome.error));
        assert.deepEqual([outcome.result.train.count, outcome.result.test.count, outcome.result.train.cols], [counts[0], counts[1], cols]);
      } else if (outcome.error !== undefined) {
        assert.ok(outcome.error instanceof DataError, `expected a DataError, got ${String(outcome.error)}`);
        assert.ok(outcome.error.message.includes(sub), `names the directory or a file in it: ${outcome.error.message}`);
      }
      rmSync(sub, { recursive: true });
    }));
  });

  it('pairs image and label files, refusing mismatched counts and labels out of range by file and offset', () => {
    const arb = fc.record({
      count: fc.integer({ min: 1, max: 20 }),
      rows: fc.integer({ min: 1, max: 5 }),
      cols: fc.integer({ min: 1, max: 5 }),
      labelCount: sometimes(fc.integer({ min: 1, max: 21 })),
      labels: fc.array(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 255 })), { minLength: 21, maxLength: 21 }),
      labelDims: sometimes(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 3 }), 8),
    });
    check('idx image set', 500, fc.property(arb, ({ count, rows, cols, labelCount, labels, labelDims }) => {
      const n = labelCount ?? count;
      const images = writeIdx([count, rows, cols], new Uint8Array(count * rows * cols).map((_, i) => i));
      const dims = labelDims ?? [n];
      const size = dims.reduce((a, b) => a * b, 1);
      const labelBytes = Uint8Array.from({ length: size }, (_, i) => labels[i % labels.length]);
      const outcome = measureAllocations(() =>
        imageSetFromIdx(parseIdx(images, 'images.idx'), parseIdx(writeIdx(dims, labelBytes), 'labels.idx'), 'images.idx', 'labels.idx'));
      const firstBad = labelBytes.findIndex((l) => l > 9);
      if (labelDims !== null) {
        assert.ok(outcome.error instanceof DataError && outcome.error.message.startsWith('labels.idx'), String(outcome.error));
      } else if (n !== count) {
        assert.ok(outcome.error instanceof DataError && /images\.idx.*labels\.idx/.test(outcome.error.message), String(outcome.error));
      } else if (firstBad >= 0) {
        assert.ok(outcome.error instanceof DataError, String(outcome.error));
        assert.ok(outcome.error.message.startsWith(`labels.idx: label ${firstBad} (byte offset ${8 + firstBad})`), outcome.error.message);
      } else {
        assert.ok(outcome.result, String(outcome.error));
        assert.deepEqual([outcome.result.count, outcome.result.rows, outcome.result.cols], [count, rows, cols]);
        assert.deepEqual(Array.from(outcome.result.labels), Array.from(labelBytes));
      }
    }));
  });
});
