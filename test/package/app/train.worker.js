// The book's two-layer net trained on the digits, in a Web Worker, with the package imported
// by name as an app would: `await useBackend('auto')` is the one line that brings WebAssembly.
import { Trainer, TwoLayerNet, decodeDigits, getBackend, splitImageSet, toLabeledData, useBackend } from 'backprop-ts';

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
    const small = { train: toLabeledData({ ...digits.test, count: 100, images: digits.test.images.subarray(0, 78400), labels: digits.test.labels.subarray(0, 100) }), test: toLabeledData(digits.test) };
    new Trainer(new TwoLayerNet(784, 10, 10), small, { iters: 1 });
    const defaultBackend = getBackend().name;

    const backend = await useBackend('auto', { threads: 2, onFallback: (reason) => { throw new Error(reason); } });
    const data = { train: toLabeledData(digits.train), test: toLabeledData(digits.test) };
    const net = new TwoLayerNet(784, 50, 10);
    const trainer = new Trainer(net, data, { iters: ITERATIONS, miniBatchSize: 100, optimizer: 'sgd', optimizerParams: { lr: 0.1 }, evaluateSampleNumPerEpoch: 200 });
    const started = performance.now();
    for (let i = 0; i < ITERATIONS; i++) trainer.trainStep();
    const seconds = (performance.now() - started) / 1000;
    self.postMessage({
      defaultBackend,
      backend: backend.name,
      threads: backend.threads ?? 1,
      singleThreadReason: backend.singleThreadReason ?? null,
      crossOriginIsolated: self.crossOriginIsolated,
      iterations: ITERATIONS,
      seconds,
      itersPerSec: ITERATIONS / seconds,
      accuracy: net.accuracy(data.test.x, data.test.labels),
      notes,
    });
  } catch (e) {
    self.postMessage({ error: String(e?.stack ?? e), notes });
  }
}

main();
