/**
 * Section 5.4, the simple layers: the apple and apple-orange graphs beside the book's code
 * (ch05/buy_apple.py, buy_apple_orange.py). The line that runs is marked as the graph steps, and
 * each line shows the value it computes.
 */
import { type Node, formatNumber, graphInputs } from '../../src/graph/index.js';
import { byId, h } from '../dom.js';
import { graphPanel, type GraphView } from './graphPanel.js';

/** One line of the book's code, and the graph node whose forward or backward step it is. */
interface CodeLine {
  text: string;
  forward?: string;
  backward?: string;
}

const LAYERS: Record<'apple' | 'apple-orange', { layers: string[]; forward: CodeLine[]; backward: CodeLine[]; print: string[] }> = {
  apple: {
    layers: ['mul_apple_layer = MulLayer()', 'mul_tax_layer = MulLayer()'],
    forward: [
      { text: 'apple_price = mul_apple_layer.forward(apple, apple_num)', forward: 'apple_price' },
      { text: 'price = mul_tax_layer.forward(apple_price, tax)', forward: 'price' },
    ],
    backward: [
      { text: 'dapple_price, dtax = mul_tax_layer.backward(dprice)', backward: 'price' },
      { text: 'dapple, dapple_num = mul_apple_layer.backward(dapple_price)', backward: 'apple_price' },
    ],
    print: ['print(price)', 'print(dapple, dapple_num, dtax)'],
  },
  'apple-orange': {
    layers: ['mul_apple_layer = MulLayer()', 'mul_orange_layer = MulLayer()', 'add_apple_orange_layer = AddLayer()', 'mul_tax_layer = MulLayer()'],
    forward: [
      { text: 'apple_price = mul_apple_layer.forward(apple, apple_num)', forward: 'apple_price' },
      { text: 'orange_price = mul_orange_layer.forward(orange, orange_num)', forward: 'orange_price' },
      { text: 'all_price = add_apple_orange_layer.forward(apple_price, orange_price)', forward: 'all_price' },
      { text: 'price = mul_tax_layer.forward(all_price, tax)', forward: 'price' },
    ],
    backward: [
      { text: 'dall_price, dtax = mul_tax_layer.backward(dprice)', backward: 'price' },
      { text: 'dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)', backward: 'all_price' },
      { text: 'dorange, dorange_num = mul_orange_layer.backward(dorange_price)', backward: 'orange_price' },
      { text: 'dapple, dapple_num = mul_apple_layer.backward(dapple_price)', backward: 'apple_price' },
    ],
    print: ['print(price)', 'print(dapple_num, dapple, dorange, dorange_num, dtax)'],
  },
};

export function setupLayersSection(): void {
  const code = byId('layers-code', HTMLPreElement);
  let preset: 'apple' | 'apple-orange' = 'apple';
  graphPanel(byId('layers-figure', HTMLDivElement), {
    id: 'layers', presets: ['apple', 'apple-orange'], initial: { preset: 'apple' },
    onRender: (view) => {
      preset = view.forwardOrder.some((n) => n.name === 'orange_price') ? 'apple-orange' : 'apple';
      showCode(view);
    },
  });

  function showCode(view: GraphView): void {
    const book = LAYERS[preset];
    const byName = new Map<string, Node>(view.forwardOrder.map((n) => [n.name!, n]));
    const known = new Set(view.forwardOrder.slice(0, view.forwardShown).map((n) => n.name));
    const ran = view.steps.slice(0, view.backwardShown).map((s) => s.node.name);
    const currentForward = view.stepping && !view.backwardShown && view.forwardShown ? view.forwardOrder[view.forwardShown - 1].name : null;
    const currentBackward = view.stepping && view.backwardShown ? view.steps[view.backwardShown - 1].node.name : null;
    const lines: { text: string; note?: string; cls?: string }[] = [];
    for (const n of graphInputs(view.root)) lines.push({ text: `${n.name} = ${formatNumber(n.value)}` });
    lines.push({ text: '' }, { text: '# layer' }, ...book.layers.map((text) => ({ text })), { text: '' }, { text: '# forward' });
    for (const line of book.forward) {
      const node = byName.get(line.forward!)!;
      const done = known.has(line.forward);
      lines.push({ text: line.text, note: done ? formatNumber(node.value) : undefined, cls: line.forward === currentForward ? 'current' : done ? 'done' : '' });
    }
    lines.push({ text: '' }, { text: '# backward' }, { text: `dprice = ${formatNumber(view.root.grad)}` });
    for (const line of book.backward) {
      const step = view.steps.find((s) => s.node.name === line.backward)!;
      const done = ran.includes(line.backward);
      lines.push({ text: line.text, note: done ? step.changes.map((c) => formatNumber(c.delta)).join(', ') : undefined, cls: line.backward === currentBackward ? 'current' : done ? 'done' : '' });
    }
    lines.push({ text: '' }, ...book.print.map((text) => ({ text })));
    code.replaceChildren(...lines.map((l) =>
      h('span', { class: `line ${l.cls ?? ''}`.trim() }, l.text, ...(l.note !== undefined ? [h('span', { class: 'comment' }, `  # ${l.note}`)] : []), '\n')));
  }
}
