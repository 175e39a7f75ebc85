/**
 * Downloading MNIST-style datasets into a cache: mirrors in order, MD5 and IDX checks, HTTP
 * Range resume, and atomic landing (a file appears under its name only when complete and
 * verified; until then it is `NAME.part`, written by one download at a time: `NAME.lock`).
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { DataError } from './DataError.js';
import { DATASETS, isDatasetName, type DatasetFile, type DatasetName, type DatasetSpec } from './datasets.js';
import { withFileLock } from './fileLock.js';
import { readIdxFile } from './idxFiles.js';

export { DATASETS, DATASET_NAMES, isDatasetName, type DatasetFile, type DatasetName, type DatasetSpec } from './datasets.js';

/** Seconds without a byte from a mirror before it is given up, by default. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Times one mirror may drop the connection mid-file and be resumed with a Range request. */
const MAX_RESUMES = 5;

/** One mirror that could not deliver a file, and why. */
export interface MirrorFailure {
  /** The file's address on that mirror. */
  url: string;
  /** What went wrong, in one line (HTTP status, timeout, checksum, network error). */
  reason: string;
}

/**
 * A dataset that could not be downloaded: every mirror failed for one of its files (each is
 * named with its reason in the message and in `failures`), or the directory is unusable.
 */
export class DownloadError extends DataError {
  /** The class name, shown in the CLI's one-line error. */
  override name = 'DownloadError';
  /**
   * @param message what failed, naming the file and every mirror tried
   * @param failures each mirror tried, with its reason
   */
  constructor(message: string, readonly failures: readonly MirrorFailure[] = []) {
    super(message);
  }
}

/** What {@link downloadDataset} is doing, for a progress bar. */
export interface DownloadProgress {
  /** The file, e.g. `'train-images-idx3-ubyte.gz'`. */
  file: string;
  /**
   * `'cached'`: already complete in the directory, not fetched; `'wait'`: another download into
   * the same directory (another process, or another call) holds the file, so this one waits for
   * it; `'download'`: bytes arriving; `'verify'`: checking MD5 and contents; `'done'`: verified
   * and in place.
   */
  phase: 'cached' | 'wait' | 'download' | 'verify' | 'done';
  /** The URL being fetched (absent for `'cached'`). */
  url?: string;
  /** Bytes of the file on disk so far. */
  received: number;
  /** Size of the file, when known. */
  total?: number;
  /** Mirrors tried before `url` for this file, and why each failed. */
  failures: readonly MirrorFailure[];
}

/** Options of {@link downloadDataset}. */
export interface DownloadOptions {
  /** Where the files go; default `$XDG_CACHE_HOME/backprop/NAME` or `~/.cache/backprop/NAME`. */
  dir?: string;
  /** Base URLs to try, in order, instead of the dataset's own mirrors. */
  mirrors?: readonly string[];
  /** Called as each file is found, downloaded (many times) and verified. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Give up on a mirror that sends nothing for this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Aborting it stops the download; what has arrived stays in `NAME.part`, to be resumed. */
  signal?: AbortSignal;
}

/** A mirror failed for one file; the next one is tried. */
class MirrorFailed extends Error {
  constructor(message: string, readonly resumable = false) {
    super(message);
  }
}

/**
 * The cache directory of backprop: `$XDG_CACHE_HOME/backprop` when that is an absolute path
 * (the XDG Base Directory rule), else `~/.cache/backprop`.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'backprop');
}

/**
 * The files of `dataset` not yet complete in `dir` (default: its cache directory): absent, or
 * of another size than published. Empty when the dataset is ready to load.
 */
export function missingDatasetFiles(dataset: DatasetName, dir = join(defaultCacheDir(), dataset)): string[] {
  return DATASETS[dataset].files.filter((f) => !isComplete(join(dir, f.name), f)).map((f) => f.name);
}

/**
 * Downloads the four IDX files of MNIST or Fashion-MNIST (or any {@link DatasetSpec}) into
 * `options.dir` or the cache, unless they are already there. For each file the mirrors are
 * tried in order; a mirror that fails (HTTP error, network error, stall, wrong checksum, wrong
 * contents) is named with its reason and the next is tried. A dropped connection is resumed
 * with an HTTP Range request. Each file is checked against its published MD5, then parsed with
 * the IDX reader (count, image size, labels in range), and only then renamed into place.
 *
 * @returns the directory holding the four files, ready for `loadIdxDataset`
 * @throws {DownloadError} naming each mirror tried and why it failed
 *
 * @example
 * const dir = await downloadDataset('mnist', { onProgress: (p) => console.log(p.file, p.received) });
 * const { train, test } = loadIdxDataset(dir); // 60000 and 10000 images of 28×28
 */
