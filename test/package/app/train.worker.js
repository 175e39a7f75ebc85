// The book's two-layer net trained on the digits, in a Web Worker, with the package imported
// by name as an app would: `await useBackend('auto')` is the one line that brings WebAssembly.
import { Trainer, TwoLayerNet, decodeDigits, getBackend, splitImageSet, toLabeledData, useBackend } from 'backprop-ts';
import { trainTwoLayer } from './trainTwoLayer.js';

const ITERATIONS = 300;
const notes = [];
const info = console.info.bind(console);
console.info = (...args) => { notes.push(args.join(' ')); info(...args); };

async function main() {
  try {
    const response = await fetch(new URL('digits.bin', self.location.origin + '/'));
    if (!response.ok) throw new Error(`digits.bin: HTTP ${response.status}`);
    const digits = splitImageSet(decodeDigits(new Uint8Array(await response.arrayBuffer()), 'digits.bin'), 8000, 0);

    // Before choosing a backend: the default is js, and training on it says so once.
    const few = { ...digits.test, count: 100, images: digits.test.images.subarray(0, 100 * 784), labels: digits.test.labels.subarray(0, 100) };
    new Trainer(new TwoLayerNet(784, 10, 10), { train: toLabeledData(few), test: toLabeledData(few) }, { iters: 1 });
    const defaultBackend = getBackend().name;

    await useBackend('auto', { threads: 2, onFallback: (reason) => { throw new Error(reason); } });
    const result = trainTwoLayer(digits, ITERATIONS);
    self.postMessage({ defaultBackend, crossOriginIsolated: self.crossOriginIsolated, notes, ...result });
  } catch (e) {
    self.postMessage({ error: String(e?.stack ?? e), notes });
  }
}

main();
