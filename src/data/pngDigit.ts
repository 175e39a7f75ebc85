import { readFileSync } from 'node:fs';
import { DataError } from './DataError.js';
import { decodeDigitPng } from './digitPng.js';

export { decodeDigitPng } from './digitPng.js';

/**
 * A PNG of a handwritten digit, of any size, as the 784 pixels a network trained on MNIST
 * expects: greyscale ink in [0, 1], the digit scaled into a 20×20 box and centred by its
 * centre of mass in 28×28 (as MNIST was made). Dark ink on light paper and MNIST's light on
 * dark are both accepted: the paper is taken to be the colour of the image's border.
 */
export function readDigitPng(path: string): Float32Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`);
  }
  return decodeDigitPng(bytes, path);
}
