import type { Backend } from './Backend.js';
import { JsBackend } from './reference/JsBackend.js';

const backends = new Map<string, Backend>([['js', new JsBackend()]]);
/** The default backend; null until first use (then made by `defaultFactory`, or js). */
let current: Backend | null = null;
/** Set by setBackend/useBackend: the caller chose the kernels. */
let chosen = false;
/** How the default is made on first use: the package's Node entry sets the WebAssembly backend. */
let defaultFactory: (() => Backend) | null = null;
let slowNoted = false;

/** Make a backend available by name (the WebAssembly backend registers itself when it loads). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/**
 * The backend new tensors are created on (`getBackend().name` says which kernels run: 'wasm' or
 * 'js'), or the registered backend `name`. The default is made on first use: in Node (the
 * package's Node entry) the WebAssembly SIMD backend, falling back to js with one line saying
 * why; in browsers js until `await useBackend('auto')`.
 */
export function getBackend(name?: string): Backend {
  if (name === undefined) return current ?? (current = makeDefault());
  const b = backends.get(name);
  if (!b) throw new Error(`unknown backend '${name}' (available: ${[...backends.keys()].join(', ')})`);
  return b;
}

/** Choose the default backend for new tensors. */
export function setBackend(name: string): Backend {
  current = getBackend(name);
  chosen = true;
  return current;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/**
 * How the default backend is made when nothing chose one before the first tensor (the package's
 * Node entry sets the WebAssembly backend, created synchronously). If it throws, the default is
 * js and one line on the console says why. @internal
 */
export function setDefaultBackendFactory(factory: (() => Backend) | null): void {
  defaultFactory = factory;
}

function makeDefault(): Backend {
  if (defaultFactory) {
    try {
      const backend = defaultFactory();
      registerBackend(backend);
      return backend;
    } catch (e) {
      console.warn(`backprop-ts: the WebAssembly backend is unavailable (${(e as Error).message}); using the js backend`);
    }
  }
  return backends.get('js')!;
}

/**
 * Says once, in a browser, that training runs on the plain TypeScript kernels because nothing
 * chose a backend (`await useBackend('auto')` loads WebAssembly SIMD, ~15× faster). Called by
 * train() and Trainer. @internal
 */
export function noteSlowPath(backend: Backend): void {
  if (slowNoted || chosen || backend.name !== 'js') return;
  if ((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node) return; // Node: the Node entry's default is wasm
  slowNoted = true;
  console.info("backprop-ts: training on the js backend (plain TypeScript kernels, about 15× slower); call `await useBackend('auto')` first for WebAssembly SIMD");
}
