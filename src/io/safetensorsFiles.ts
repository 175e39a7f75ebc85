/**
 * Safetensors files on disk (Node): reading a file and writing one atomically, over the format
 * itself, on bytes, in safetensors.ts (re-exported here).
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomicWrite.js';
import { ModelFileError } from './ModelFileError.js';
import { encode, parseSafetensors, type SafetensorsFile, type TensorLike } from './safetensors.js';

export {
  serializeSafetensors, parseSafetensors, expectTensors, swapByteOrder,
  type SafetensorsDType, type SafetensorsArray, type TensorLike, type SafetensorsTensor, type SafetensorsFile, type ExpectedTensors,
} from './safetensors.js';

/**
 * Writes a safetensors file atomically (a temporary file, then a rename), so a crash or a
 * failure never leaves a half-written model, and an existing file survives any error.
 *
 * @throws {ModelFileError} naming `path` if the tensors cannot be serialized or the file written
 *
 * @example
 * saveSafetensors('model.safetensors', { W1: net.params.W1, b1: net.params.b1 }, { hidden: '50' });
 */
export function saveSafetensors(path: string, tensors: Readonly<Record<string, TensorLike>>, metadata?: Readonly<Record<string, string>>): void {
  const bytes = encode(tensors, metadata, `cannot save ${path}`);
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? `directory ${dirname(path)} does not exist` : fsReason(e);
    throw new ModelFileError(`cannot save ${path}: ${reason}`, { cause: e });
  }
}

/**
 * Reads and checks a safetensors file (see {@link parseSafetensors}).
 *
 * @throws {ModelFileError} naming `path` if it is missing, unreadable or invalid
 *
 * @example
 * const file = loadSafetensors('model.safetensors');
 * expectTensors(file, { W1: { shape: [784, 50] }, b1: { shape: [50] } }, 'model.safetensors');
 */
export function loadSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelFileError(`cannot read ${path}: ${fsReason(e)}`, { cause: e });
  }
  return parseSafetensors(bytes, path);
}

function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (e as Error).message;
}

