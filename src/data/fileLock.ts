/**
 * An exclusive lock file, so two downloads into one directory (two terminals, parallel test
 * workers) never write the same `.part` at once.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often a waiting caller looks again. */
const POLL_MS = 250;

/** A lock file without a pid this old was left half-written by a crash: take it over. */
const EMPTY_LOCK_STALE_MS = 10_000;

/**
 * Runs `fn` holding the lock file `path`: created exclusively, holding this process's pid, and
 * removed when `fn` settles. While another live process (or another call in this one) holds
 * it, waits, calling `onWait` once; a lock whose process no longer runs is taken over.
 *
 * @throws the signal's reason if `signal` aborts while waiting
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { onWait?: () => void; signal?: AbortSignal } = {}): Promise<T> {
  const { onWait, signal } = options;
  for (let waiting = false; ; ) {
    signal?.throwIfAborted();
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (isStale(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!waiting) onWait?.();
    waiting = true;
    try {
      await sleep(POLL_MS, undefined, { signal });
    } catch (e) {
      throw signal?.aborted ? signal.reason : e;
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** Whether the lock at `path` was left by a process that is gone (or by a crash mid-write). */
function isStale(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false; // just released: try again
  }
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    try {
      return Date.now() - statSync(path).mtimeMs > EMPTY_LOCK_STALE_MS;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
