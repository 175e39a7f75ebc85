/**
 * Finding and compiling the kernel modules built by scripts/build-wasm.mjs.
 *
 * In Node the .wasm files are read from `./generated/` next to this module (src/ under tsx,
 * dist/ once compiled); elsewhere (a browser bundle) they are fetched from the same URL.
 */

/** A 31-byte module whose one function uses SIMD (i8x16.splat, i8x16.popcnt). */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/**
 * Whether this engine runs WebAssembly with 128-bit SIMD, which the wasm backend needs.
 * @example if (wasmSimdSupported()) setBackend((await createWasmBackend()).name);
 */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Whether shared WebAssembly memories (hence threads) are available here. */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  // In browsers, SharedArrayBuffer exists only on cross-origin-isolated pages (COOP/COEP headers).
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Thrown when the kernels were not compiled (scripts/build-wasm.mjs has not run). */
export class WasmNotBuiltError extends Error {
  constructor(file: string, cause: unknown) {
    super(`wasm backend: the kernel module ${file} is missing; run \`npm run build:wasm\` to build it`, { cause });
    this.name = 'WasmNotBuiltError';
  }
}

const cache = new Map<string, Promise<WebAssembly.Module>>();

/** The compiled kernel module: 'kernels.wasm' (plain memory) or 'kernels-shared.wasm' (shared memory). */
export function loadKernelModule(file: 'kernels.wasm' | 'kernels-shared.wasm'): Promise<WebAssembly.Module> {
  let p = cache.get(file);
  if (!p) {
    p = readWasmFile(new URL(`./generated/${file}`, import.meta.url)).then((bytes) => WebAssembly.compile(bytes));
    p.catch(() => cache.delete(file)); // a later call (after `npm run build:wasm`) tries again
    cache.set(file, p);
  }
  return p;
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
  const response = await fetch(url);
  if (!response.ok) throw new WasmNotBuiltError(url.href, new Error(`HTTP ${response.status}`));
  return response.arrayBuffer();
}
