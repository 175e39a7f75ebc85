import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/DataError.js';
import { imageSetFromIdx, parseIdx } from '../../src/data/idx.js';
import { findIdxFile, loadIdxDataset, readIdxFile } from '../../src/data/idxFiles.js';

/** Builds the bytes of an IDX file: magic, big-endian dimension sizes, then `data`. */
function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = type;
  bytes[3] = dims.length;
  dims.forEach((size, i) => view.setUint32(4 + 4 * i, size, false));
  bytes.set(data, 4 + 4 * dims.length);
  return bytes;
}

/** `count` images of `rows × cols` pixels with distinct values, and labels cycling 0..9. */
function imageSetBytes(count: number, rows: number, cols: number) {
  const pixels = Array.from({ length: count * rows * cols }, (_, i) => (i * 7) % 256);
  const labels = Array.from({ length: count }, (_, i) => i % 10);
  return { pixels, labels, images: idxBytes([count, rows, cols], pixels), labelFile: idxBytes([count], labels) };
}

/** Asserts `fn` throws a DataError whose message matches every pattern. */
function assertDataError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    assert.equal(error.name, 'DataError');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

/** Escapes a path for use inside a RegExp. */
function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'backprop-idx-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `bytes` to a new file in the temp dir and returns its path. */
function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Writes the four standard files into a new subdirectory; `gzip` compresses them. */
function writeDataset(
  name: string,
  options: { gzip?: boolean; trainRows?: number; testRows?: number; trainLabels?: Uint8Array } = {},
): string {
  const sub = join(dir, name);
  mkdirSync(sub);
  const train = imageSetBytes(20, options.trainRows ?? 4, 3);
  const test = imageSetBytes(10, options.testRows ?? 4, 3);
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte': train.images,
    'train-labels-idx1-ubyte': options.trainLabels ?? train.labelFile,
    't10k-images-idx3-ubyte': test.images,
    't10k-labels-idx1-ubyte': test.labelFile,
  };
  for (const [base, bytes] of Object.entries(files)) {
    writeFileSync(join(sub, options.gzip ? `${base}.gz` : base), options.gzip ? gzipSync(bytes) : bytes);
  }
  return sub;
}

