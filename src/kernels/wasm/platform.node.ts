/**
 * The wasm backend's Node side: worker_threads for the thread pool, node:os for the core
 * count, node:fs for the kernel modules (loader.ts). Node-only: browsers use
 * platform.browser.ts, and the browser bundle must never include this file.
 */
import type { Platform } from './create.js';
import { loadKernelModule } from './loader.js';
import { nodeCollector } from './collector.node.js';
import v8 from 'node:v8';
import {
  CMD, CMD_CRASH, CMD_EXIT, DONE, JOB, PACK, PACKED, PACK_TOTAL, SEQ, SPIN_MS, WORK, WORK_TOTAL,
  controlBytes, failSlot, type PoolWorker, type WorkerData,
} from './threads.js';

/**
 * The worker's program, as CommonJS source for `new Worker(..., { eval: true })`: a plain
 * string, so it runs the same under tsx and from dist/. Browsers run the same loop from a file,
 * threadWorker.ts (a page's Content-Security-Policy forbids eval and blob: workers): a change
 * to one is a change to both.
 */
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, tmp, thread, threads, spin } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, control, ${controlBytes(0) / 4} + 16 * threads);
const SEQ = ${SEQ}, CMD = ${CMD}, JOB = ${JOB}, PACK_TOTAL = ${PACK_TOTAL}, WORK_TOTAL = ${WORK_TOTAL};
const PACK = ${PACK}, WORK = ${WORK}, PACKED = ${PACKED}, DONE = ${DONE}, FAIL = ${failSlot(1)} + 16 * (thread - 1);
function claim(ctl, slot, tag, total) { // as claim() in threads.ts
  for (;;) {
    const v = Atomics.load(ctl, slot);
    if (v >>> 16 !== tag || (v & 0xffff) >= total) return -1;
    if (Atomics.compareExchange(ctl, slot, v, v + 1) === v) return v & 0xffff;
  }
}
function open(tag) { // every pack chunk is done: the compute chunks may be claimed
  Atomics.store(ctl, WORK, tag << 16);
  Atomics.notify(ctl, WORK);
}
process.on('exit', () => Atomics.store(ctl, FAIL, 2)); // seen by a caller waiting on this worker
let seen = Atomics.load(ctl, SEQ);
parentPort.postMessage('ready');
for (;;) {
  // Spin a while for the next job (a wake-up from Atomics.wait costs ~25 us), then sleep.
  let seq = Atomics.load(ctl, SEQ);
  for (let i = 0; seq === seen && i < spin; i++) seq = Atomics.load(ctl, SEQ);
  while (seq === seen) {
    Atomics.wait(ctl, SEQ, seen);
    seq = Atomics.load(ctl, SEQ);
  }
  seen = seq;
  const cmd = Atomics.load(ctl, CMD);
  if (cmd === ${CMD_EXIT}) break;
  const tag = seq & 0x7fff;
  const job = Atomics.load(ctl, JOB);
  const packTotal = Atomics.load(ctl, PACK_TOTAL), workTotal = Atomics.load(ctl, WORK_TOTAL);
  try {
    let c;
    while ((c = claim(ctl, PACK, tag, packTotal)) >= 0) {
      if (cmd === ${CMD_CRASH}) process.exit(70);
      kernels.matmulPack(job, c);
      if (Atomics.add(ctl, PACKED, 1) === packTotal - 1) open(tag);
    }
    // Wait for pack chunks other threads are finishing, unless the job is already over;
    // after a spin, in naps of 50 us that let a thread sharing this core run.
    for (let i = 0, w, t0 = performance.now(), nap = false; (w = Atomics.load(ctl, WORK)) >>> 16 !== tag && Atomics.load(ctl, SEQ) === seq; i++) {
      if (nap) Atomics.wait(ctl, WORK, w, 0.05);
      else if ((i & 255) === 255) nap = performance.now() - t0 > ${SPIN_MS};
    }
    while ((c = claim(ctl, WORK, tag, workTotal)) >= 0) {
      kernels.matmulCompute(job, c, tmp);
      Atomics.add(ctl, DONE, 1);
      Atomics.notify(ctl, DONE);
    }
  } catch (e) {
    Atomics.store(ctl, FAIL, 1);
    parentPort.postMessage({ error: String((e && e.stack) || e) });
  }
}
`;

/** Starts one worker thread; resolves once it has instantiated the module. */
async function spawnWorker(data: WorkerData): Promise<PoolWorker> {
  const { Worker } = await import('node:worker_threads');
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
  try {
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`worker thread ${data.thread} exited during start-up (code ${code})`)));
    });
  } catch (e) {
    await w.terminate();
    throw e;
  }
  w.removeAllListeners();
  w.unref(); // an idle worker must not keep the process alive
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

/** Node: worker_threads, files next to the module. */
export const nodePlatform: Platform = {
  async cores() {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  },
  async workersMissing() {
    try {
      await import('node:worker_threads');
      return null;
    } catch {
      return 'node:worker_threads is unavailable';
    }
  },
  loadModule: loadKernelModule,
  spawnWorker,
  onSpawnFailure: 'throw',
  collector: nodeCollector,
  enableRelaxedSimd() {
    // Node 20 compiles relaxed SIMD only behind this flag (Node 22+ has it on); set before compiling.
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // the engine refuses: the relaxed module will fail to compile and the plain one is used
    }
  },
};