export async function downloadDataset(dataset: DatasetName | DatasetSpec, options: DownloadOptions = {}): Promise<string> {
  let spec: DatasetSpec;
  let dir = options.dir;
  if (typeof dataset === 'string') {
    if (!isDatasetName(dataset)) {
      throw new DownloadError(`unknown dataset '${dataset}' (datasets: ${Object.keys(DATASETS).join(', ')})`);
    }
    spec = DATASETS[dataset];
    dir ??= join(defaultCacheDir(), dataset);
  } else {
    spec = dataset;
    if (dir === undefined) throw new TypeError(`downloadDataset: options.dir is required for the dataset '${spec.title}'`);
  }
  const mirrors = (options.mirrors ?? spec.mirrors).map(baseUrl);
  if (mirrors.length === 0) throw new DownloadError(`no mirrors to download ${spec.title} from`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`downloadDataset: timeoutMs must be greater than 0, got ${timeoutMs}`);

  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DownloadError(`cannot create the directory ${dir}: ${(e as Error).message}`);
  }
  const ctx: FileContext = { spec, timeoutMs, signal: options.signal, report: options.onProgress ?? (() => {}) };
  for (const file of spec.files) {
    options.signal?.throwIfAborted();
    const target = join(dir, file.name);
    const cached = (): boolean => {
      if (!isComplete(target, file)) return false;
      ctx.report({ file: file.name, phase: 'cached', received: file.bytes ?? statSync(target).size, total: file.bytes, failures: [] });
      return true;
    };
    if (cached()) continue;
    const onWait = (): void => ctx.report({ file: file.name, phase: 'wait', received: 0, total: file.bytes, failures: [] });
    await withFileLock(`${target}.lock`, async () => {
      if (!cached()) await downloadFile(file, target, mirrors, ctx); // another download may have finished it meanwhile
    }, { onWait, signal: options.signal });
  }
  return dir;
}

interface FileContext {
  spec: DatasetSpec;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  report: (progress: DownloadProgress) => void;
}

/**
 * One file from the first mirror that delivers it verified. A mirror that failed goes to the
 * back of `mirrors` (shared by all files), so the next file does not wait for it again.
 */
async function downloadFile(file: DatasetFile, target: string, mirrors: string[], ctx: FileContext): Promise<void> {
  const part = `${target}.part`;
  const failures: MirrorFailure[] = [];
  for (const base of [...mirrors]) {
    const url = new URL(file.name, base).href;
    try {
      const resumedFrom = await fetchToPart(url, part, file, ctx, failures);
      let problem = await verify(part, file, ctx, url, failures);
      if (problem !== undefined && resumedFrom > 0) {
        // The bytes kept from before may be the bad ones: try once more from the start.
        rmSync(part, { force: true });
        await fetchToPart(url, part, file, ctx, failures);
        problem = await verify(part, file, ctx, url, failures);
      }
      if (problem !== undefined) {
        rmSync(part, { force: true }); // refused: nothing kept
        throw new MirrorFailed(problem);
      }
      renameSync(part, target);
      ctx.report({ file: file.name, phase: 'done', url, received: statSync(target).size, total: file.bytes, failures });
      return;
    } catch (e) {
      if (ctx.signal?.aborted) throw ctx.signal.reason;
      if (!(e instanceof MirrorFailed)) throw e;
      failures.push({ url, reason: e.message });
      mirrors.splice(mirrors.indexOf(base), 1);
      mirrors.push(base);
    }
  }
  const kept = sizeOf(part);
  const resume = kept > 0 ? `; the ${kept} bytes received are kept in ${part} and the next try resumes from there` : '';
  throw new DownloadError(
    `cannot download ${ctx.spec.title} ${file.name}: tried ${failures.map((f) => `${f.url} (${f.reason})`).join(', ')}${resume}`,
    failures,
  );
}

/**
 * Fetches `url` into `part`, resuming from what `part` already holds. Once the mirror has sent
 * bytes, a dropped connection is resumed (Range) up to {@link MAX_RESUMES} times.
 *
 * @returns the size `part` had before (0 for a fresh download)
 */
async function fetchToPart(url: string, part: string, file: DatasetFile, ctx: FileContext, failures: readonly MirrorFailure[]): Promise<number> {
  const initial = sizeOf(part);
  let delivered = false;
  for (let resumes = 0; ; resumes++) {
    let offset = sizeOf(part);
    if (file.bytes !== undefined && offset > file.bytes) {
      rmSync(part, { force: true });
      offset = 0;
    }
    if (file.bytes !== undefined && offset === file.bytes) return initial;
    try {
      await fetchOnce(url, part, offset, file, ctx, failures);
      return initial;
    } catch (e) {
      delivered ||= sizeOf(part) > offset;
      if (e instanceof MirrorFailed && e.resumable && delivered && resumes < MAX_RESUMES) continue;
      throw e;
    }
  }
}