describe('parseIdx', () => {
  test('reads the dims and data of a 3-D file', () => {
    const { pixels, images } = imageSetBytes(5, 4, 3);
    const parsed = parseIdx(images, 'images');
    assert.deepEqual(parsed.dims, [5, 4, 3]);
    assert.deepEqual(Array.from(parsed.data), pixels);
  });

  test('returns a view on the input, not a copy', () => {
    const bytes = idxBytes([3], [7, 2, 1]);
    const parsed = parseIdx(bytes, 'labels');
    assert.equal(parsed.data.buffer, bytes.buffer);
    assert.equal(parsed.data.byteOffset, 8);
    assert.equal(parsed.data.length, 3);
  });

  test('works on a view that does not start at offset 0 of its buffer', () => {
    const file = idxBytes([2, 2], [1, 2, 3, 4]);
    const padded = new Uint8Array(file.length + 10);
    padded.set(file, 5);
    const parsed = parseIdx(padded.subarray(5, 5 + file.length), 'offset');
    assert.deepEqual(parsed.dims, [2, 2]);
    assert.deepEqual(Array.from(parsed.data), [1, 2, 3, 4]);
  });

  test('rejects a file too short for a header', () => {
    assertDataError(
      () => parseIdx(new Uint8Array(5), 'tiny.idx'),
      /^tiny\.idx: file is 5 bytes, too short for an IDX header \(needs at least 8\)$/,
    );
  });

  test('rejects a header cut off inside the dimension sizes', () => {
    const cut = idxBytes([5, 4, 3], []).subarray(0, 10);
    assertDataError(() => parseIdx(cut, 'cut.idx'), /^cut\.idx: file is 10 bytes/, /3-dimensional/, /needs 16/);
  });

  test('rejects wrong magic, showing the bytes found and those expected', () => {
    const bytes = idxBytes([3], [1, 2, 3]);
    bytes[0] = 0x42;
    assertDataError(
      () => parseIdx(bytes, 'bad-magic.idx'),
      /^bad-magic\.idx: not an IDX file/,
      /offset 0 are 42 00 08 01/,
      /expected 00 00/,
    );
  });

  test('hints that gzip bytes need decompressing', () => {
    assertDataError(() => parseIdx(gzipSync(idxBytes([3], [1, 2, 3])), 'x.gz'), /1f 8b/, /decompress/);
  });

  test('rejects unsupported data types, naming them', () => {
    assertDataError(
      () => parseIdx(idxBytes([2], [0, 0, 0, 0, 0, 0, 0, 0], 0x0d), 'floats.idx'),
      /^floats\.idx: IDX data type 0x0D \(32-bit float\) at byte offset 2 is not supported/,
      /only 0x08 \(unsigned byte\)/,
    );
    assertDataError(() => parseIdx(idxBytes([2], [0, 0], 0x42), 'weird.idx'), /0x42 \(unknown type\)/);
  });

  test('rejects 0 or too many dimensions', () => {
    assertDataError(
      () => parseIdx(new Uint8Array([0, 0, 8, 0, 0, 0, 0, 0]), 'nodims.idx'),
      /^nodims\.idx: IDX header gives 0 dimensions at byte offset 3; expected 1 to 4$/,
    );
    assertDataError(() => parseIdx(idxBytes([1, 1, 1, 1, 1], [7]), 'five.idx'), /5 dimensions/);
  });

  test('rejects a dimension of size 0, naming its offset', () => {
    assertDataError(
      () => parseIdx(idxBytes([3, 0, 2], []), 'empty.idx'),
      /^empty\.idx: dimension 1 \(byte offset 8\) has size 0$/,
    );
  });

  test('rejects truncated data, with the sizes in the header and in the file', () => {
    const bytes = idxBytes([60000, 28, 28], new Uint8Array(1000));
    assertDataError(
      () => parseIdx(bytes, 'train-images-idx3-ubyte'),
      /^train-images-idx3-ubyte: header says 60000 × 28 × 28 = 47040000 bytes of data starting at byte 16, but the file has only 1000 bytes after the header \(truncated\?\)$/,
    );
  });

  test('reports absurd sizes exactly rather than overflowing', () => {
    const bytes = idxBytes([0xffffffff, 0xffffffff, 0xffffffff], [1, 2]);
    assertDataError(() => parseIdx(bytes, 'huge.idx'), /= 79228162458924105385300197375 bytes/, /only 2 bytes/);
  });

  test('rejects extra bytes after the data, saying where they start', () => {
    const bytes = idxBytes([2, 3], [1, 2, 3, 4, 5, 6, 99, 99]);
    assertDataError(
      () => parseIdx(bytes, 'long.idx'),
      /^long\.idx: header says 2 × 3 = 6 bytes of data starting at byte 12/,
      /has 8 bytes after the header \(2 extra bytes from byte offset 18\)/,
    );
  });
});

describe('imageSetFromIdx', () => {
  const images = parseIdx(imageSetBytes(4, 2, 3).images, 'imgs');
  const labels = parseIdx(idxBytes([4], [3, 1, 4, 1]), 'lbls');

  test('pairs images with labels', () => {
    const set = imageSetFromIdx(images, labels, 'imgs', 'lbls');
    assert.deepEqual([set.count, set.rows, set.cols], [4, 2, 3]);
    assert.equal(set.images, images.data);
    assert.deepEqual(Array.from(set.labels), [3, 1, 4, 1]);
  });

  test('rejects an image file that is not 3-D, hinting at swapped files', () => {
    assertDataError(
      () => imageSetFromIdx(labels, images, 'lbls', 'imgs'),
      /^lbls: an image file must be 3-dimensional/,
      /1 dimension \[4\]/,
      /swapped/,
    );
  });

  test('rejects a label file that is not 1-D', () => {
    const twoD = parseIdx(idxBytes([2, 2], [0, 1, 2, 3]), 'lbls2d');
    assertDataError(
      () => imageSetFromIdx(images, twoD, 'imgs', 'lbls2d'),
      /^lbls2d: a label file must be 1-dimensional/,
      /2 dimensions \[2, 2\]/,
    );
  });

  test('rejects a count mismatch, naming both files and both counts', () => {
    const three = parseIdx(idxBytes([3], [0, 1, 2]), 'three-labels');
    assertDataError(
      () => imageSetFromIdx(images, three, 'four-images', 'three-labels'),
      /^four-images has 4 images but three-labels has 3 labels/,
    );
  });

  test('rejects a label out of range, naming index, offset and value', () => {
    const bad = parseIdx(idxBytes([4], [3, 1, 10, 1]), 'bad-labels');
    assertDataError(
      () => imageSetFromIdx(images, bad, 'imgs', 'bad-labels'),
      /^bad-labels: label 2 \(byte offset 10\) is 10, but labels must be 0 to 9$/,
    );
    // A smaller class count makes 4 out of range too.
    assertDataError(() => imageSetFromIdx(images, labels, 'imgs', 'lbls', 4), /label 2 .* is 4, but labels must be 0 to 3/);
  });

  test('rejects a nonsensical numClasses', () => {
    assert.throws(() => imageSetFromIdx(images, labels, 'imgs', 'lbls', 0), RangeError);
  });
});

