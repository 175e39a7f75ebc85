import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderLayersDot, renderLayersSvg, renderLayersText, twoLayerNetGraph } from '../../src/graph/index.js';
import { checkXml } from './helpers.js';

const net = twoLayerNetGraph({ batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 });

describe('twoLayerNetGraph', () => {
  it('is Affine1 → Relu1 → Affine2 → SoftmaxWithLoss with the book\'s shapes', () => {
    assert.deepEqual(net.layers.map((l) => l.name), ['Affine1', 'Relu1', 'Affine2', 'SoftmaxWithLoss']);
    assert.deepEqual([net.input.shape, ...net.layers.map((l) => l.out.shape)], [[100, 784], [100, 50], [100, 50], [100, 10], []]);
    assert.deepEqual(net.layers[0].params.map((p) => [p.name, p.shape]), [['W1', [784, 50]], ['b1', [50]]]);
    assert.deepEqual(twoLayerNetGraph(), net);
  });

  it('rejects sizes that are not positive integers', () => {
    assert.throws(() => twoLayerNetGraph({ batch: 0, inputSize: 784, hiddenSize: 50, outputSize: 10 }),
      { name: 'GraphError', message: 'twoLayerNetGraph: batch must be a positive integer, got 0' });
    assert.throws(() => twoLayerNetGraph({ batch: 1, inputSize: 784, hiddenSize: 2.5, outputSize: 10 }), /hiddenSize/);
  });

  it('text: forward shapes down the left, dout and parameter gradients up the right', () => {
    assert.equal(renderLayersText(net), [
      'TwoLayerNet: batch 100, input 784, hidden 50, output 10',
      '',
      'forward ↓                            backward ↑',
      'x (100, 784)                         dx (100, 784)',
      '[Affine1]  W1 (784, 50)  b1 (50,)    dW1 (784, 50)  db1 (50,)',
      '  (100, 50)                          dout (100, 50)',
      '[Relu1]',
      '  (100, 50)                          dout (100, 50)',
      '[Affine2]  W2 (50, 10)  b2 (10,)     dW2 (50, 10)  db2 (10,)',
      '  (100, 10)                          dout (100, 10)',
      '[SoftmaxWithLoss]  t (100, 10)',
      'L ()                                 dout 1',
    ].join('\n'));
  });

  it('DOT: the chain forward with shapes, and red dout edges back', () => {
    const dot = renderLayersDot(net);
    assert.match(dot, /^digraph "TwoLayerNet[^"]*" \{\n {2}rankdir=LR;/);
    for (const line of [
      '"x" -> "Affine1" [label="(100, 784)"];',
      '"Affine1" -> "Relu1" [label="(100, 50)"];',
      '"Affine2" -> "SoftmaxWithLoss" [label="(100, 10)"];',
      '"Relu1" -> "Affine1" [label="dout (100, 50)", color="#d62728", fontcolor="#d62728", constraint=false];',
      '"W1" -> "Affine1";',
    ]) assert.ok(dot.includes(line), line);
  });

  it('SVG: well-formed, four boxes, every shape and dout written', () => {
    const svg = renderLayersSvg(net);
    assert.equal(checkXml(svg).filter((n) => n === 'rect').length, 4);
    for (const s of ['Affine1', 'Relu1', 'Affine2', 'SoftmaxWithLoss', '(100, 784)', 'dout (100, 50)', 'dx (100, 784)', 'dW1 (784, 50)', 't (100, 10)']) {
      assert.ok(svg.includes(`>${s}</text>`), s);
    }
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map(([, x, w]) => [Number(x), Number(x) + Number(w)]);
    for (let k = 1; k < rects.length; k++) assert.ok(rects[k][0] > rects[k - 1][1] + 40, 'boxes apart, left to right');
    const width = Number(/ width="([\d.]+)"/.exec(svg)![1]);
    assert.ok(rects[rects.length - 1][1] < width);
  });
});
