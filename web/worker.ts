/**
 * The training worker: loads the kernels and the digits, trains the TwoLayerNet in slices of a
 * few milliseconds (so "pause" and "predict" are answered between them), and reports losses,
 * per-epoch accuracies, speed and the first layer's weights to the page.
 *
 * Kernels: the WebAssembly SIMD backend, with a second thread when the page is cross-origin
 * isolated (this worker may block in Atomics.wait, the page's main thread may not); the
 * TypeScript ones if it cannot load (the page says why), or when the page's address has
 * `?backend=js` (to compare speeds; `?threads=1` keeps WebAssembly on one thread).
 */
import { toLabeledData, type LabeledData } from '../src/data/dataset.js';
import type { ImageSet } from '../src/data/idx.js';
import { splitImageSet } from '../src/data/split.js';
import { registerBackend, setBackend } from '../src/kernels/registry.js';
import { createWasmBackend, WasmWorkerError, type WasmBackend } from '../src/kernels/wasm/browser.js';
import { Random } from '../src/random.js';
import { decodeDigits } from '../src/data/digitsFile.js';
import { MAX_EPOCHS, type BackendInfo, type FromWorker, type ToWorker, type TrainFailure, type TrainState } from './protocol.js';
import { DivergedError, SteppedTrainer, checkSettings } from './trainer.js';
import { modelFile } from './modelExport.js';

/** The CLI's split of the bundled digits: 8,000 to train on, 2,000 to test, seed 0. */
const TRAIN_SIZE = 8000;
const SPLIT_SEED = 0;
/** How long one slice of training runs before the worker looks at its messages. */
const SLICE_MS = 30;
/** How often the training speed is sent while running, in ms; and the shortest run measured when it stops. */
const SPEED_MS = 1000;
const MIN_SPEED_MS = 200;

