/** The messages between the page and the training worker. */
import type { EpochPoint, TrainSettings } from './trainer.js';

/** Where the worker's training stands. */
export type TrainState = 'loading' | 'idle' | 'running' | 'paused' | 'finished' | 'failed';

/** Training stops by itself after this many epochs (the book trains about 17 on 60,000 images). */
export const MAX_EPOCHS = 20;

/** The kernels the worker trains with, as the page shows them. */
export interface BackendInfo {
  /** 'wasm': WebAssembly SIMD (src/kernels/wasm/); 'js': the TypeScript reference kernels. */
  backend: 'wasm' | 'js';
  /** Threads of the large matrix products. */
  threads: number;
  /** Why it is not the fastest choice (js, or one thread), if it is not. */
  note?: string;
  /** Whether the WebAssembly backend was wanted but could not load (the page warns). */
  fallback?: boolean;
}

/** The files "Download model" offers. */
export type ModelFormat = 'safetensors' | 'onnx';

export type ToWorker =
  /** Start a new net with these settings, or resume the paused one (settings ignored). */
  | { type: 'start'; settings: TrainSettings }
  | { type: 'pause' }
  /** Forget the net; the next start builds a new one. */
  | { type: 'reset' }
  /** The class probabilities for 784 pixels in [0, 1]. */
  | { type: 'predict'; id: number; pixels: Float32Array }
  /** A random image of the test set, for trying the net without drawing. */
  | { type: 'sample' }
  /** The trained net as a file ("Download model"). */
  | { type: 'export'; format: ModelFormat };

/**
 * Why training stopped with an error, as data, so the page words it in its own language
 * (web/failures.ts): the loss diverged (its value, the iteration, the learning rate), the
 * digits did not load, the worker failed, or another error (its message, shown as code).
 */
export type TrainFailure =
  | { kind: 'diverged'; loss: number; iteration: number; lr: number }
  | { kind: 'digits'; detail: string }
  | { kind: 'worker'; detail: string }
  | { kind: 'error'; detail: string };

export type FromWorker =
  /** Sent before 'ready', and again if the backend loses a thread. */
  | { type: 'backend'; info: BackendInfo }
  | { type: 'ready'; trainSize: number; testSize: number }
  /** Training speed over the last second or so of running, epoch measurements included. */
  | { type: 'speed'; iterationsPerSecond: number }
  /** `failure` says why, with state 'failed'. */
  | { type: 'state'; state: TrainState; iteration: number; failure?: TrainFailure }
  /** Mini-batch losses of iterations first+1, first+2, … */
  | { type: 'losses'; first: number; losses: Float32Array }
  | { type: 'epoch'; point: EpochPoint }
  /** W1 (784 × hidden, row-major) after the latest epoch. */
  | { type: 'weights'; W1: Float32Array; hidden: number }
  /** `probabilities` is null while there is no trained net. */
  | { type: 'prediction'; id: number; probabilities: Float32Array | null; iteration: number }
  | { type: 'sample'; pixels: Uint8Array; label: number }
  /** The file asked for by 'export', or why there is none. */
  | { type: 'model'; format: ModelFormat; fileName: string; bytes: Uint8Array; iteration: number }
  | { type: 'model'; format: ModelFormat; error: string };
