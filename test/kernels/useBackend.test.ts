import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/kernels/nodeBackends.js'; // Node's WebAssembly backend for useBackend, as the package's Node entry sets it
import { useBackend } from '../../src/kernels/useBackend.js';
import { getBackend, setBackend } from '../../src/kernels/registry.js';
import { Tensor } from '../../src/tensor/Tensor.js';

describe('useBackend', () => {
  it("'auto' falls back to js with one line saying why when WebAssembly cannot load", async () => {
    const said: string[] = [];
    const b = await useBackend('auto', {
      createWasm: async () => {
        throw new Error('WebAssembly SIMD is not supported by this engine');
      },
      onFallback: (r) => said.push(r),
    });
    assert.equal(b.name, 'js');
    assert.equal(getBackend(), b);
    assert.deepEqual(said, ['the WebAssembly backend is unavailable (WebAssembly SIMD is not supported by this engine); using the js backend']);
  });

  it("'wasm' fails with the reason instead of falling back", async () => {
    await assert.rejects(useBackend('wasm', { createWasm: async () => { throw new Error('kernels.wasm is missing; run `npm run build:wasm`'); } }), /kernels\.wasm is missing/);
  });

  it("'auto' loads the real WebAssembly backend here and makes it the default for new tensors", async () => {
    const b = await useBackend('auto', { onFallback: (r) => assert.fail(r) });
    assert.equal(b.name, 'wasm');
    assert.equal(Tensor.zeros([2, 2]).backend, b);
    setBackend('js');
    assert.equal(Tensor.zeros([2, 2]).backend.name, 'js');
  });
});
