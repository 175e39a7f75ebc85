/**
 * Property-based tests of the PNG digit reader (readDigitPng, on fast-png): PNGs written by this
 * test's own encoder (every colour type and bit depth, all five row filters) give the 784 pixels
 * their samples call for; mutated PNGs (bytes, IHDR fields, huge dimensions, truncated or
 * inflating image data, ancillary chunks that inflate) give those pixels or a DataError naming
 * the file, without allocating much more than the file and its real image data hold.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zlibConstants, crc32, deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { DataError } from '../../src/data/DataError.js';
import { readDigitPng } from '../../src/data/pngDigit.js';
import { toMnist } from '../../src/data/preprocess.js';
import { applyMutation, assertAllocatedAtMost, check, concat, measureAllocations, mutationArb, sometimes } from '../property.js';

const dir = mkdtempSync(join(tmpdir(), 'backprop-png-property-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Channels of each PNG colour type (0 grey, 2 RGB, 4 grey + alpha, 6 RGBA). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

interface Image {
  width: number;
  height: number;
  colourType: 0 | 2 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  /** width × height × channels samples, each 0 .. 2^depth − 1. */
  samples: number[];
  /** The row filter (0-4) of each row, cycled. */
  filters: number[];
  /** Adam7-interlaced. */
  interlaced: boolean;
}

const imageArb: fc.Arbitrary<Image> = fc
  .record({
    width: fc.integer({ min: 1, max: 24 }),
    height: fc.integer({ min: 1, max: 24 }),
    format: fc.constantFrom(
      [0, 1], [0, 2], [0, 4], [0, 8], [0, 16], [2, 8], [2, 16], [4, 8], [4, 16], [6, 8], [6, 16],
    ) as fc.Arbitrary<[0 | 2 | 4 | 6, 1 | 2 | 4 | 8 | 16]>,
    filters: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
    interlaced: fc.boolean(),
  })
  .chain(({ width, height, format: [colourType, depth], filters, interlaced }) => {
    const max = 2 ** depth - 1;
    const n = width * height * CHANNELS[colourType];
    // mostly paper and full ink, as digits are, with some grey
    const sample = fc.oneof(fc.constant(0), fc.constant(max), fc.integer({ min: 0, max }));
    return fc.record({
      width: fc.constant(width), height: fc.constant(height), colourType: fc.constant(colourType), depth: fc.constant(depth),
      samples: fc.array(sample, { minLength: n, maxLength: n }), filters: fc.constant(filters), interlaced: fc.constant(interlaced),
    });
  });

/** A chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new TextEncoder().encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(concat(typeBytes, data)));
  return out;
}

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Adam7's passes: the first column and row of each, and its steps across and down. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * The image's filtered data: each row a filter byte, then its samples packed big-endian at
 * `depth` bits; interlaced, the seven Adam7 reduced images one after another.
 */
function rawRows(img: Image): Uint8Array {
  const channels = CHANNELS[img.colourType];
  const passes = img.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const parts: Uint8Array[] = [];
  let y = 0; // rows written, for the filter choice
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((img.width - x0) / dx), h = Math.ceil((img.height - y0) / dy);
    if (w <= 0 || h <= 0) continue;
    const lineBytes = Math.ceil((w * channels * img.depth) / 8);
    const bpp = Math.max(1, (channels * img.depth) / 8); // bytes per pixel, for the filters
    const out = new Uint8Array(h * (1 + lineBytes));
    let prev = new Uint8Array(lineBytes);
    for (let r = 0; r < h; r++, y++) {
      const line = new Uint8Array(lineBytes);
      for (let x = 0; x < w * channels; x++) {
        const px = x0 + Math.floor(x / channels) * dx, py = y0 + r * dy;
        const v = img.samples[(py * img.width + px) * channels + (x % channels)];
        if (img.depth === 16) [line[2 * x], line[2 * x + 1]] = [v >> 8, v & 0xff];
        else if (img.depth === 8) line[x] = v;
        else line[(x * img.depth) >> 3] |= v << (8 - img.depth - ((x * img.depth) & 7));
      }
      const filter = img.filters[y % img.filters.length];
      const row = out.subarray(r * (1 + lineBytes), (r + 1) * (1 + lineBytes));
      row[0] = filter;
      for (let i = 0; i < lineBytes; i++) {
        const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
        row[1 + i] = (line[i] - predictor) & 0xff;
      }
      prev = line;
    }
    parts.push(out);
  }
  return concat(...parts);
}

