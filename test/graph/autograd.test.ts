import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { F, Variable } from '../../src/autograd/index.js';
import {
  autogradGraph, formatTensor, layoutGraph, parseTensorExpression, renderVariableDot, renderVariableSvg, renderVariableText,
  AUTOGRAD_TEXT, renderSvg, appleGraph, backward, SCALAR_TEXT, parseExpression,
} from '../../src/graph/index.js';
import { Tensor } from '../../src/tensor/Tensor.js';
import { checkXml } from './helpers.js';

const f64 = { dtype: 'float64' } as const;

/** Fig. 5-25's Affine: X · W + B with the shapes above each variable; here X (1, 2), W (2, 3), B (3,). */
function affine(): { L: Variable; x: Variable; W: Variable; b: Variable } {
  const x = new Variable([[1, 2]], { ...f64, name: 'X' });
  const W = new Variable([[1, 2, 3], [4, 5, 6]], { ...f64, name: 'W' });
  const b = new Variable([1, 1, 1], { ...f64, name: 'B' });
  const L = F.sum(F.add(F.matmul(x, W), b));
  L.name = 'L';
  L.backward({ retainGrad: true });
  return { L, x, W, b };
}

describe('autograd pictures', () => {
  it('formatTensor: a 0-D tensor by its value, else the shape, with the values of small ones', () => {
    assert.equal(formatTensor(Tensor.from(2.5, [])), '2.5');
    assert.equal(formatTensor(Tensor.from([[1, 2, 3]])), '(1, 3) [[1,2,3]]');
    assert.equal(formatTensor(Tensor.from([0.123456, 2])), '(2,) [0.1235,2]');
    assert.equal(formatTensor(Tensor.zeros([100, 784])), '(100, 784)');
  });

  it('text: each node with its operation, inputs, shape and gradient (X · W + B, computed by hand)', () => {
    const lines = renderVariableText(affine().L).split('\n');
    assert.equal(lines[0], 'L = sum(X dot W + B)');
    // y = [1·1 + 2·4 + 1, 1·2 + 2·5 + 1, 1·3 + 2·6 + 1] = [10, 13, 16]; L = 39
    // ∂L/∂X = 1 · Wᵀ = [1+2+3, 4+5+6]; ∂L/∂W = Xᵀ · 1 = [[1, 1, 1], [2, 2, 2]]; ∂L/∂B = 1
    assert.deepEqual(lines.slice(-4), ['L = 39', '∂L/∂X = (1, 2) [[6,15]]', '∂L/∂W = (2, 3)', '∂L/∂B = (3,) [1,1,1]']);
    const row = lines.find((l) => l.startsWith('t2 '))!.split(/\s{2,}/);
    assert.deepEqual(row, ['t2', '+', 't1, B', '(1, 3) [[10,13,16]]', '(1, 3) [[1,1,1]]']);
  });

  it('DOT: operation circles, leaves as names, every edge with its shape and, in red, its gradient', () => {
    const dot = renderVariableDot(affine().L);
    assert.match(dot, /^digraph "L" \{/);
    assert.ok(dot.includes('label="sum(X dot W + B)"'));
    assert.ok(dot.includes('n0 [label="X", shape=plaintext];'));
    assert.ok(dot.includes('n2 [label="dot"];'));
    assert.ok(dot.includes('n0 -> n2 [label=<(1, 2) [[1,2]]<BR/><FONT COLOR="#d62728">(1, 2) [[6,15]]</FONT>>];'), dot);
    assert.ok(dot.includes('n1 -> n2 [label=<(2, 3)<BR/><FONT COLOR="#d62728">(2, 3)</FONT>>];'));
  });

  it('SVG: well-formed, in the style of the scalar pictures (same layout, arrows, red gradients)', () => {
    const svg = renderVariableSvg(affine().L);
    checkXml(svg);
    for (const text of ['(1, 2) [[1,2]]', '(2, 3)', '(3,) [1,1,1]', '(1, 3) [[10,13,16]]', 'dot', 'Σ', '39']) assert.ok(svg.includes(`>${text}</text>`), text);
    assert.ok(svg.includes('<title>L = sum(X dot W + B)</title>'));
    assert.ok(svg.includes('class="grad"') && svg.includes('marker-end="url(#bp-arrow)"'));
  });

  it('one machinery: the layout of an autograd graph is the scalar layout (columns by depth, leaves before their use)', () => {
    const root = autogradGraph(affine().L);
    const layout = layoutGraph(root, AUTOGRAD_TEXT);
    assert.deepEqual(layout.nodes.map((b) => [b.node.label, b.layer]), [['X', 0], ['W', 0], ['dot', 1], ['B', 1], ['+', 2], ['Σ', 3]]);
    // and the scalar pictures are drawn by the same functions with the scalar text, unchanged
    const price = appleGraph();
    backward(price);
    assert.equal(renderSvg(price, null, SCALAR_TEXT), renderSvg(price));
  });

  it('a tensor expression builds the same graph as the operations written out; a scalar one stays scalar', () => {
    const y = parseTensorExpression('sigmoid(x @ W) * 2 - x ^ 2 @ W', { shapes: { x: [2, 2], W: [2, 2] }, values: { x: [1, 2, 3, 4], W: [0.5] } });
    const x = new Variable([[1, 2], [3, 4]], f64), W = new Variable([[0.5, 0.5], [0.5, 0.5]], f64);
    const z = F.sub(F.mul(F.sigmoid(F.matmul(x, W)), 2), F.matmul(F.pow(x, 2), W));
    assert.deepEqual(y.data.toArray(), z.data.toArray());
    assert.throws(() => parseExpression('x @ y', { x: 1, y: 2 }), /unexpected '@' at column 3/);
  });
});
