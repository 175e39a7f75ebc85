/**
 * The bench's python3 subprocesses (NumPy, JAX): their environment, and long-lived servers that
 * answer one JSON line per request line (bench/numpy_two_layer.py --serve, numpy_simple_convnet.py).
 *
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the subprocess's environment only:
 * set, they force OpenBLAS onto slower kernels than the CPU supports. OPENBLAS_NUM_THREADS
 * fixes the BLAS threads where a row asks for a count.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { lastLines } from './shared.js';

/**
 * How long to let a multi-threaded Python row's threads settle before timing another row: after
 * its last call, OpenBLAS's second thread spins on a core for ~100–110 ms (measured here: a
 * 2-thread NumPy process's CPU time in 10 ms windows after 2,000 products, 3 trials).
 */
export const SPIN_SETTLE_MS = 150;

/** Removed from the Python subprocess's environment (never from ours). */
export const REMOVED_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** Our environment without REMOVED_ENV, with OPENBLAS_NUM_THREADS = `threads` unless null. */
export function pythonEnv(threads: number | null): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (threads !== null) env.OPENBLAS_NUM_THREADS = String(threads);
  for (const name of REMOVED_ENV) delete env[name];
  return env;
}

/** python3 can import `module`. */
export const canImport = (module: string): boolean =>
  spawnSync('python3', ['-c', `import ${module}`], { encoding: 'utf8', env: pythonEnv(1) }).status === 0;

/** A python3 process running `script` with `args`, answering each line written to it with one JSON line. */
export class PythonServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  /** Resolves once the process has exited and its output streams are closed (its stderr read to the end). */
  private readonly closed: Promise<unknown>;

  constructor(private readonly script: string, args: string[], threads: number | null) {
    this.child = spawn('python3', [script, ...args], { env: pythonEnv(threads) });
    this.child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    // A write to a process that has died fails with EPIPE, asynchronously: `next` says it stopped (and why)
    this.child.stdin.on('error', () => {});
    this.closed = new Promise((resolve) => this.child.once('close', resolve));
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The next JSON line it prints. */
  async next<T>(): Promise<T> {
    const r = await this.lines.next();
    if (r.done) {
      await this.closed;
      throw new Error(`python3 ${this.script} stopped: ${lastLines(this.stderr) || 'no message'}`);
    }
    return JSON.parse(r.value) as T;
  }

  /** Sends one request line and returns its answer. */
  async request<T>(line: string): Promise<T> {
    this.child.stdin.write(`${line}\n`);
    return this.next<T>();
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.stdin.end('quit\n');
  }
}
