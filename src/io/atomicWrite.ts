import { renameSync, unlinkSync, writeFileSync } from 'node:fs';

/**
 * Write a file so that readers see the old contents or the new, never a half-written file:
 * write a temporary file beside it, then rename it over the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
    throw e;
  }
}
