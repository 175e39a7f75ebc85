/**
 * Finding and compiling the kernel modules built by scripts/build-wasm.mjs, in Node.
 *
 * The .wasm files are read from `./generated/` next to this module (src/ under tsx, dist/ once
 * compiled); a URL that is not a file: URL is fetched. Node-only (it imports node:fs): browsers
 * load the modules through platform.browser.ts.
 */
import { type KernelFile, WasmNotBuiltError, compileOnce, fetchWasmFile, fileInFolder } from './support.js';

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
  return compileOnce(url.href, () => readWasmFile(url));
}

/** The bytes of a .wasm file: read from disk for a file: URL, fetched otherwise. @internal */
export async function readWasmFile(url: URL): Promise<BufferSource> {
  if (url.protocol === 'file:') {
    const fs = await import('node:fs/promises');
    try {
      return (await fs.readFile(url)) as Uint8Array<ArrayBuffer>; // a Buffer never wraps a SharedArrayBuffer
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new WasmNotBuiltError(url.pathname, e);
      throw e;
    }
  }
  return fetchWasmFile(url);
}
