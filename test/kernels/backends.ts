/**
 * The backends every kernel test runs against. A backend that cannot load on this machine
 * is reported, not silently dropped.
 */
import type { Backend } from '../../src/kernels/Backend.js';
import { JsBackend } from '../../src/kernels/reference/JsBackend.js';

export async function allBackends(): Promise<Backend[]> {
  const list: Backend[] = [new JsBackend()];
  try {
    const wasm = await import('../../src/kernels/wasm/index.js' as string);
    for (const b of await wasm.createTestBackends()) list.push(b as Backend);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
  return list;
}
