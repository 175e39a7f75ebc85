/**
 * What this JavaScript engine and thread offer the wasm backend, and fetching the kernel
 * modules. Platform-neutral: Node and browsers (no `node:` import here, nor in anything this
 * imports), so that a browser bundle can include it.
 */

/** A 31-byte module whose one function uses SIMD (i8x16.splat, i8x16.popcnt). */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/**
 * The builds of the kernels (scripts/build-wasm.mjs): plain memory (one thread), shared memory
 * (threads), and each with relaxed SIMD (Node only, for now; chosen where faster: create.ts).
 */
export type KernelFile = 'kernels.wasm' | 'kernels-shared.wasm' | 'kernels-relaxed.wasm' | 'kernels-relaxed-shared.wasm';

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
  return sharedMemoryMissing() === null;
}

/** Why shared WebAssembly memories are unavailable here, or null when they are available. */
export function sharedMemoryMissing(): string | null {
  // In browsers, SharedArrayBuffer exists only on cross-origin-isolated pages (COOP/COEP headers).
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (it needs the COOP and COEP headers), so it has no shared memory';
  }
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is unavailable here';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return null;
  } catch (e) {
    return `this engine cannot create a shared WebAssembly memory (${(e as Error).message})`;
  }
}

/**
 * Whether this thread may block in Atomics.wait. A browser's main thread may not, so a backend
 * created there runs on one thread (create it in a Worker for threads).
 */
export const canWait: boolean = (() => {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/** Thrown when the kernels were not compiled (scripts/build-wasm.mjs has not run) or cannot be fetched. */
export class WasmNotBuiltError extends Error {
  constructor(file: string, cause: unknown) {
    super(`wasm backend: the kernel module ${file} is missing; run \`npm run build:wasm\` to build it`, { cause });
    this.name = 'WasmNotBuiltError';
  }
}

/** The bytes of a .wasm file fetched from `url`. */
export async function fetchWasmFile(url: URL): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new WasmNotBuiltError(url.href, new Error(`HTTP ${response.status}`));
  return response.arrayBuffer();
}

/** The URL of `file` inside the folder `folder` (a trailing slash is added if missing). */
export function fileInFolder(file: string, folder: string | URL, base?: string): URL {
  const url = new URL(folder, base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return new URL(file, url);
}

const cache = new Map<string, Promise<WebAssembly.Module>>();
const compiled = new Map<string, WebAssembly.Module>();

/** How a module's bytes are compiled: WebAssembly.compile, or a platform's own way (Node's eager compile). */
export type Compile = (bytes: BufferSource) => WebAssembly.Module | Promise<WebAssembly.Module>;

/**
 * The module compiled from the bytes `read` gives, compiled once per `key` (its URL) by
 * `compile`. A failed load is forgotten, so a later call (after `npm run build:wasm`) tries again.
 */
export function compileOnce(key: string, read: () => Promise<BufferSource>, compile: Compile = (bytes) => WebAssembly.compile(bytes)): Promise<WebAssembly.Module> {
  const done = compiled.get(key);
  if (done) return Promise.resolve(done);
  let p = cache.get(key);
  if (!p) {
    p = read().then(compile);
    p.then((m) => compiled.set(key, m), () => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}

/**
 * As compileOnce, synchronously: `new WebAssembly.Module`, which Node and workers allow for any
 * size (a browser's main thread only for tiny modules).
 */
export function compileOnceSync(key: string, read: () => BufferSource, compile: (bytes: BufferSource) => WebAssembly.Module = (bytes) => new WebAssembly.Module(bytes)): WebAssembly.Module {
  let m = compiled.get(key);
  if (!m) compiled.set(key, (m = compile(read())));
  return m;
}