const scope = self as unknown as { postMessage(msg: FromWorker, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post = (msg: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(msg, transfer);

let data: { train: LabeledData; test: LabeledData } | null = null;
let testSet: ImageSet | null = null;
let trainer: SteppedTrainer | null = null;
let state: TrainState = 'loading';
const sampler = new Random(1);
let wasm: WasmBackend | null = null;
/** The start of the current speed measurement: time and iteration. */
let speedFrom = { time: 0, iteration: 0 };

function setState(next: TrainState, failure?: TrainFailure): void {
  state = next;
  post({ type: 'state', state, iteration: trainer?.iteration ?? 0, failure });
}

/** Makes the fastest backend that loads the default for new tensors, and says which it is. */
async function chooseBackend(): Promise<BackendInfo> {
  const params = new URL(self.location.href).searchParams;
  if (params.get('backend') === 'js') return { backend: 'js', threads: 1, note: 'chosen with ?backend=js' };
  const threads = Number(params.get('threads')) || undefined; // default: 2 where the page allows
  try {
    wasm = await createWasmBackend({ threads });
    registerBackend(wasm);
    setBackend(wasm.name);
    return wasmInfo(wasm);
  } catch (e) {
    return { backend: 'js', threads: 1, note: `the WebAssembly backend is unavailable: ${(e as Error).message}`, fallback: true };
  }
}

function wasmInfo(backend: WasmBackend, note?: string): BackendInfo {
  return { backend: 'wasm', threads: backend.threads, note: note ?? backend.singleThreadReason ?? undefined };
}

async function load(): Promise<void> {
  try {
    const [response, info] = await Promise.all([fetch(new URL('digits.bin', self.location.href)), chooseBackend()]);
    post({ type: 'backend', info });
    if (!response.ok) throw new Error(`digits.bin: the server answered ${response.status} ${response.statusText}`);
    const all = decodeDigits(new Uint8Array(await response.arrayBuffer()), 'digits.bin');
    const split = splitImageSet(all, TRAIN_SIZE, SPLIT_SEED);
    testSet = split.test;
    // made once the backend is chosen: the images live in its memory, where its kernels read them in place
    data = { train: toLabeledData(split.train), test: toLabeledData(split.test) };
    post({ type: 'ready', trainSize: split.train.count, testSize: split.test.count });
    setState('idle');
  } catch (e) {
    setState('failed', { kind: 'digits', detail: (e as Error).message });
  }
}

// A message to ourselves runs the next slice as soon as the page's messages are handled,
// without setTimeout's 4 ms clamp.
const tick = new MessageChannel();
tick.port1.onmessage = runSlice;

function runSlice(): void {
  if (state !== 'running' || !trainer) return;
  let first = trainer.iteration;
  let losses: number[] = [];
  const flush = (): void => {
    if (losses.length) post({ type: 'losses', first, losses: Float32Array.from(losses) });
    first = trainer!.iteration;
    losses = [];
  };
  const end = performance.now() + SLICE_MS;
  try {
    do {
      let result;
      try {
        result = trainer.step();
      } catch (e) {
        // a thread worker died: this step (or its epoch measurement) is dropped, and the backend
        // goes on with one thread
        if (!(e instanceof WasmWorkerError) || !wasm) throw e;
        post({ type: 'backend', info: wasmInfo(wasm, e.message) });
        continue;
      }
      const { loss, point } = result;
      losses.push(loss);
      if (point) {
        flush();
        post({ type: 'epoch', point });
        sendWeights(trainer);
        if (point.epoch >= MAX_EPOCHS) setState('finished');
      }
    } while (state === 'running' && performance.now() < end);
  } catch (e) {
    flush();
    setState('failed', e instanceof DivergedError ? e.failure : { kind: 'error', detail: (e as Error).message });
    return;
  }
  flush();
  reportSpeed(state === 'running' ? SPEED_MS : MIN_SPEED_MS);
  if (state === 'running') tick.port2.postMessage(null);
}

/** Sends the training speed since the last report if at least `minMs` have passed. */
function reportSpeed(minMs: number): void {
  const now = performance.now();
  const ms = now - speedFrom.time;
  if (!trainer || ms < minMs || trainer.iteration === speedFrom.iteration) return;
  post({ type: 'speed', iterationsPerSecond: ((trainer.iteration - speedFrom.iteration) * 1000) / ms });
  speedFrom = { time: now, iteration: trainer.iteration };
}

function sendWeights(t: SteppedTrainer): void {
  const W1 = t.weights();
  post({ type: 'weights', W1, hidden: t.settings.hidden }, [W1.buffer]);
}

scope.onmessage = ({ data: msg }) => {
  switch (msg.type) {
    case 'start': {
      if (!data || state === 'running' || state === 'loading') return;
      if (!trainer || state === 'finished' || state === 'failed') {
        const problem = checkSettings(msg.settings, data.train.x.shape[0]);
        if (problem) return setState(state, { kind: 'error', detail: problem }); // the page checks first: a safeguard
        trainer = new SteppedTrainer(data, msg.settings);
      }
      setState('running');
      speedFrom = { time: performance.now(), iteration: trainer.iteration };
      tick.port2.postMessage(null);
      return;
    }
    case 'pause':
      if (state === 'running') {
        setState('paused');
        reportSpeed(MIN_SPEED_MS);
      }
      return;
    case 'reset':
      trainer = null;
      if (data) setState('idle');
      return;
    case 'predict': {
      const trained = trainer && trainer.iteration > 0 ? trainer : null;
      const probabilities = trained ? trained.probabilities(msg.pixels) : null;
      post({ type: 'prediction', id: msg.id, probabilities, iteration: trainer?.iteration ?? 0 });
      return;
    }
    case 'export': {
      if (!trainer || trainer.iteration === 0) return post({ type: 'model', format: msg.format, error: 'there is no trained network yet' });
      try {
        const { fileName, bytes } = modelFile(trainer, msg.format);
        post({ type: 'model', format: msg.format, fileName, bytes, iteration: trainer.iteration }, [bytes.buffer]);
      } catch (e) {
        post({ type: 'model', format: msg.format, error: (e as Error).message });
      }
      return;
    }
    case 'sample': {
      if (!testSet) return;
      const k = sampler.int(testSet.count);
      post({ type: 'sample', pixels: testSet.images.slice(k * 784, (k + 1) * 784), label: testSet.labels[k] });
      return;
    }
  }
};

void load();
