import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  GRAD_COLOR, appleGraph, appleOrangeGraph, backward, el, escapeXml, formatNumber, formatShape, input, mul,
  nodeNames, parseExpression, renderDot, renderSvg, renderText, topoSort,
} from '../../src/graph/index.js';
import { APPLE_TEXT, Lcg, checkXml, randomExpression, randomValues } from './helpers.js';

const ran = <T extends ReturnType<typeof appleGraph>>(root: T): T => {
  backward(root);
  return root;
};

describe('formatNumber and formatShape', () => {
  it('print numbers as the book does', () => {
    const cases: [number, string][] = [
      [220.00000000000003, '220'], [3.3000000000000003, '3.3'], [110.00000000000001, '110'], [715.0000000000001, '715'],
      [0.1 + 0.2, '0.3'], [-2.5, '-2.5'], [1 / 3, '0.3333333333'], [1e-7, '1e-7'], [123456789012, '123456789000'],
      [-0, '0'], [NaN, 'NaN'], [Infinity, 'Infinity'],
      // found by the property tests: rounded to 10 digits these overflow, and 'Infinity' would not parse back
      [1.7976931345e308, '1.7976931345e+308'], [-Number.MAX_VALUE, '-1.7976931348623157e+308'], [1.797693134e308, '1.797693134e+308'],
    ];
    for (const [x, s] of cases) assert.equal(formatNumber(x), s, String(x));
  });
  it('print shapes as NumPy does', () => {
    assert.deepEqual([formatShape([100, 784]), formatShape([50]), formatShape([])], ['(100, 784)', '(50,)', '()']);
  });
});

describe('renderText', () => {
  it('the apple graph, exactly', () => {
    assert.equal(renderText(ran(appleGraph())), APPLE_TEXT.join('\n'));
  });

  it('the apple-orange graph lists every node and the book\'s gradients', () => {
    const text = renderText(ran(appleOrangeGraph()));
    assert.match(text, /^price = \(apple × apple_num \+ orange × orange_num\) × tax\n/);
    assert.ok(text.includes('\nall_price     +      apple_price, orange_price    650   1.1\n'));
    assert.ok(text.endsWith(['price = 715', '∂price/∂apple      = 2.2', '∂price/∂apple_num  = 110', '∂price/∂orange     = 3.3',
      '∂price/∂orange_num = 165', '∂price/∂tax        = 650'].join('\n')));
  });

  it('unnamed nodes get t1, t2, … and the root is out', () => {
    const x = input('x', 3);
    const root = mul(mul(x, x), 2);
    assert.deepEqual([...nodeNames(root).values()], ['x', 't1', '2', 'out']);
    assert.match(renderText(ran(root)), /\n∂out\/∂x = 12$/);
  });
});

describe('renderDot', () => {
  it('a left-to-right digraph with every edge labelled by value and gradient', () => {
    const price = ran(appleOrangeGraph());
    const dot = renderDot(price);
    assert.match(dot, /^digraph "price" \{\n {2}rankdir=LR;/);
    assert.ok(dot.endsWith('\n}'));
    const ids = new Map(topoSort(price).map((n, k) => [n, `n${k}`]));
    for (const n of topoSort(price)) for (const i of n.inputs) assert.ok(dot.includes(`  ${ids.get(i)} -> ${ids.get(n)} [label=`), `${i.label} -> ${n.label}`);
    assert.ok(dot.includes(`n0 -> n2 [label=<100<BR/><FONT COLOR="${GRAD_COLOR}">2.2</FONT>>];`));
    assert.ok(dot.includes(`n7 -> n8 [label=<1.1<BR/><FONT COLOR="${GRAD_COLOR}">650</FONT>>];`));
    assert.ok(dot.includes(`n8 -> out [label=<715<BR/><FONT COLOR="${GRAD_COLOR}">1</FONT>>];`));
    assert.equal(dot.match(/->/g)!.length, 9);
    assert.ok(dot.includes('n6 [label="+"];') && dot.includes('n0 [label="apple", shape=plaintext];'));
  });

  it('quotes names safely', () => {
    const root = mul(input('x', 1), 2).named('say "hi" \\o/');
    assert.ok(renderDot(ran(root)).startsWith('digraph "say \\"hi\\" \\\\o/" {'));
  });
});

/** The texts of every <text> element with its attributes, in document order. */
const texts = (svg: string): { attrs: string; text: string }[] =>
  [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map(([, attrs, text]) => ({ attrs, text }));
const attr = (attrs: string, name: string): number => Number(new RegExp(` ${name}="([^"]*)"`).exec(attrs)![1]);

describe('renderSvg', () => {
  it('is well-formed XML with an svg root, circles for operations and a title', () => {
    const svg = renderSvg(ran(appleOrangeGraph()));
    const names = checkXml(svg);
    assert.equal(names[0], 'svg');
    assert.equal(names.filter((n) => n === 'circle').length, 4);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="[\d.]+" height="[\d.]+" viewBox="0 0 [\d.]+ [\d.]+"/);
    assert.ok(svg.includes('<title>price = (apple × apple_num + orange × orange_num) × tax</title>'));
  });

  it('writes forward values above the edges in black and gradients below in red', () => {
    const svg = renderSvg(ran(appleGraph()));
    const edges = [...svg.matchAll(/<g class="edge[^"]*"[^>]*>(.*?)<\/g>/g)].map(([, inner]) => texts(inner));
    assert.deepEqual(edges.map(([v, g]) => [v.text, g.text]), [['100', '2.2'], ['2', '110'], ['200', '1.1'], ['1.1', '200'], ['220', '1']]);
    for (const [value, grad] of edges) {
      assert.ok(attr(value.attrs, 'y') < attr(grad.attrs, 'y'), 'value above gradient');
      assert.ok(!value.attrs.includes(' fill=') && grad.attrs.includes(`fill="${GRAD_COLOR}"`));
    }
    const labels = texts(svg).map((t) => t.text);
    for (const s of ['apple', 'apple_num', 'tax', '×', 'price']) assert.ok(labels.includes(s), s);
  });

  it('escapes every text', () => {
    const root = mul(input('x', 1), 2).named('a<b & "c"');
    const svg = renderSvg(ran(root));
    checkXml(svg);
    assert.ok(svg.includes('a&lt;b &amp; &quot;c&quot;'));
    assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
    assert.equal(el('t', { a: '"', b: 1.234, c: undefined }, '<', el('u', {})).xml, '<t a="&quot;" b="1.2">&lt;<u/></t>');
  });

  it('random graphs render well-formed, with every value present', () => {
    const rng = new Lcg(3);
    for (let k = 0; k < 30; k++) {
      const root = ran(parseExpression(randomExpression(rng, 6), randomValues(rng)));
      const svg = renderSvg(root);
      checkXml(svg);
      const labels = new Set(texts(svg).map((t) => t.text));
      for (const n of topoSort(root)) assert.ok(labels.has(formatNumber(n.value)), `value of ${n.label}`);
    }
  });
});
