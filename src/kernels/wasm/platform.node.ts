/**
 * The wasm backend's Node side: worker_threads running threadWorker.ts (the same script as the
 * browsers' Web Workers) for the thread pool, node:os for the core count, node:fs for the kernel
 * modules (loader.ts). Node-only: browsers use platform.browser.ts, and the browser bundle must
 * never include this file.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Platform, SyncPlatform } from './create.js';
import { loadKernelModule, loadKernelModuleSync } from './loader.js';
import { WasmNotBuiltError } from './support.js';
import { controlBytes, failSlot, readySlot, type PoolWorker, type WorkerData } from './threads.js';

/** The thread script: threadWorker.ts bundled into one file by scripts/build-wasm.mjs, beside the kernels. */
const WORKER_URL = new URL('./generated/threadWorker.js', import.meta.url);

/** How long a worker thread may take to load and instantiate the module. */
const START_TIMEOUT_MS = 20_000;

/**
 * A new worker thread, before it is ready; a missing script is an error now, not a silent wait.
 * No flags of this process (execArgv: []): the script is plain JavaScript with no imports, and a
 * flag such as --input-type or a loader would only slow its start or stop it.
 */
function newWorker(data: WorkerData): Worker {
  if (!existsSync(fileURLToPath(WORKER_URL))) throw new WasmNotBuiltError(fileURLToPath(WORKER_URL), null);
  return new Worker(WORKER_URL, { workerData: data, execArgv: [], name: `backprop wasm thread ${data.thread}` });
}

/** The pool's handle on a ready worker; an idle worker never keeps the process alive. */
function poolWorker(w: Worker): PoolWorker {
  w.removeAllListeners();
  w.unref();
  return {
    onFailure(listener) {
      w.on('error', (e) => listener(`crashed: ${e.message}`));
      w.on('exit', (code) => listener(`exited (code ${code})`));
      w.on('message', (m: { error?: string }) => {
        if (m && m.error) listener(`failed: ${m.error}`);
      });
    },
    terminate: () => w.terminate(),
  };
}

/** Starts one worker thread; resolves once it has instantiated the module. */
async function spawnWorker(data: WorkerData): Promise<PoolWorker> {
  const w = newWorker(data);
  try {
    await new Promise<void>((resolve, reject) => {
      w.once('message', (m: 'ready' | { error: string }) => (m === 'ready' ? resolve() : reject(new Error(`worker thread ${data.thread}: ${m.error}`))));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`worker thread ${data.thread} exited during start-up (code ${code})`)));
    });
  } catch (e) {
    await w.terminate();
    throw e;
  }
  return poolWorker(w);
}

/**
 * Starts one worker thread and blocks until it is ready: the worker marks its slot of the
 * control block (readySlot) once it serves jobs, or its fail slot when it exits first.
 */
function spawnWorkerSync(data: WorkerData): PoolWorker {
  const w = newWorker(data);
  const ctl = new Int32Array(data.memory.buffer, data.control, controlBytes(data.threads) / 4);
  const ready = readySlot(data.thread);
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (Atomics.load(ctl, ready) === 0) {
    const left = deadline - performance.now();
    const failed = Atomics.load(ctl, failSlot(data.thread)) !== 0;
    if (failed || left <= 0) {
      w.on('error', () => {}); // reported by the throw below, not as an uncaught error later
      void w.terminate();
      throw new Error(`worker thread ${data.thread} ${failed ? 'exited during start-up' : `did not start within ${START_TIMEOUT_MS / 1000} s`}`);
    }
    Atomics.wait(ctl, ready, 0, Math.min(left, 20));
  }
  return poolWorker(w);
}

const cores = (): number => availableParallelism();

/** Node: worker_threads, files next to the module. */
export const nodePlatform: Platform = {
  cores: async () => cores(),
  workersMissing: async () => null,
  loadModule: loadKernelModule,
  spawnWorker,
  onSpawnFailure: 'throw',
};

/** Node, synchronously: for the default backend made on first use. */
export const nodeSyncPlatform: SyncPlatform = {
  cores,
  workersMissing: () => null,
  loadModule: loadKernelModuleSync,
  spawnWorker: spawnWorkerSync,
};
