/**
 * Finding and compiling the kernel modules built by scripts/build-wasm.mjs, in Node.
 *
 * The .wasm files are read from `./generated/` next to this module (src/ under tsx, dist/ once
 * compiled); a URL that is not a file: URL is fetched. Node-only (it imports node:fs): browsers
 * load the modules through platform.browser.ts.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type KernelFile, WasmNotBuiltError, compileOnce, compileOnceSync, fetchWasmFile, fileInFolder } from './support.js';
import { compileOptimized } from './eagerCompile.node.js';

export { WasmNotBuiltError, sharedMemorySupported, wasmSimdSupported } from './support.js';

/** Where each kernel module is, by default: literal URLs, so that bundlers can see them. */
export const kernelUrl = (file: KernelFile): URL => {
  switch (file) {
    case 'kernels.wasm': return new URL('./generated/kernels.wasm', import.meta.url);
    case 'kernels-shared.wasm': return new URL('./generated/kernels-shared.wasm', import.meta.url);
    case 'kernels-relaxed.wasm': return new URL('./generated/kernels-relaxed.wasm', import.meta.url);
    case 'kernels-relaxed-shared.wasm': return new URL('./generated/kernels-relaxed-shared.wasm', import.meta.url);
  }
};

/**
 * The compiled kernel module: 'kernels.wasm' (plain memory) or 'kernels-shared.wasm' (shared
 * memory), from `./generated/` or from the folder `baseUrl`.
 */
export function loadKernelModule(file: KernelFile, baseUrl?: string | URL): Promise<WebAssembly.Module> {
  const url = baseUrl === undefined ? kernelUrl(file) : fileInFolder(file, baseUrl);
  return compileOnce(url.href, () => readWasmFile(url), compileOptimized);
}

/** As loadKernelModule, synchronously (read from disk, compiled with `new WebAssembly.Module`); file: URLs only. */
export function loadKernelModuleSync(file: KernelFile, baseUrl?: string | URL): WebAssembly.Module {
  const url = baseUrl === undefined ? kernelUrl(file) : fileInFolder(file, baseUrl);
  if (url.protocol !== 'file:') throw new Error(`wasm backend: ${url.href} is not a file; create the backend with await createWasmBackend() to fetch it`);
  return compileOnceSync(url.href, () => readOrExplain(() => readFileSync(url) as Uint8Array<ArrayBuffer>, url), compileOptimized);
}

/** The bytes of a .wasm file: read from disk for a file: URL, fetched otherwise. @internal */
export async function readWasmFile(url: URL): Promise<BufferSource> {
  if (url.protocol === 'file:') {
    try {
      return (await readFile(url)) as Uint8Array<ArrayBuffer>; // a Buffer never wraps a SharedArrayBuffer
    } catch (e) {
      return readOrExplain(() => { throw e; }, url);
    }
  }
  return fetchWasmFile(url);
}

/** `read()`, with a missing file reported as WasmNotBuiltError. */
function readOrExplain<T>(read: () => T, url: URL): T {
  try {
    return read();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new WasmNotBuiltError(url.pathname, e);
    throw e;
  }
}
