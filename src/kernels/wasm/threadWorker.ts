/**
 * A thread of the wasm backend's pool, in a browser: the script of the module Web Workers that
 * platform.browser.ts starts. It receives the kernel module and the shared memory (WorkerData),
 * instantiates the module on that memory, says 'ready', then serves matrix products until told
 * to exit: the same loop as the Node workers' (WORKER_SOURCE in platform.node.ts; a change to one
 * is a change to both), against the control block laid out in threads.ts.
 *
 * It blocks in Atomics.wait between jobs, so after 'ready' it never looks at its messages again.
 */
import {
  CMD, CMD_CRASH, CMD_EXIT, DONE, JOB, PACK, PACKED, PACK_TOTAL, SEQ, SPIN_MS, WORK, WORK_TOTAL,
  claim, controlBytes, failSlot, type MatmulKernels, type WorkerData,
} from './threads.js';

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<WorkerData>) => void) | null;
  onmessageerror: (() => void) | null;
  postMessage(msg: 'ready' | { error: string }): void;
  close(): void;
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  serve(e.data);
  scope.close();
};
scope.onmessageerror = () => scope.postMessage({ error: 'the kernel module or the shared memory could not be received' });

function serve({ module, memory, control, tmp, thread, threads, spin }: WorkerData): void {
  let kernels: MatmulKernels;
  try {
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as MatmulKernels;
  } catch (e) {
    scope.postMessage({ error: `could not instantiate the kernels: ${(e as Error).message}` });
    return;
  }
  const ctl = new Int32Array(memory.buffer, control, controlBytes(threads) / 4);
  const FAIL = failSlot(thread);
  /** Every pack chunk is done: the compute chunks may be claimed. */
  const open = (tag: number): void => {
    Atomics.store(ctl, WORK, tag << 16);
    Atomics.notify(ctl, WORK);
  };
  let seen = Atomics.load(ctl, SEQ);
  scope.postMessage('ready');
  for (;;) {
    // Spin a while for the next job (a wake-up from Atomics.wait costs ~25 µs), then sleep.
    let seq = Atomics.load(ctl, SEQ);
    for (let i = 0; seq === seen && i < spin; i++) seq = Atomics.load(ctl, SEQ);
    while (seq === seen) {
      Atomics.wait(ctl, SEQ, seen);
      seq = Atomics.load(ctl, SEQ);
    }
    seen = seq;
    const cmd = Atomics.load(ctl, CMD);
    if (cmd === CMD_EXIT) return;
    const tag = seq & 0x7fff;
    const job = Atomics.load(ctl, JOB);
    const packTotal = Atomics.load(ctl, PACK_TOTAL);
    const workTotal = Atomics.load(ctl, WORK_TOTAL);
    try {
      let c: number;
      while ((c = claim(ctl, PACK, tag, packTotal)) >= 0) {
        if (cmd === CMD_CRASH) {
          Atomics.store(ctl, FAIL, 2); // as a Node worker's exit: the caller stops waiting on this thread
          return;
        }
        kernels.matmulPack(job, c);
        if (Atomics.add(ctl, PACKED, 1) === packTotal - 1) open(tag);
      }
      // Wait for pack chunks other threads are finishing, unless the job is already over;
      // after a spin, in naps of 50 µs that let a thread sharing this core run.
      for (let i = 0, w, t0 = performance.now(), nap = false; (w = Atomics.load(ctl, WORK)) >>> 16 !== tag && Atomics.load(ctl, SEQ) === seq; i++) {
        if (nap) Atomics.wait(ctl, WORK, w, 0.05);
        else if ((i & 255) === 255) nap = performance.now() - t0 > SPIN_MS;
      }
      while ((c = claim(ctl, WORK, tag, workTotal)) >= 0) {
        kernels.matmulCompute(job, c, tmp);
        Atomics.add(ctl, DONE, 1);
        Atomics.notify(ctl, DONE);
      }
    } catch (e) {
      Atomics.store(ctl, FAIL, 1);
      scope.postMessage({ error: String((e as Error)?.stack ?? e) });
    }
  }
}