/** One HTTP request for the bytes of `url` from `offset` on, appended to `part`. */
async function fetchOnce(url: string, part: string, offset: number, file: DatasetFile, ctx: FileContext, failures: readonly MirrorFailure[]): Promise<void> {
  const { signal, timeoutMs } = ctx;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    controller.abort();
  }, timeoutMs);
  let handle: FileHandle | undefined;
  try {
    // identity: the .gz bytes as published (their MD5), never decoded on the way.
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    // Open first, so the body is read the moment it comes: a stream that errors drops what it queued.
    handle = await open(part, 'a');
    const res = await fetch(url, { headers, signal: controller.signal });
    timer.refresh();
    if (res.status === 416 && offset > 0) {
      await res.body?.cancel();
      return; // nothing after what we have: verification decides whether it is whole
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new MirrorFailed(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    let start = 0;
    if (res.status === 206) {
      const range = res.headers.get('content-range') ?? '';
      if (Number(/^bytes (\d+)-/.exec(range)?.[1]) !== offset) {
        throw new MirrorFailed(`answered Range bytes=${offset}- with Content-Range '${range}'`);
      }
      start = offset;
    }
    const length = res.headers.get('content-length');
    const total = length !== null ? start + Number(length) : file.bytes;
    if (file.bytes !== undefined && total !== file.bytes) {
      throw new MirrorFailed(`serves ${total} bytes, expected ${file.bytes}`);
    }
    if (start === 0 && offset > 0) await handle.truncate(0); // the server sends it all again
    let received = start;
    ctx.report({ file: file.name, phase: 'download', url, received, total, failures });
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        timer.refresh();
        await handle.write(chunk);
        received += chunk.length;
        ctx.report({ file: file.name, phase: 'download', url, received, total, failures });
      }
    }
    if (total !== undefined && received < total) {
      throw new MirrorFailed(`connection closed after ${received} of ${total} bytes`, true);
    }
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (stalled) {
      throw new MirrorFailed(`no data for ${timeoutMs / 1000} s (the stall timeout: timeoutMs, or --timeout SECONDS on the command line)`);
    }
    if (e instanceof MirrorFailed) throw e;
    throw new MirrorFailed(describeNetworkError(e), true);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await handle?.close();
    if (sizeOf(part) === 0) rmSync(part, { force: true }); // nothing arrived: leave nothing
  }
}

/**
 * Checks a downloaded file: its MD5 against the published one, then its contents with the IDX
 * reader (image count and size, or label count and range).
 *
 * @returns what is wrong, or `undefined` when the file is good
 */
async function verify(part: string, file: DatasetFile, ctx: FileContext, url: string, failures: readonly MirrorFailure[]): Promise<string | undefined> {
  const { spec } = ctx;
  ctx.report({ file: file.name, phase: 'verify', url, received: sizeOf(part), total: file.bytes, failures });
  const md5 = await md5File(part);
  if (md5 !== file.md5) return `checksum mismatch: MD5 ${md5}, expected ${file.md5} (${spec.checksumSource})`;
  let dims: number[];
  let data: Uint8Array;
  try {
    ({ dims, data } = readIdxFile(part));
  } catch (e) {
    return (e as Error).message;
  }
  const expected = file.kind === 'images' ? [file.count, spec.rows, spec.cols] : [file.count];
  if (dims.join('×') !== expected.join('×')) {
    return `holds an IDX array of ${dims.join('×')}, expected ${file.kind} of ${expected.join('×')}`;
  }
  if (file.kind === 'labels') {
    const bad = data.findIndex((label) => label >= spec.classes);
    if (bad >= 0) return `label ${bad} is ${data[bad]}, expected 0 to ${spec.classes - 1}`;
  }
  return undefined;
}

/** MD5 of a file, lower-case hex, read in chunks. */
async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A short reason for a failed fetch: the system error ("getaddrinfo ENOTFOUND host") when there is one. */
function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return e instanceof Error ? e.message : String(e);
}

/** `url` as a base for file names: checked to be http(s), with a trailing slash. */
function baseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(`mirror '${url}' is not a URL (expected http:// or https://...)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError(`mirror '${url}' is not an http:// or https:// URL`);
  }
  return parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
}

/** Whether `path` is a regular file of the published size (any size when none is published). */
function isComplete(path: string, file: DatasetFile): boolean {
  try {
    const s = statSync(path);
    return s.isFile() && (file.bytes === undefined || s.size === file.bytes);
  } catch {
    return false;
  }
}

/** Size of `path` in bytes, 0 if it does not exist. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
