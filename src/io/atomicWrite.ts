import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Write a file so that readers see the old contents or the new, never a half-written file:
 * write a temporary file beside it, then rename it over the target.
 *
 * @throws Error naming `path` (never the temporary file) and why, e.g. "cannot write
 * out/loss.svg: the folder out does not exist"; its `code` is the system's (ENOENT, EACCES, …).
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
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(`cannot write ${path}: ${writeFailure(err, path).replaceAll(tmp, path)}`, { cause: e }), { code: err.code });
  }
}

/** Why writing `path` failed, in the user's terms. */
export function writeFailure(e: NodeJS.ErrnoException, path: string): string {
  switch (e.code) {
    case 'ENOENT':
      return `the folder ${dirname(path)} does not exist`;
    case 'ENOTDIR':
      return `${dirname(path)} is not a folder`;
    case 'EISDIR':
      return `${path} is a folder`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied in the folder ${dirname(path)}`;
    case 'EROFS':
      return `the folder ${dirname(path)} is on a read-only file system`;
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return e.message;
  }
}
