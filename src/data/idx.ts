/**
 * The IDX file format of MNIST and Fashion-MNIST, parsed from bytes already in memory.
 *
 * Pure code with no Node imports, so it also runs in a browser bundle; reading (and
 * gunzipping) files is in `idxFiles.ts`.
 *
 * Layout (all integers big-endian):
 * ```
 * byte 0-1  0x00 0x00        magic
 * byte 2    data type        0x08 = unsigned byte (the only type accepted here)
 * byte 3    n                number of dimensions
 * byte 4…   n × uint32       size of each dimension
 * then      the data, ∏ sizes elements, row-major
 * ```
 */
import { DataError } from './DataError.js';

/** An n-dimensional array of unsigned bytes read from an IDX file. */
export interface IdxArray {
  /** Size of each dimension, outermost first, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** The elements in row-major order; a view on the input bytes, not a copy. */
  data: Uint8Array;
}

/** A set of greyscale images with one class label each, as stored in MNIST-style IDX files. */
export interface ImageSet {
  /** `count × rows × cols` pixels, row-major, 0 (background) to 255. */
  images: Uint8Array;
  /** `count` class labels, each in `0 .. numClasses-1`. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Pixel rows per image (28). */
  rows: number;
  /** Pixel columns per image (28). */
  cols: number;
}

/** The IDX type byte for unsigned bytes, the only type MNIST-style image and label files use. */
const UBYTE = 0x08;

/** Names of the IDX type bytes, so an unsupported one can be reported by name. */
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: '16-bit integer',
  0x0c: '32-bit integer',
  0x0d: '32-bit float',
  0x0e: '64-bit float',
};

/** Most dimensions accepted; image files have 3 and label files 1. */
const MAX_DIMS = 4;

/** Bytes in the header of the smallest valid IDX file: magic plus one dimension size. */
const MIN_HEADER_BYTES = 8;

/** What an IDX header says: the dimensions, and where the data starts and how long it is. */
export interface IdxHeader {
  dims: number[];
  /** Bytes of the header: 4 + 4 × dims.length. */
  headerBytes: number;
  /** Bytes of data the dimensions call for (exact, even past 2^53). */
  dataBytes: bigint;
}

/**
 * Reads and checks the header of an IDX file of unsigned bytes (magic, type, dimensions), not
 * yet comparing the data's length with it: `bytes` may be just the start of the file.
 *
 * @throws {DataError} (message starting with `name`) for a header that is short, not IDX, of
 *   another data type, or with a dimension of size 0
 */
export function parseIdxHeader(bytes: Uint8Array, name: string): IdxHeader {
  if (bytes.length < MIN_HEADER_BYTES) {
    throw new DataError(
      `${name}: file is ${bytes.length} bytes, too short for an IDX header (needs at least ${MIN_HEADER_BYTES})`,
    );
  }

  const zero0 = bytes[0]!, zero1 = bytes[1]!, type = bytes[2]!, ndims = bytes[3]!;
  if (zero0 !== 0 || zero1 !== 0) {
    const gzipHint =
      zero0 === 0x1f && zero1 === 0x8b ? ' (these are gzip magic bytes: decompress the file first)' : '';
    throw new DataError(
      `${name}: not an IDX file: bytes at offset 0 are ${hexBytes(bytes.subarray(0, 4))}, ` +
        `expected 00 00 then a type byte and a dimension count${gzipHint}`,
    );
  }
  if (type !== UBYTE) {
    const typeName = TYPE_NAMES[type] ?? 'unknown type';
    throw new DataError(
      `${name}: IDX data type ${hex(type)} (${typeName}) at byte offset 2 is not supported; ` +
        `only ${hex(UBYTE)} (unsigned byte) is`,
    );
  }
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw new DataError(
      `${name}: IDX header gives ${ndims} dimensions at byte offset 3; expected 1 to ${MAX_DIMS}`,
    );
  }

  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${name}: file is ${bytes.length} bytes, too short for the header of a ${ndims}-dimensional ` +
        `IDX array (needs ${headerBytes})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) {
    const offset = 4 + 4 * i;
    const size = view.getUint32(offset, false); // big-endian
    if (size === 0) {
      throw new DataError(`${name}: dimension ${i} (byte offset ${offset}) has size 0`);
    }
    dims.push(size);
  }

  // BigInt keeps the product exact even when corrupt sizes multiply past 2^53.
  return { dims, headerBytes, dataBytes: dims.reduce((product, size) => product * BigInt(size), 1n) };
}

