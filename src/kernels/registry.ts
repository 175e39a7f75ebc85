import type { Backend } from './Backend.js';
import { JsBackend } from './reference/JsBackend.js';

const backends = new Map<string, Backend>([['js', new JsBackend()]]);
let current: Backend = backends.get('js')!;

/** Make a backend available by name (the WebAssembly backend registers itself when it loads). */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** The backend new tensors are created on. */
export function getBackend(name?: string): Backend {
  if (name === undefined) return current;
  const b = backends.get(name);
  if (!b) throw new Error(`unknown backend '${name}' (available: ${[...backends.keys()].join(', ')})`);
  return b;
}

/** Choose the default backend for new tensors. */
export function setBackend(name: string): Backend {
  current = getBackend(name);
  return current;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}