/** The test's own PNG encoder; `idatParts` splits the data over several IDAT chunks. */
function encodePng(img: Image, idatParts = 1, extra: Uint8Array[] = []): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, img.width);
  view.setUint32(4, img.height);
  ihdr.set([img.depth, img.colourType, 0, 0, img.interlaced ? 1 : 0], 8);
  const z = deflateSync(rawRows(img));
  const step = Math.ceil(z.length / idatParts);
  const idats = Array.from({ length: idatParts }, (_, i) => chunk('IDAT', z.subarray(i * step, (i + 1) * step)));
  return concat(SIGNATURE, chunk('IHDR', ihdr), ...extra, ...idats, chunk('IEND', new Uint8Array(0)));
}

/**
 * The 784 pixels the samples call for, by the rule readDigitPng documents: luminance
 * 0.299 R + 0.587 G + 0.114 B (or grey), transparent pixels as white paper, the paper the
 * border's mean colour, ink what differs from it; then MNIST's scaling and centring (toMnist).
 */
function expectedPixels(img: Image): Float32Array | null {
  const channels = CHANNELS[img.colourType];
  const max = 2 ** img.depth - 1;
  const hasAlpha = channels === 2 || channels === 4;
  const { width: w, height: h } = img;
  const lum = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const s = img.samples.slice(i * channels, (i + 1) * channels);
    const l = channels >= 3 ? (0.299 * s[0] + 0.587 * s[1] + 0.114 * s[2]) / max : s[0] / max;
    const a = hasAlpha ? s[channels - 1] / max : 1;
    lum[i] = a * l + (1 - a);
  }
  let border = 0;
  for (let x = 0; x < w; x++) border += lum[x] + lum[(h - 1) * w + x];
  for (let y = 0; y < h; y++) border += lum[y * w] + lum[y * w + w - 1];
  const darkInk = border / (2 * (w + h)) >= 0.5;
  return toMnist(lum.map((v) => (darkInk ? 1 - v : v)), w, h);
}

