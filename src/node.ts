/**
 * backprop-ts in Node (the `node` condition of the package's exports map, and the subpath
 * `backprop-ts/node`): everything of the browser-safe core (src/index.ts), plus what needs
 * Node: reading IDX and PNG files, safetensors and model files saved atomically, the bundled
 * MNIST digits, and the WebAssembly SIMD kernels as the default backend, made on first use
 * (`useBackend('js')` picks the plain TypeScript ones; `getBackend().name` says which run).
 *
 * New exports go in src/index.ts if they run in a browser, here if they need Node.
 */
import './kernels/nodeBackends.js';

export * from './index.js';

export { readIdxFile, findIdxFile, loadIdxDataset, type IdxDataset } from './data/idxFiles.js';
export { downloadDataset, defaultCacheDir, missingDatasetFiles, DownloadError, DEFAULT_TIMEOUT_MS, type DownloadOptions, type DownloadProgress, type MirrorFailure } from './data/download.js';
export { readBundledDigits, loadBundledDigits, BUNDLED_DIGITS_FILE, type BundledDigits } from './data/bundledDigits.js';
export { readDigitPng } from './data/pngDigit.js';
export { writeFileAtomic } from './io/atomicWrite.js';
export { saveSafetensors, loadSafetensors } from './io/safetensorsFiles.js';
export { saveModel, loadModel } from './io/modelFiles.js';
export { wasmSimdSupported, WasmNotBuiltError, WasmWorkerError } from './kernels/wasm/index.js';
