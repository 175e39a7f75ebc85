import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DATASETS, DATASET_NAMES, isDatasetName } from '../data/datasets.js';
import { DEFAULT_TIMEOUT_MS, DownloadError, defaultCacheDir, downloadDataset, type DownloadProgress } from '../data/download.js';
import { parseFlags, positiveFlag } from './args.js';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';
import { bar } from './progress.js';

const mirrorList = DATASET_NAMES.map((n) => `  ${n}: ${DATASETS[n].mirrors.join(' ')}`).join('\n');

export const DATA_HELP = `Usage: backprop data mnist|fashion-mnist [flags]

Downloads the dataset's four IDX files (60,000 training and 10,000 test images) into the cache,
$XDG_CACHE_HOME/backprop/NAME or ~/.cache/backprop/NAME, then: backprop train --data mnist.
Each file is checked against its published MD5 and read with the IDX reader before it is kept;
an interrupted download resumes where it stopped; files already there are not fetched again.

  --dir DIR             put the files in DIR instead (then: backprop train --data DIR)
  --mirror URL          try this base URL first (repeatable), then the standard mirrors
  --no-default-mirrors  try only the --mirror URLs
  --timeout SECONDS     give up on a mirror that sends nothing for this long (default ${DEFAULT_TIMEOUT_MS / 1000})
  --quiet               print only the last line

Standard mirrors, tried in order:
${mirrorList}
`;

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130;

/** `backprop data NAME`: download a dataset into the cache; returns the exit code. */
export async function dataCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags('data', args, {
    dir: { type: 'string' },
    mirror: { type: 'string', multiple: true },
    'no-default-mirrors': { type: 'boolean' },
    timeout: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) {
    io.out(DATA_HELP);
    return 0;
  }
  const names = DATASET_NAMES.join(' or ');
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `data: which dataset? ${names} (see backprop data --help)` : `data: one dataset at a time, got ${positionals.join(' ')}`);
  }
  const name = positionals[0]!;
  if (!isDatasetName(name)) throw new UsageError(`data: unknown dataset '${name}' (datasets: ${DATASET_NAMES.join(', ')})`);
  const extra = values.mirror ?? [];
  if (values['no-default-mirrors'] && extra.length === 0) throw new UsageError('data: --no-default-mirrors needs at least one --mirror URL');
  const timeoutMs = positiveFlag('timeout', values.timeout, DEFAULT_TIMEOUT_MS / 1000) * 1000;
  const spec = DATASETS[name];
  const mirrors = values['no-default-mirrors'] ? extra : [...extra, ...spec.mirrors];

  const start = performance.now();
  const view = new DownloadView(io, Boolean(values.quiet));
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(INTERRUPTED); // a second Ctrl-C: out now
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let dir: string;
  try {
    dir = await downloadDataset(name, { dir: values.dir, mirrors, timeoutMs, signal: controller.signal, onProgress: (p) => view.update(p) });
  } catch (e) {
    view.clearLine();
    if (controller.signal.aborted) {
      const target = values.dir ?? join(defaultCacheDir(), name);
      const parts = existsSync(target) ? readdirSync(target).filter((f) => f.endsWith('.part')) : [];
      io.err(parts.length > 0
        ? `backprop: interrupted; what arrived is kept in ${parts.map((f) => join(target, f)).join(', ')}, and the next run resumes from there\n`
        : 'backprop: interrupted before any data arrived\n');
      return INTERRUPTED;
    }
    if (e instanceof DownloadError && e.failures.length > 0) {
      throw new DownloadError(`${e.message}; or pass --data DIR to train on a directory that holds the four files`, e.failures);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  const secs = ((performance.now() - start) / 1000).toFixed(1);
  const use = values.dir === undefined ? name : dir;
  io.out(view.fetched === 0
    ? `${spec.title} is already in ${dir} (${spec.files.length} files, verified when downloaded); train on it: backprop train --data ${use}\n`
    : `${spec.title}: ${spec.files.length} files verified in ${dir} (${view.fetched} downloaded, ${secs} s); train on it: backprop train --data ${use}\n`);
  return 0;
}

/** The download as people see it: a live bar on a terminal, a line per file otherwise. */
class DownloadView {
  /** Files downloaded (not found in the cache). */
  fetched = 0;
  private lastDraw = 0;
  private drawn = false;
  private file = '';
  private fileStart = 0;
  private fileStartBytes = 0;

  constructor(private readonly io: CliIO, private readonly quiet: boolean) {}

  update(p: DownloadProgress): void {
    if (p.phase === 'download' && p.file !== this.file) {
      this.file = p.file;
      this.fileStart = performance.now();
      this.fileStartBytes = p.received; // resumed: count only what arrives now
    }
    if (p.phase === 'done') {
      this.fetched++;
      if (this.quiet) return;
      const skipped = p.failures.map((f) => `${f.url}: ${f.reason}`).join('; ');
      this.clearLine();
      this.io.out(`  ${p.file}  ${megabytes(p.received)}  MD5 and contents ok, from ${p.url}${skipped ? ` (after ${skipped})` : ''}\n`);
      return;
    }
    if (this.quiet) return;
    if (p.phase === 'wait') {
      this.clearLine();
      this.io.out(`  ${p.file}: another download into this directory is under way; waiting for it\n`);
      return;
    }
    if (!this.io.isTTY) return;
    if (p.phase === 'verify') {
      this.io.out(`\r${bar(1)} ${p.file}  checking MD5 and contents\x1b[K`);
      this.drawn = true;
      return;
    }
    if (p.phase !== 'download') return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && p.received !== p.total) return;
    this.lastDraw = now;
    const rate = (p.received - this.fileStartBytes) / Math.max((now - this.fileStart) / 1000, 1e-3);
    const size = p.total !== undefined ? `${megabytes(p.received)} / ${megabytes(p.total)}` : megabytes(p.received);
    this.io.out(`\r${bar(p.total ? p.received / p.total : 0)} ${p.file}  ${size}  ${megabytes(rate)}/s\x1b[K`);
    this.drawn = true;
  }

  /** End a live bar, so the next line starts clean. */
  clearLine(): void {
    if (this.drawn) this.io.out('\r\x1b[K');
    this.drawn = false;
  }
}

/** `9.9 MB`, `28.9 kB`. */
function megabytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}
