import { statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFailure } from '../io/atomicWrite.js';
import { UsageError } from './errors.js';

/**
 * Check, before any work starts, that `--flag path` names a file the command can write: not a
 * folder, in a folder that exists and takes a new file. A UsageError in the user's own path
 * otherwise ("--plot out/loss.svg: the folder out does not exist"), so that a long run does not
 * end in a failed write.
 */
export function checkOutputPath(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  if (path === '') throw new UsageError(`--${flag} needs a file name`);
  const fail = (code: string): never => {
    throw new UsageError(`--${flag} ${path}: ${writeFailure(Object.assign(new Error(code), { code }), path)}`);
  };
  try {
    if (path.endsWith('/') || statSync(path, { throwIfNoEntry: false })?.isDirectory()) fail('EISDIR');
    if (!statSync(dirname(path)).isDirectory()) fail('ENOTDIR');
    // the one honest test of writing (permissions, ACLs, read-only mounts, root): write a
    // temporary file beside it, as the atomic write will, and remove it
    const probe = `${path}.tmp-${process.pid}-check`;
    try {
      writeFileSync(probe, '');
    } catch (e) {
      // the folder exists (stat said so): ENOENT here means it takes no new files (/proc)
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`--${flag} ${path}: cannot create files in the folder ${dirname(path)}`);
      throw e;
    }
    unlinkSync(probe);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    fail((e as NodeJS.ErrnoException).code ?? 'EACCES');
  }
}