/**
 * Parses an IDX file of unsigned bytes. Everything in the header is checked against the
 * length of `bytes` first, so a corrupt or truncated file gives a {@link DataError} (whose
 * message starts with `name`) rather than a bad array.
 *
 * @param bytes the whole file, already decompressed
 * @param name what to call the file in error messages, usually its path
 * @returns the dimensions and a view (no copy) on the data
 *
 * @example
 * const labels = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]), 'labels');
 * labels.dims; // [3]
 * labels.data; // Uint8Array [7, 2, 1]
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  const { dims, headerBytes, dataBytes: expected } = parseIdxHeader(bytes, name);
  const actual = BigInt(bytes.length - headerBytes);
  const says = `header says ${dims.join(' × ')} = ${expected} bytes of data starting at byte ${headerBytes}`;
  if (actual < expected) {
    throw new DataError(
      `${name}: ${says}, but the file has only ${actual} bytes after the header (truncated?)`,
    );
  }
  if (actual > expected) {
    throw new DataError(
      `${name}: ${says}, but the file has ${actual} bytes after the header ` +
        `(${actual - expected} extra bytes from byte offset ${BigInt(headerBytes) + expected})`,
    );
  }

  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, Number(expected)) };
}

/**
 * Pairs an IDX image file (`count × rows × cols`) with its IDX label file (`count`), checking
 * that they fit together and that every label is a valid class.
 *
 * @param images the parsed image file
 * @param labels the parsed label file
 * @param imagesName name of the image file, for error messages
 * @param labelsName name of the label file, for error messages
 * @param numClasses labels must lie in `0 .. numClasses-1` (10 for MNIST and Fashion-MNIST)
 *
 * @example
 * const train = imageSetFromIdx(parseIdx(imageBytes, 'train-images'), parseIdx(labelBytes, 'train-labels'),
 *                               'train-images', 'train-labels');
 * train.count; // 60000
 */
export function imageSetFromIdx(
  images: IdxArray,
  labels: IdxArray,
  imagesName: string,
  labelsName: string,
  numClasses = 10,
): ImageSet {
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
    throw new RangeError(`imageSetFromIdx: numClasses must be an integer from 1 to 256, got ${numClasses}`);
  }
  const swapHint =
    images.dims.length === 1 && labels.dims.length === 3 ? ' (are the image and label files swapped?)' : '';
  if (images.dims.length !== 3) {
    throw new DataError(
      `${imagesName}: an image file must be 3-dimensional (count × rows × cols), ` +
        `but its header gives ${describeDims(images.dims)}${swapHint}`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new DataError(
      `${labelsName}: a label file must be 1-dimensional (count), but its header gives ${describeDims(labels.dims)}`,
    );
  }

  const [count, rows, cols] = images.dims as [number, number, number];
  const labelCount = labels.dims[0]!;
  if (labelCount !== count) {
    throw new DataError(
      `${imagesName} has ${count} images but ${labelsName} has ${labelCount} labels; ` +
        `they must be the same set (check that the files belong together)`,
    );
  }

  const labelHeaderBytes = 4 + 4 * labels.dims.length;
  for (let i = 0; i < labelCount; i++) {
    const label = labels.data[i]!;
    if (label >= numClasses) {
      throw new DataError(
        `${labelsName}: label ${i} (byte offset ${labelHeaderBytes + i}) is ${label}, ` +
          `but labels must be 0 to ${numClasses - 1}`,
      );
    }
  }

  return { images: images.data, labels: labels.data, count, rows, cols };
}

/** `0x0D` style, for type bytes. */
function hex(byte: number): string {
  return '0x' + byte.toString(16).toUpperCase().padStart(2, '0');
}

/** `1f 8b 08 00` style, for a run of raw bytes. */
function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** `3 dimensions [60000, 28, 28]`, for shape mismatches. */
function describeDims(dims: number[]): string {
  return `${dims.length} dimension${dims.length === 1 ? '' : 's'} [${dims.join(', ')}]`;
}