describe('readIdxFile', () => {
  test('round-trips a raw file', () => {
    const { pixels, images } = imageSetBytes(3, 5, 2);
    const parsed = readIdxFile(writeTemp('raw-images', images));
    assert.deepEqual(parsed.dims, [3, 5, 2]);
    assert.deepEqual(Array.from(parsed.data), pixels);
  });

  test('round-trips a gzipped file', () => {
    const { pixels, images } = imageSetBytes(3, 5, 2);
    const parsed = readIdxFile(writeTemp('gz-images.gz', gzipSync(images)));
    assert.deepEqual(parsed.dims, [3, 5, 2]);
    assert.deepEqual(Array.from(parsed.data), pixels);
  });

  test('detects gzip by its magic bytes, not its name', () => {
    const parsed = readIdxFile(writeTemp('no-extension', gzipSync(idxBytes([2], [4, 5]))));
    assert.deepEqual(Array.from(parsed.data), [4, 5]);
  });

  test('names the file and says "decompressed" for errors inside a gzip', () => {
    const path = writeTemp('short.gz', gzipSync(idxBytes([10], [1, 2, 3])));
    assertDataError(() => readIdxFile(path), literal(`${path} (decompressed): header says 10 = 10 bytes`), /truncated/);
  });

  test('rejects corrupt gzip data, naming the file', () => {
    const gz = gzipSync(idxBytes([100], new Uint8Array(100).fill(3)));
    const path = writeTemp('corrupt.gz', gz.subarray(0, gz.length - 12)); // cut off the end
    assertDataError(() => readIdxFile(path), literal(`${path}: corrupt gzip data`), /download it again/);
    const garbled = Uint8Array.from(gz);
    garbled.fill(0xff, 10, 20); // damage the deflate stream
    const path2 = writeTemp('garbled.gz', garbled);
    assertDataError(() => readIdxFile(path2), literal(`${path2}: corrupt gzip data`));
  });

  test('a gzip bomb (a 3-byte array, then 64 MB of zeros in 64 KB) is refused without inflating it', () => {
    const gz = Buffer.concat([gzipSync(idxBytes([3], [1, 2, 3])), gzipSync(new Uint8Array(64 << 20), { level: 9 })]);
    const path = writeTemp('bomb.gz', gz);
    const before = process.memoryUsage().arrayBuffers;
    assertDataError(() => readIdxFile(path), literal(`${path} (decompressed): header says 11 bytes in all`), /decompresses to more \(extra bytes from byte offset 11\)/);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 1 << 20, `reading a ${gz.length}-byte bomb grew array buffers by ${grown} bytes`);
  });

  test('a gzip whose IDX header comes after empty deflate blocks is read (the header is looked for far enough)', () => {
    const raw = idxBytes([2, 3], [1, 2, 3, 4, 5, 6]);
    // 2,000 empty stored blocks (00 00 00 ff ff each, as a sync flush writes) before the data
    const deflate = deflateRawSync(raw);
    const empty = Buffer.alloc(2000 * 5);
    for (let i = 0; i < 2000; i++) empty.set([0, 0, 0, 0xff, 0xff], 5 * i);
    const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(raw), 0);
    trailer.writeUInt32LE(raw.length, 4);
    const parsed = readIdxFile(writeTemp('late-header.gz', Buffer.concat([header, empty, deflate, trailer])));
    assert.deepEqual(parsed.dims, [2, 3]);
    assert.deepEqual(Array.from(parsed.data), [1, 2, 3, 4, 5, 6]);
  });

  test('rejects a missing file', () => {
    const path = join(dir, 'does-not-exist');
    assertDataError(() => readIdxFile(path), literal(`cannot read ${path}: no such file`));
  });

  test('rejects a directory', () => {
    assertDataError(() => readIdxFile(dir), literal(`cannot read ${dir}: it is a directory`));
  });

  test('names the file in parse errors', () => {
    const path = writeTemp('bad-type', idxBytes([1], [0, 0, 0, 0], 0x0d));
    assertDataError(() => readIdxFile(path), literal(`${path}: IDX data type 0x0D`));
  });
});

