/**
 * Loading IDX files (raw or gzip-compressed) from disk in Node, and whole MNIST-style
 * datasets from a directory of the four standard files.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DataError } from './DataError.js';
import { imageSetFromIdx, parseIdx, parseIdxHeader, type IdxArray, type ImageSet } from './idx.js';

/** The training and test halves of an MNIST-style dataset. */
export interface IdxDataset {
  /** The training images. */
  train: ImageSet;
  /** The test images. */
  test: ImageSet;
}

/** Base names of the four files of MNIST and Fashion-MNIST, as distributed. */
const STANDARD_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * Reads and parses one IDX file. A file starting with the gzip magic bytes `1f 8b` is
 * decompressed first, whatever its name.
 *
 * @throws {DataError} if the file cannot be read, is corrupt gzip, or is not a valid IDX file
 *
 * @example
 * const labels = readIdxFile('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
 * labels.dims; // [10000]
 */
export function readIdxFile(path: string): IdxArray {
  return readNamedIdxFile(path).array;
}

/**
 * Finds the IDX file `base` in `dir`, accepting either the raw file or `base.gz`
 * (the raw one wins if both exist, as it loads faster).
 *
 * @returns the path of the file found
 * @throws {DataError} naming both paths looked for, if neither exists
 *
 * @example
 * findIdxFile('/usr/share/datasets/fashion-mnist', 'train-images-idx3-ubyte');
 * // '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'
 */
export function findIdxFile(dir: string, base: string): string {
  const candidates = [join(dir, base), join(dir, `${base}.gz`)];
  const found = candidates.find(isFile);
  if (found === undefined) {
    throw new DataError(`cannot find ${base} in ${dir}: looked for ${candidates.join(' and ')}`);
  }
  return found;
}

/**
 * Loads an MNIST-style dataset (MNIST, Fashion-MNIST, ...) from a directory holding the four
 * standard IDX files `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or gzipped (`.gz`).
 * Checks that each image file matches its label file, that labels are 0 to 9, and that the
 * training and test images have the same size.
 *
 * @throws {DataError} naming the directory or file at fault
 *
 * @example
 * const { train, test } = loadIdxDataset('/usr/share/datasets/fashion-mnist');
 * train.count; // 60000
 * test.rows;   // 28
 */
export function loadIdxDataset(dir: string): IdxDataset {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (error) {
    throw new DataError(`cannot read dataset directory ${dir}: ${describeFsError(error, 'directory')}`, { cause: error });
  }
  if (!isDirectory) {
    throw new DataError(`cannot read dataset directory ${dir}: it is a file, not a directory`);
  }

  const train = loadImageSet(dir, STANDARD_FILES.trainImages, STANDARD_FILES.trainLabels);
  const test = loadImageSet(dir, STANDARD_FILES.testImages, STANDARD_FILES.testLabels);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DataError(
      `${dir}: training images are ${train.rows}×${train.cols} but test images are ` +
        `${test.rows}×${test.cols}; both halves must come from the same dataset`,
    );
  }
  return { train, test };
}

/** Finds, reads and pairs one image file with its label file. */
function loadImageSet(dir: string, imagesBase: string, labelsBase: string): ImageSet {
  const images = readNamedIdxFile(findIdxFile(dir, imagesBase));
  const labels = readNamedIdxFile(findIdxFile(dir, labelsBase));
  return imageSetFromIdx(images.array, labels.array, images.name, labels.name);
}

/**
 * {@link readIdxFile}, also returning the name to use in later error messages: the path, plus
 * "(decompressed)" for a gzipped file, since byte offsets then count in the decompressed data.
 */
function readNamedIdxFile(path: string): { array: IdxArray; name: string } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError(`cannot read ${path}: ${describeFsError(error, 'file')}`, { cause: error });
  }
  if (!isGzip(bytes)) return { array: parseIdx(bytes, path), name: path };
  const name = `${path} (decompressed)`;
  return { array: parseIdx(gunzipIdx(bytes, path, name), name), name };
}

/** Bytes of output a look at the start of a gzip stream may decompress, at most. */
const PEEK_LIMIT = 1 << 16;

/**
 * Decompresses a gzipped IDX file, never to more than its header declares: the header is read
 * from the start of the stream first, so a small file that inflates to gigabytes (corrupt, or
 * a decompression bomb) is refused after at most header + data bytes, not loaded whole.
 */
function gunzipIdx(bytes: Uint8Array, path: string, name: string): Uint8Array {
  const { headerBytes, dataBytes } = parseIdxHeader(gunzipStart(bytes, path, 4 + 4 * 4), name);
  const declared = BigInt(headerBytes) + dataBytes;
  const limit = declared < BigInt(bufferConstants.MAX_LENGTH) ? Number(declared) : bufferConstants.MAX_LENGTH;
  try {
    return gunzip(bytes, path, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw error;
    throw new DataError(
      `${name}: header says ${declared} bytes in all (${headerBytes} of header, ${dataBytes} of data), ` +
        `but the file decompresses to more (extra bytes from byte offset ${declared})`,
    );
  }
}

/**
 * At least the first `need` bytes of a gzip stream (all of it if shorter), decompressing
 * prefixes of the file until one yields them, each capped at {@link PEEK_LIMIT} bytes of output.
 */
function gunzipStart(bytes: Uint8Array, path: string, need: number): Uint8Array {
  const peek = (length: number): Uint8Array | null => {
    try {
      return gunzip(bytes.subarray(0, length), path, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: PEEK_LIMIT });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
      throw error;
    }
  };
  // Double the prefix until it yields `need` bytes; if one yields too much, bisect (one input
  // byte inflates to at most a few kilobytes, so some prefix yields between need and the cap).
  let short = 0;
  for (let length = Math.min(64, bytes.length); ; length = Math.min(2 * length, bytes.length)) {
    const out = peek(length);
    if (out !== null && (out.length >= need || length === bytes.length)) return out;
    if (out === null) {
      let long = length;
      while (long - short > 1) {
        const mid = Math.floor((short + long) / 2);
        const head = peek(mid);
        if (head === null) long = mid;
        else if (head.length >= need) return head;
        else short = mid;
      }
      return peek(short)!;
    }
    short = length;
  }
}

/** gunzipSync, with corrupt data reported as a {@link DataError} naming the file. */
function gunzip(bytes: Uint8Array, path: string, options: { finishFlush?: number; maxOutputLength?: number }): Uint8Array {
  try {
    return gunzipSync(bytes, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(
      `${path}: corrupt gzip data (${reason}); the file is damaged or incomplete, download it again`,
      { cause: error },
    );
  }
}

/** Whether `bytes` start with the gzip magic number 1f 8b. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Whether `path` exists and is a regular file (or a link to one). */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A short reason for a failed file system call on a `what`, e.g. "no such file". */
function describeFsError(error: unknown, what: 'file' | 'directory'): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `no such ${what}`;
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
