import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type GraphLayout, type Node, appleGraph, appleOrangeGraph, backward, layoutGraph, parseExpression, textWidth } from '../../src/graph/index.js';
import { Lcg, randomExpression, randomValues } from './helpers.js';

/** Circles pairwise apart, leaves (labels) a row apart in their column, everything inside the canvas. */
function assertTidy(layout: GraphLayout, what: string): void {
  const { nodes, width, height } = layout;
  for (const [i, a] of nodes.entries()) {
    assert.ok(a.x - a.r >= 0 && a.x + a.r <= width && a.y - a.r >= 0 && a.y + a.r <= height, `${what}: ${a.node.label} outside the canvas`);
    if (!a.node.inputs.length) assert.ok(a.x - 4 - textWidth(a.node.label) >= 0, `${what}: label ${a.node.label} cut off`);
    for (const b of nodes.slice(i + 1)) {
      const gap = Math.hypot(a.x - b.x, a.y - b.y) - a.r - b.r;
      assert.ok(gap >= 20, `${what}: ${a.node.label} and ${b.node.label} overlap (gap ${gap.toFixed(1)})`);
    }
  }
  assert.ok(layout.output.x2 <= width && layout.output.y <= height, `${what}: output arrow outside`);
}

/** Longest path from the leaves, computed independently. */
const depth = (n: Node): number => (n.inputs.length ? 1 + Math.max(...n.inputs.map(depth)) : 0);

describe('layoutGraph', () => {
  it('apple: columns by depth, tax beside the last ×, like the book', () => {
    const layout = layoutGraph(appleGraph());
    assert.deepEqual(layout.nodes.map((b) => [b.node.label, b.layer]), [['apple', 0], ['apple_num', 0], ['×', 1], ['tax', 1], ['×', 2]]);
    assertTidy(layout, 'apple');
  });

  it('apple-orange: no overlaps, each product between its two inputs', () => {
    const price = appleOrangeGraph();
    backward(price);
    const layout = layoutGraph(price);
    assertTidy(layout, 'apple-orange');
    const at = new Map(layout.nodes.map((b) => [b.node, b]));
    for (const b of layout.nodes) {
      if (b.node.op !== 'mul') continue;
      const [p, q] = b.node.inputs.map((i) => at.get(i)!.y).sort((u, v) => u - v);
      assert.ok(p <= b.y && b.y <= q, `${b.node.name} between its inputs`);
    }
    assert.ok(at.get(price)!.x > Math.max(...layout.nodes.filter((b) => b.node !== price).map((b) => b.x)), 'root rightmost');
  });

  it('random bigger graphs: layer = longest path, leaves just before their first use, nothing overlaps', () => {
    const rng = new Lcg(11);
    for (let k = 0; k < 40; k++) {
      const source = randomExpression(rng, 7);
      const root = parseExpression(source, randomValues(rng));
      backward(root);
      const layout = layoutGraph(root);
      assertTidy(layout, source);
      const layer = new Map(layout.nodes.map((b) => [b.node, b.layer]));
      for (const b of layout.nodes) {
        if (b.node.inputs.length) {
          assert.equal(b.layer, depth(b.node), `${source}: layer of ${b.node.label}`);
          for (const i of b.node.inputs) assert.ok(layer.get(i)! < b.layer, `${source}: edges go right`);
        } else if (b.node !== root) {
          const uses = layout.nodes.filter((c) => c.node.inputs.includes(b.node)).map((c) => c.layer);
          assert.equal(b.layer, Math.min(...uses) - 1, `${source}: leaf ${b.node.label}`);
        }
      }
    }
  });

  it('a lone input is a one-node picture', () => {
    const layout = layoutGraph(parseExpression('x', { x: 1 }));
    assert.equal(layout.nodes.length, 1);
    assertTidy(layout, 'x');
  });
});
