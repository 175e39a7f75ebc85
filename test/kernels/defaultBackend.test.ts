/**
 * The default backend: in Node, through the package's Node entry (src/node.ts), the WebAssembly
 * SIMD kernels on first use with no call, and js with one line saying why when they cannot
 * load; the browser-safe core (src/index.ts) alone stays on js. Each case runs in its own
 * process, since the default is made once per process.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runModule as run } from '../helpers.js';

describe('the default backend', () => {
  it("in Node's entry: WebAssembly with 2 threads on first use, with no call; useBackend('js') still picks js", () => {
    const r = run(`
      import { Tensor, getBackend, useBackend } from './src/node.ts';
      const t = Tensor.zeros([2, 3]);
      console.log(t.backend.name, getBackend().name, getBackend().threads);
      await useBackend('js');
      console.log(Tensor.zeros([1]).backend.name);`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'wasm wasm 2\njs\n');
  });

  it('in Node\'s entry, when WebAssembly cannot load: js, and one line saying why', () => {
    const r = run(`
      import { Tensor } from './src/node.ts';
      import { setDefaultBackendFactory } from './src/kernels/registry.ts';
      setDefaultBackendFactory(() => { throw new Error('no SIMD in this engine'); });
      console.log(Tensor.zeros([2]).backend.name, Tensor.zeros([2]).backend.name);`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'js js\n');
    assert.equal(r.stderr, 'backprop-ts: the WebAssembly backend is unavailable (no SIMD in this engine); using the js backend\n');
  });

  it('in the browser-safe core alone: js (a browser awaits useBackend(\'auto\') for WebAssembly)', () => {
    const r = run(`
      import { Tensor } from './src/index.ts';
      console.log(Tensor.zeros([2]).backend.name);`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'js\n');
  });
});