/** What the image data (IDAT chunks) of a PNG really inflates to, by the test's own chunk walk and inflate. */
function inflatedImageData(png: Uint8Array): number {
  const parts: Uint8Array[] = [];
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let pos = 8; pos + 8 <= png.length;) {
    const length = view.getUint32(pos);
    if (String.fromCharCode(...png.subarray(pos + 4, pos + 8)) === 'IDAT') parts.push(png.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  try {
    return inflateSync(concat(...parts), { maxOutputLength: 64 << 20, finishFlush: zlibConstants.Z_SYNC_FLUSH }).length;
  } catch {
    return 0; // corrupt: it delivers no image
  }
}

const PATH = join(dir, 'digit.png');

function readPng(bytes: Uint8Array) {
  writeFileSync(PATH, bytes);
  return measureAllocations(() => readDigitPng(PATH));
}

/** A result is right (close to the expected pixels, or the blank-image error); a failure is a DataError naming the file. */
function assertRight(outcome: ReturnType<typeof readPng>, expected: Float32Array | null | undefined, img?: Image): void {
  if (img?.interlaced && img.depth < 8) {
    // refused: fast-png 8 decodes these wrongly
    assert.match(String((outcome.error as Error)?.message), /interlaced PNGs of \d-bit samples are not supported/);
    return;
  }
  if (outcome.result) {
    assert.equal(outcome.result.length, 784);
    for (const v of outcome.result) assert.ok(v >= 0 && v <= 1, `pixel ${v} outside [0, 1]`);
    if (expected) for (let i = 0; i < 784; i++) assert.ok(Math.abs(outcome.result[i] - expected[i]) <= 1e-5, `pixel ${i}: ${outcome.result[i]}, expected ${expected[i]}`);
    if (expected === null) assert.fail('a blank image gave pixels');
    return;
  }
  assert.ok(outcome.error instanceof DataError, `expected a DataError, got ${(outcome.error as Error)?.stack ?? String(outcome.error)}`);
  assert.ok(outcome.error.message.startsWith(`${PATH}: `), outcome.error.message);
  if (expected !== undefined) {
    assert.equal(expected, null, `a valid image was refused: ${outcome.error.message}`);
    assert.match(outcome.error.message, /no digit found/);
  }
}

/** IHDR edits: what a corrupt or hostile header says (with its CRC fixed, so only the reader can object). */
const ihdrEditArb = fc.record({
  field: fc.constantFrom('width', 'height', 'depth', 'colourType', 'interlace', 'compression'),
  value: fc.oneof(fc.constantFrom(0, 1, 3, 7, 8, 16, 255, 30000, 65535, 1e6, 2 ** 31 - 1, 2 ** 32 - 1), fc.nat()),
});
type IhdrEdit = typeof ihdrEditArb extends fc.Arbitrary<infer T> ? T : never;

function editIhdr(png: Uint8Array, e: IhdrEdit): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  const offsets = { width: 16, height: 20, depth: 24, colourType: 25, compression: 26, interlace: 28 };
  const at = offsets[e.field as keyof typeof offsets];
  if (e.field === 'width' || e.field === 'height') view.setUint32(at, e.value >>> 0);
  else out[at] = e.value & 0xff;
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

/** Ancillary chunks a file may carry; the compressed ones can hide a decompression bomb. */
const BOMB = deflateSync(new Uint8Array(4 << 20), { level: 9 });
const extraArb = fc.array(fc.constantFrom(
  chunk('tEXt', new TextEncoder().encode('Comment\0a digit')),
  chunk('pHYs', Uint8Array.from([0, 0, 11, 19, 0, 0, 11, 19, 1])),
  chunk('iCCP', concat(new TextEncoder().encode('bomb\0\0'), BOMB)),
  chunk('zTXt', concat(new TextEncoder().encode('bomb\0\0'), BOMB)),
  chunk('gAMA', Uint8Array.from([0, 0, 0xb1, 0x8f])),
), { maxLength: 2 });

describe('PNG digits, property-based', () => {
  it('every colour type, bit depth and row filter gives the pixels its samples call for', () => {
    check('png round trip', 700, fc.property(imageArb, fc.integer({ min: 1, max: 3 }), (img, parts) => {
      assertRight(readPng(encodePng(img, parts)), expectedPixels(img), img);
    }));
  });

  it('a mutated PNG gives its pixels or a DataError naming the file, allocating little beyond its real image data', () => {
    const arb = fc.record({
      img: imageArb,
      extra: extraArb,
      edits: fc.array(ihdrEditArb, { maxLength: 2 }),
      mutation: sometimes(mutationArb, 1),
    });
    check('png mutations', 1300, fc.property(arb, ({ img, extra, edits, mutation }) => {
      let png = encodePng(img, 1, extra);
      for (const e of edits) png = editIhdr(png, e);
      if (mutation) png = applyMutation(png, mutation);
      const outcome = readPng(png);
      // unchanged pixels when only ancillary chunks were added; anything goes after a mutation
      assertRight(outcome, edits.length === 0 && !mutation ? expectedPixels(img) : undefined, edits.length === 0 && !mutation ? img : undefined);
      // the image data really in the file may be decoded a few times over, with float copies per pixel
      const limit = 64 * png.length + 24 * inflatedImageData(png) + (2 << 20);
      assertAllocatedAtMost(outcome, limit, `${png.length}-byte PNG`);
    }));
  });
});

describe('PNG digits: what the property tests found', () => {
  /** A 12×12 white page with a black bar, at any grey bit depth. */
  const bar = (depth: 1 | 2 | 4 | 8 | 16): Image => ({
    width: 12, height: 12, colourType: 0, depth, filters: [0, 1, 2, 3, 4], interlaced: false,
    samples: Array.from({ length: 144 }, (_, i) => (i % 12 >= 4 && i % 12 < 7 && i >= 24 && i < 120 ? 0 : 2 ** depth - 1)),
  });

  it('1, 2 and 4-bit greys give the same digit as 8-bit (their packed samples were read as one per byte)', () => {
    const eight = readPng(encodePng(bar(8))).result!;
    assert.ok(eight.some((v) => v > 0.5));
    for (const depth of [1, 2, 4, 16] as const) assert.deepEqual(Array.from(readPng(encodePng(bar(depth))).result!), Array.from(eight), `depth ${depth}`);
  });

  it('a header claiming 5000×5000 over a 12×12 image is refused before fast-png allocates 25 MB (and 200 MB of floats)', () => {
    const png = editIhdr(editIhdr(encodePng(bar(8)), { field: 'width', value: 5000 }), { field: 'height', value: 5000 });
    const outcome = readPng(png);
    assert.ok(outcome.error instanceof DataError);
    assert.match(outcome.error.message, /digit\.png: not a readable PNG image \(its image data inflates to 156 of the 25005000 bytes a 5000×5000 image needs \(truncated\?\)\)/);
    assertAllocatedAtMost(outcome, 1 << 20, 'the refusal');
    const huge = readPng(editIhdr(png, { field: 'width', value: 30000 }));
    assert.match((huge.error as Error).message, /the image is 30000×5000, more than the 33554432 pixels a digit image may have; scale it down/);
  });

  it('a colour profile that inflates to 4 MB is left out, not inflated', () => {
    const outcome = readPng(encodePng(bar(8), 1, [chunk('iCCP', concat(new TextEncoder().encode('bomb\0\0'), BOMB))]));
    assert.deepEqual(Array.from(outcome.result!), Array.from(readPng(encodePng(bar(8))).result!));
    assertAllocatedAtMost(outcome, 1 << 20, 'reading it');
  });

  it('an interlaced 1, 2 or 4-bit PNG is refused (fast-png 8 decodes it wrongly); interlaced 8 and 16-bit read as plain ones', () => {
    for (const depth of [1, 2, 4] as const) {
      assert.match((readPng(encodePng({ ...bar(depth), interlaced: true })).error as Error).message, new RegExp(`digit\\.png: interlaced PNGs of ${depth}-bit samples are not supported`));
    }
    for (const depth of [8, 16] as const) assert.deepEqual(Array.from(readPng(encodePng({ ...bar(depth), interlaced: true })).result!), Array.from(readPng(encodePng(bar(8))).result!));
  });

  it('a damaged chunk is refused: its CRC is checked, as is the image data', () => {
    const png = encodePng(bar(8));
    png[png.length - 13] ^= 0x40; // the last byte of IDAT's CRC
    assert.match((readPng(png).error as Error).message, /digit\.png: not a readable PNG image \(CRC mismatch for chunk IDAT/);
    const data = encodePng(bar(8));
    data[data.length - 20] ^= 0x40; // inside IDAT's compressed data: refused by the inflater or, if it still inflates, by the chunk's CRC
    assert.match((readPng(data).error as Error).message, /digit\.png: not a readable PNG image \((corrupt image data: |CRC mismatch for chunk IDAT)/);
  });
});