describe('findIdxFile', () => {
  test('prefers the raw file, falls back to .gz, else lists both', () => {
    const sub = join(dir, 'find');
    mkdirSync(sub);
    writeFileSync(join(sub, 'a.gz'), '');
    assert.equal(findIdxFile(sub, 'a'), join(sub, 'a.gz'));
    writeFileSync(join(sub, 'a'), '');
    assert.equal(findIdxFile(sub, 'a'), join(sub, 'a'));
    assertDataError(
      () => findIdxFile(sub, 'b'),
      literal(`cannot find b in ${sub}: looked for ${join(sub, 'b')} and ${join(sub, 'b.gz')}`),
    );
  });
});

describe('loadIdxDataset', () => {
  test('loads the four raw files', () => {
    const data = loadIdxDataset(writeDataset('raw'));
    const expected = imageSetBytes(20, 4, 3);
    assert.deepEqual([data.train.count, data.train.rows, data.train.cols], [20, 4, 3]);
    assert.deepEqual([data.test.count, data.test.rows, data.test.cols], [10, 4, 3]);
    assert.deepEqual(Array.from(data.train.images), expected.pixels);
    assert.deepEqual(Array.from(data.train.labels), expected.labels);
  });

  test('loads the four gzipped files', () => {
    const data = loadIdxDataset(writeDataset('gz', { gzip: true }));
    const expected = imageSetBytes(10, 4, 3);
    assert.equal(data.train.count, 20);
    assert.deepEqual(Array.from(data.test.images), expected.pixels);
    assert.deepEqual(Array.from(data.test.labels), expected.labels);
  });

  test('rejects a missing directory', () => {
    const missing = join(dir, 'no-such-dataset');
    assertDataError(() => loadIdxDataset(missing), literal(`cannot read dataset directory ${missing}: no such directory`));
  });

  test('rejects a file given as the directory', () => {
    const path = writeTemp('not-a-dir', new Uint8Array(1));
    assertDataError(() => loadIdxDataset(path), /it is a file, not a directory/);
  });

  test('rejects a directory missing one of the files', () => {
    const sub = writeDataset('incomplete');
    rmSync(join(sub, 't10k-labels-idx1-ubyte'));
    assertDataError(() => loadIdxDataset(sub), literal(`cannot find t10k-labels-idx1-ubyte in ${sub}`));
  });

  test('rejects train and test images of different sizes', () => {
    const sub = writeDataset('mixed', { trainRows: 4, testRows: 5 });
    assertDataError(() => loadIdxDataset(sub), /training images are 4×3 but test images are 5×3/);
  });

  test('rejects a label file that does not match its images, naming both paths', () => {
    const sub = writeDataset('mismatch', { trainLabels: idxBytes([19], new Uint8Array(19)) });
    assertDataError(
      () => loadIdxDataset(sub),
      literal(`${join(sub, 'train-images-idx3-ubyte')} has 20 images but ${join(sub, 'train-labels-idx1-ubyte')} has 19 labels`),
    );
  });

  test('rejects a label out of range, naming the label file', () => {
    const labels = new Uint8Array(20);
    labels[7] = 200;
    const sub = writeDataset('bad-label', { gzip: true, trainLabels: idxBytes([20], labels) });
    assertDataError(
      () => loadIdxDataset(sub),
      literal(`${join(sub, 'train-labels-idx1-ubyte.gz')} (decompressed): label 7 (byte offset 15) is 200`),
    );
  });
});
