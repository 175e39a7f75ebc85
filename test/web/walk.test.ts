/**
 * The guided walk through chapter 5 in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): every section renders without errors, its numbers are right (each
 * expectation computed here from the matrices read off the page, by the book's formulas), both
 * languages cover every visible text, the state lives in the address, and it works at phone
 * width and with the keyboard alone. A screenshot of every section in both languages goes to
 * test-output/screenshots/walk-<lang>-<section>.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { playgroundInChromium } from './helpers.js';
import { openPage, textOf } from './page.js';

const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const SECTIONS = ['graph', 'chain', 'nodes', 'layers', 'relu', 'sigmoid', 'affine', 'batch', 'softmax', 'net', 'gradcheck', 'train', 'draw'];

/**
 * Latin words allowed in the Chinese page outside code: names (of layers, formats, software,
 * languages in the switch) and the English terms the Chinese edition of the book itself keeps
 * (epoch, mini-batch, one-hot). Everything else in Latin letters must be inside <code>, <pre>
 * or an element marked translate="no" (graphs, matrices, variable names).
 */
const NAMES = [
  'Softmax-with-Loss', 'SoftmaxWithLoss', 'TwoLayerNet', 'WebAssembly', 'JavaScript', 'Web Worker', 'SIMD', 'MNIST', 'Python',
  'Affine', 'ReLU', 'Sigmoid', 'Softmax', 'backprop', 'float64', 'PyTorch', 'mini-batch', 'one-hot', 'epoch', 'English',
];

type Rows = number[][];
const matmul = (a: Rows, b: Rows): Rows => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const transpose = (m: Rows): Rows => m[0].map((_, j) => m.map((r) => r[j]));

/** A matrix's cells as shown: inputs' values, or the full values behind the shown ones. */
async function matrix(page: Page, name: string): Promise<Rows> {
  return page.locator(`[data-name="${name}"] table.matrix tr`).evaluateAll((rows) => rows.map((r) =>
    Array.from(r.querySelectorAll('td'), (td) => {
      const input = td.querySelector('input');
      return Number(input ? input.value : td.getAttribute('data-value'));
    })));
}

/** The numbers a matrix shows on screen (its visible text, 6 significant digits). */
async function shownMatrix(page: Page, name: string): Promise<Rows> {
  return page.locator(`[data-name="${name}"] table.matrix tr`).evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => Number(td.textContent))));
}

function assertClose(actual: Rows, expected: Rows, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: rows`);
  actual.forEach((row, i) => row.forEach((v, j) => {
    const e = expected[i][j];
    assert.ok(Math.abs(v - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}][${j}] = ${v}, expected ${e}`);
  }));
}

/**
 * Every text a reader sees or hears: visible text outside code, and labels, titles and the
 * options of visible selects. (A string, so that tsx's helpers do not leak into the page.)
 */
const VISIBLE_TEXTS = `(() => {
  const out = [document.title];
  const isCode = (el) => !!(el && el.closest('code, pre, [translate="no"], script, style'));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.trim();
    if (!text || isCode(el) || el.closest('option')) continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], select')) {
    if (isCode(el) || !el.checkVisibility()) continue;
    for (const attr of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(attr)) out.push(el.getAttribute(attr));
    if (el instanceof HTMLSelectElement) for (const o of el.options) if (!o.lang || o.lang.startsWith(document.documentElement.lang.slice(0, 2))) out.push(o.text);
  }
  return out;
})()`;
const visibleTexts = (page: Page): Promise<string[]> => page.evaluate(VISIBLE_TEXTS) as Promise<string[]>;

/** The Latin words of texts that are neither code nor allowed names. */
function englishWords(texts: string[]): string[] {
  const words = new Set<string>();
  for (let text of texts) {
    for (const name of NAMES) text = text.split(name).join(' ');
    for (const w of text.match(/[A-Za-z]{2,}/g) ?? []) words.add(w);
  }
  return [...words];
}

/** The page's address now (page.url() learns of history.replaceState only a little later). */
const address = (page: Page): Promise<string> => page.evaluate('location.href') as Promise<string>;

const go = async (page: Page, section: string): Promise<void> => {
  await page.click(`#toc a[data-s="${section}"]`);
  await page.waitForSelector(`#${section}:not([hidden])`);
};

test('the guided walk through chapter 5 in Chromium', { timeout: 300_000 }, async (t) => {
  const playground = await playgroundInChromium(t, 'walk');
  if (!playground) return;
  const { browser, url } = playground;
  mkdirSync(SHOTS, { recursive: true });
  const problems: string[] = [];
  try {
    const page = await openPage(browser, `${url}?lang=en`, problems);

    await t.test('every section renders, alone on screen, in the chapter’s order; a screenshot of each in English', async () => {
      assert.deepEqual(await page.locator('#toc a').evaluateAll((as) => as.map((a) => a.getAttribute('data-s'))), SECTIONS);
      for (const s of SECTIONS) {
        await go(page, s);
        assert.deepEqual(await page.locator('main > section:not([hidden])').evaluateAll((els) => els.map((e) => e.id)), [s]);
        assert.match(new URL(await address(page)).search, new RegExp(`[?&]s=${s}(&|$)`));
        assert.ok((await textOf(page, `#${s} h2`)).length > 3, `${s} has a heading`);
        await page.locator(`#${s}`).screenshot({ path: join(SHOTS, `walk-en-${s}.png`) });
      }
      assert.deepEqual(problems, []);
    });

    await t.test('browser back and forward move between sections', async () => {
      await go(page, 'relu');
      await go(page, 'sigmoid');
      await page.goBack();
      await page.waitForSelector('#relu:not([hidden])');
      assert.equal(new URL(await address(page)).searchParams.get('s'), 'relu');
      await page.goBack();
      await page.waitForSelector('#draw:not([hidden])');
      await page.goForward();
      await page.waitForSelector('#relu:not([hidden])');
      await page.goForward();
      await page.waitForSelector('#sigmoid:not([hidden])');
    });

    await t.test('5.5.2 Sigmoid at x = 1, stepped backward node by node: dx = y(1 − y) = 0.19661193…', async () => {
      await go(page, 'sigmoid');
      await page.click('#sigmoid-reset');
      for (let k = 0; k < 4; k++) await page.click('#sigmoid-forward');
      assert.match(await textOf(page, '#sigmoid-step-status'), /^Forward step 4 of 4: the 1\/x node computes y = 0\.7310585786\. /);
      for (let k = 1; k <= 4; k++) {
        await page.click('#sigmoid-step');
        assert.equal(await page.locator('#sigmoid-derivation tbody tr').count(), k);
      }
      const y = 1 / (1 + Math.exp(-1));
      const expected = y * (1 - y); // 0.19661193324148185
      assert.equal(expected.toFixed(8), '0.19661193');
      for (const k of ['graph', 'formula', 'layer']) {
        const shown = await textOf(page, `#sigmoid-result [data-k="${k}"]`);
        assert.equal(shown, '0.1966119332', k);
        assert.ok(Math.abs(Number(shown) - expected) < 1e-10);
      }
      // the four rows of fig. 5-20: −y², unchanged by +, times exp(−x), times −1
      const rows = (await page.locator('#sigmoid-derivation tbody td.grad').allTextContents()).map(Number);
      const e = Math.exp(-1);
      assertClose([rows], [[-y * y, -y * y, -y * y * e, y * y * e]], 1e-9, 'fig. 5-20');
      await page.fill('#sigmoid-upstream', '2');
      assert.ok(Math.abs(Number(await textOf(page, '#sigmoid-result [data-k="layer"]')) - 2 * expected) < 1e-9);
      await page.fill('#sigmoid-upstream', '1');
    });

    await t.test('5.6.1 Affine: dX = dY·Wᵀ and dW = Xᵀ·dY of the matrices shown, with their shapes', async () => {
      await go(page, 'affine');
      await page.fill('#affine-W-1-2', '-0.8');
      await page.press('#affine-W-1-2', 'Tab'); // a cell is taken when it loses focus
      const X = await matrix(page, 'affine-X'), W = await matrix(page, 'affine-W'), dY = await matrix(page, 'affine-dY');
      assert.equal(W[1][2], -0.8);
      assertClose(await matrix(page, 'affine-dX'), matmul(dY, transpose(W)), 1e-12, 'dX');
      assertClose(await shownMatrix(page, 'affine-dX'), matmul(dY, transpose(W)), 1e-5, 'dX as shown');
      assertClose(await matrix(page, 'affine-dW'), matmul(transpose(X), dY), 1e-12, 'dW');
      const B = (await matrix(page, 'affine-B'))[0];
      assertClose(await matrix(page, 'affine-Y'), matmul(X, W).map((r) => r.map((v, j) => v + B[j])), 1e-12, 'Y');
      assert.equal(await textOf(page, '[data-product="affine-dX"] .shape-line'), '∂L/∂X (1, 2) = ∂L/∂Y (1, 3) · Wᵀ (3, 2)');
      assert.equal(await textOf(page, '[data-product="affine-dW"] .shape-line'), '∂L/∂W (2, 3) = Xᵀ (2, 1) · ∂L/∂Y (1, 3)');
      const edges = await page.locator('#affine-view .edge .value').allTextContents();
      assert.deepEqual(edges, ['X (1, 2)', 'W (2, 3)', 'X·W (1, 3)', 'B (3,)', 'Y (1, 3)']);
      // the small tensors' values on the edges too: X above its arrow, ∂L/∂X below it
      const values = await page.locator('#affine-view .edge-values').allTextContents();
      const short = (m: Rows): string => `[${m.flat().map((v) => Number(v.toPrecision(4))).join(', ')}]`;
      assert.ok(values.includes(short(X)) && values.includes(short(matmul(dY, transpose(W)))), values.join(' | '));
    });

    await t.test('5.6.2 batch Affine: N = 4, db is the sum of dY’s rows, dX and dW as products', async () => {
      await go(page, 'batch');
      await page.fill('#batch-n', '4');
      const X = await matrix(page, 'batch-X'), W = await matrix(page, 'batch-W'), dY = await matrix(page, 'batch-dY');
      assert.equal(X.length, 4);
      assert.equal(dY.length, 4);
      const sums = [dY[0].map((_, j) => dY.reduce((s, r) => s + r[j], 0))];
      assertClose(await matrix(page, 'batch-dB'), sums, 1e-12, 'dB');
      assertClose(await matrix(page, 'batch-dX'), matmul(dY, transpose(W)), 1e-12, 'dX');
      assertClose(await matrix(page, 'batch-dW'), matmul(transpose(X), dY), 1e-12, 'dW');
      assert.equal(await textOf(page, '[data-product="batch-dW"] .shape-line'), '∂L/∂W (2, 3) = Xᵀ (2, 4) · ∂L/∂Y (4, 3)');
      assert.equal(new URL(await address(page)).searchParams.get('batch.N'), '4');
    });

    await t.test('5.6.3 Softmax-with-Loss: backward is (y − t)/N, and y − t with the toggle off; the graph agrees', async () => {
      await go(page, 'softmax');
      await page.fill('#softmax-n', '3');
      await page.selectOption('#softmax-t-1', '2');
      const a = await matrix(page, 'softmax-a');
      const labels = await Promise.all([0, 1, 2].map(async (i) => Number(await page.inputValue(`#softmax-t-${i}`))));
      assert.deepEqual(labels, [2, 2, 1]);
      const y = a.map((r) => { const m = Math.max(...r), e = r.map((v) => Math.exp(v - m)), s = e.reduce((p, q) => p + q, 0); return e.map((v) => v / s); });
      const yMinusT = y.map((r, i) => r.map((v, k) => v - (k === labels[i] ? 1 : 0)));
      assertClose(await matrix(page, 'softmax-y'), y, 1e-12, 'y');
      assertClose(await matrix(page, 'softmax-dx'), yMinusT.map((r) => r.map((v) => v / 3)), 1e-12, '(y − t)/N');
      assertClose(await shownMatrix(page, 'softmax-dx'), yMinusT.map((r) => r.map((v) => v / 3)), 1e-5, '(y − t)/N as shown');
      const graphGrads = async (): Promise<number[]> => (await page.locator('#softmax-graph-table td.grad').allTextContents()).map(Number);
      assertClose([await graphGrads()], [yMinusT[0].map((v) => v / 3)], 1e-9, 'graph, divided');

      await page.uncheck('#softmax-divide');
      assertClose(await matrix(page, 'softmax-dx'), yMinusT, 1e-12, 'y − t');
      assertClose([await graphGrads()], [yMinusT[0]], 1e-9, 'graph, not divided');
      assert.equal(new URL(await address(page)).searchParams.get('softmax.divide'), '0');

      // stepped backward: nothing at the scores until the last rules have run
      await page.click('#softmax-reset');
      await page.click('#softmax-step');
      assert.equal(await page.locator('#softmax-graph-table').count(), 0);
      const steps = Number(/of (\d+)/.exec(await textOf(page, '#softmax-step-status'))![1]);
      for (let k = 1; k < steps; k++) await page.click('#softmax-step');
      assert.match(await textOf(page, '#softmax-step-status'), /Every gradient is final\.$/);
      assertClose([await graphGrads()], [yMinusT[0]], 1e-9, 'graph after stepping');
      await page.check('#softmax-divide');
    });

    await t.test('5.5.1 ReLU: dx = dout where x > 0; the book’s in-place backward changes the caller’s dout', async () => {
      await go(page, 'relu');
      const x = await matrix(page, 'relu-x'), dout = await matrix(page, 'relu-dout');
      assertClose(await matrix(page, 'relu-dx'), dout.map((r, i) => r.map((v, j) => (x[i][j] > 0 ? v : 0))), 0, 'dx');
      assertClose(await matrix(page, 'relu-out'), x.map((r) => r.map((v) => Math.max(0, v))), 0, 'out');
      assert.deepEqual(await page.locator('[data-name="relu-mask"] td').allTextContents(), x.flat().map((v) => (v <= 0 ? 'True' : 'False')));
      assertClose(await matrix(page, 'relu-our-dout'), dout, 0, 'the library leaves dout alone');
      const changed = x.flat().filter((v, k) => v <= 0 && dout.flat()[k] !== 0).length;
      assert.equal(await page.locator('[data-name="relu-book-dout"] td.changed').count(), changed);
      assert.ok(changed > 0);
    });

    await t.test('5.2 chain rule: ∂z/∂x = ∂z/∂t · ∂t/∂x written out, equal to backprop', async () => {
      await go(page, 'chain');
      assert.equal(await textOf(page, '#chain-paths li[data-var="x"]'), '∂z/∂x = ∂z/∂t · ∂t/∂x = 6 × 1 = 6');
      await page.fill('#chain-expr', 'x * x + y');
      assert.equal(await textOf(page, '#chain-paths li[data-var="x"]'), '∂out/∂x = ∂out/∂t1 · ∂t1/∂x + ∂out/∂t1 · ∂t1/∂x = (1 × 1) + (1 × 1) = 2');
      assert.equal(await textOf(page, '#chain-grads tr[data-var="x"] td.grad'), '2');
    });

    await t.test('5.3 add and multiply nodes: add passes dout on, multiply passes dout times the other input', async () => {
      await go(page, 'nodes');
      await page.fill('#add-upstream', '3');
      await page.fill('#mul-upstream', '3');
      const g = async (id: string, name: string): Promise<string> => textOf(page, `#${id}-grads tr[data-var="${name}"] td.grad`);
      assert.deepEqual([await g('add', 'x'), await g('add', 'y')], ['3', '3']);
      assert.deepEqual([await g('mul', 'x'), await g('mul', 'y')], ['9', '6']); // x = 2, y = 3: dout·y, dout·x
      await page.click('#mul-reset');
      await page.click('#mul-step');
      assert.match(await textOf(page, '#mul-step-status'), /^Backward step 1 of 1: the × node \(z\) got 3 from above and passed 9 to x, 6 to y\. /);
    });

    await t.test('5.4 the book’s code beside the graph: the running line is marked, with its value', async () => {
      await go(page, 'layers');
      await page.selectOption('#layers-preset', 'apple-orange');
      await page.click('#layers-reset');
      await page.click('#layers-forward');
      assert.equal(await textOf(page, '#layers-code .line.current'), 'apple_price = mul_apple_layer.forward(apple, apple_num)  # 200\n');
      for (let k = 0; k < 3; k++) await page.click('#layers-forward');
      await page.click('#layers-step');
      await page.click('#layers-step');
      assert.equal(await textOf(page, '#layers-code .line.current'), 'dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)  # 1.1, 1.1\n');
      assert.match(await textOf(page, '#layers-code'), /price = mul_tax_layer\.forward\(all_price, tax\) {2}# 715\n/);
    });

    await t.test('5.7.1 the two-layer net: stepped layer by layer with the shapes of N and the hidden size', async () => {
      await go(page, 'net');
      await page.fill('#net-batch', '32');
      await page.fill('#net-hidden', '20');
      await page.click('#net-reset');
      await page.click('#net-forward');
      assert.equal(await textOf(page, '#net-status'), 'Affine1: x (32, 784) · W1 (784, 20) + b1 gives (32, 20).');
      // autograd's graph: the first Affine node is current, nothing after it has a value yet, no gradient anywhere
      assert.equal(await page.locator('#net-view .node.current').count(), 1);
      assert.equal(await textOf(page, '#net-view .node.current'), 'Affine');
      assert.ok((await page.locator('#net-view .edge .value').allTextContents()).includes('?'));
      assert.deepEqual([...new Set(await page.locator('#net-view .edge .grad').allTextContents())], ['?']);
      for (let k = 0; k < 4; k++) await page.click('#net-step');
      assert.match(await textOf(page, '#net-status'), /^Affine1: from dout \(32, 20\) it stores dW1 \(784, 20\)/);
      // every edge carries its tensor's shape forward and its gradient's shape backward, as autograd computed them
      const values = await page.locator('#net-view .edge .value').allTextContents();
      const grads = await page.locator('#net-view .edge .grad').allTextContents();
      for (const shape of ['(32, 784)', '(784, 20)', '(20,)', '(32, 20)', '(20, 10)', '(32, 10)']) {
        assert.ok(values.includes(shape), `value ${shape} in ${values.join(' | ')}`);
      }
      for (const shape of ['(784, 20)', '(20,)', '(20, 10)', '(10,)', '(32, 10)']) assert.ok(grads.includes(shape), `gradient ${shape} in ${grads.join(' | ')}`);
    });

    await t.test('5.7.3 gradient check: backprop and numerical agree at h = 1e-4; a large h steps over ReLU’s kinks', async () => {
      await go(page, 'gradcheck');
      const maxDiffs = async (): Promise<number[]> => (await page.locator('#gradcheck-summary td.max').allTextContents()).map(Number);
      assert.ok((await maxDiffs()).every((d) => d < 1e-6), (await maxDiffs()).join(', '));
      assert.equal(await page.locator('#gradcheck-out td.kink').count(), 0);
      for (const k of ['W1', 'b1', 'W2', 'b2']) {
        const a = await matrix(page, `gradcheck-${k}-backprop`), b = await matrix(page, `gradcheck-${k}-numerical`);
        assertClose(await matrix(page, `gradcheck-${k}-diff`), a.map((r, i) => r.map((v, j) => Math.abs(v - b[i][j]))), 1e-9, `|Δ${k}|`);
      }
      await page.selectOption('#gradcheck-h', '1e-1');
      assert.ok(await page.locator('[data-name="gradcheck-W1-diff"] td.kink').count() > 0, 'some nudge crosses a kink');
      // the largest W1 difference sits on a marked element
      const diff = (await matrix(page, 'gradcheck-W1-diff')).flat();
      const marks = await page.locator('[data-name="gradcheck-W1-diff"] td').evaluateAll((tds) => tds.map((td) => td.classList.contains('kink')));
      assert.ok(marks[diff.indexOf(Math.max(...diff))], 'the largest difference is at a kink');
      await page.selectOption('#gradcheck-h', '1e-4');
    });

    await t.test('the state is in the address: a reload shows the same section, inputs and steps', async () => {
      await go(page, 'affine');
      await page.click('#affine-reset');
      await page.click('#affine-forward');
      const url = await address(page);
      assert.match(url, /affine\.W=0\.1,0\.3,0\.5;0\.2,0\.4,-0\.8/);
      assert.match(url, /affine\.step=1/);
      const again = await openPage(browser, url, problems);
      await again.waitForSelector('#affine:not([hidden])');
      assert.equal((await matrix(again, 'affine-W'))[1][2], -0.8);
      assert.match(await textOf(again, '#affine-status'), /^The dot node/);
      assert.equal(await again.locator('[data-name="affine-dX"]').count(), 0, 'backward not shown yet');
      await again.close();

      // the explorer: graph, expression and inputs
      await go(page, 'graph');
      await page.fill('#graph-expr', 'x * y + x');
      await page.fill('#graph-var-x', '3');
      const explorer = new URL(await address(page)).searchParams;
      assert.equal(explorer.get('graph.graph'), 'custom');
      assert.equal(explorer.get('graph.expr'), 'x * y + x');
      assert.equal(explorer.get('graph.in'), 'x:3,y:1');
      const copy = await openPage(browser, await address(page), problems);
      assert.equal(await copy.inputValue('#graph-expr'), 'x * y + x');
      assert.equal(await copy.inputValue('#graph-var-x'), '3');
      assert.equal(await textOf(copy, '#graph-grads tr[data-var="x"] td.grad'), '2'); // y + 1
      await copy.close();
      await page.selectOption('#graph-preset', 'apple');
      assert.equal(new URL(await address(page)).searchParams.get('graph.expr'), null);
    });

    await t.test('the keyboard alone: contents, step buttons, inputs', async () => {
      const kb = await openPage(browser, `${url}?lang=en`, problems);
      // tab from the top of the page to the contents' Sigmoid link
      let guard = 0;
      while (await kb.evaluate(() => document.activeElement?.getAttribute('data-s')) !== 'sigmoid' && guard++ < 40) await kb.keyboard.press('Tab');
      await kb.keyboard.press('Enter');
      await kb.waitForSelector('#sigmoid:not([hidden])');
      assert.equal(await kb.evaluate(() => document.activeElement?.id), 'sigmoid-title', 'focus moves to the section');
      while (await kb.evaluate(() => document.activeElement?.id) !== 'sigmoid-var-x' && guard++ < 80) await kb.keyboard.press('Tab');
      await kb.keyboard.press('Control+A');
      await kb.keyboard.type('0');
      while (await kb.evaluate(() => document.activeElement?.id) !== 'sigmoid-step' && guard++ < 120) await kb.keyboard.press('Tab');
      await kb.keyboard.press('Enter');
      assert.match(await textOf(kb, '#sigmoid-step-status'), /^Backward step 1 of 4/);
      await kb.keyboard.press('Space');
      await kb.keyboard.press('Space');
      await kb.keyboard.press('Space');
      assert.equal(await textOf(kb, '#sigmoid-result [data-k="graph"]'), '0.25'); // σ'(0) = 1/4
      await kb.close();
    });

    await t.test('中文: the switch turns every visible text into Chinese; no English words remain but code and names', async () => {
      await go(page, 'graph');
      const english: Record<string, string[]> = {};
      for (const s of SECTIONS) {
        await go(page, s);
        english[s] = await visibleTexts(page);
      }
      await page.selectOption('#lang', 'zh');
      assert.equal(new URL(await address(page)).searchParams.get('lang'), 'zh');
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      for (const s of SECTIONS) {
        await go(page, s);
        const texts = await visibleTexts(page);
        assert.deepEqual(englishWords(texts), [], `English words left in section ${s}`);
        assert.ok(!texts.some((x) => x.includes('`')), `a backtick shown in ${s}`);
        // every English sentence of the section is gone (texts without letters, like numbers, may stay)
        const stayed = english[s].filter((x) => /[A-Za-z]{2,}/.test(englishWords([x]).join(' ')) && texts.includes(x));
        assert.deepEqual(stayed, [], `texts not switched in ${s}`);
        await page.locator(`#${s}`).screenshot({ path: join(SHOTS, `walk-zh-${s}.png`) });
      }
      // and back: the English page has no Chinese left
      await page.selectOption('#lang', 'en');
      for (const s of SECTIONS) {
        await go(page, s);
        const han = (await visibleTexts(page)).filter((x) => /\p{Script=Han}/u.test(x));
        assert.deepEqual(han, [], `Chinese left in ${s}`);
      }
    });

    await t.test('?lang= and the browser’s language choose the first language', async () => {
      const zh = await openPage(browser, url, problems, { locale: 'zh-CN' });
      assert.equal(await textOf(zh, '#graph-title'), '5.1 计算图');
      assert.equal(await zh.inputValue('#lang'), 'zh');
      await zh.close();
      const en = await openPage(browser, `${url}?lang=en`, problems, { locale: 'zh-CN' });
      assert.equal(await textOf(en, '#graph-title'), '5.1 Computational graph');
      await en.close();
    });

    await t.test('phone width (375 px), both languages: no section is wider than the screen', async () => {
      const phone = await openPage(browser, `${url}?lang=zh`, problems, { viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
      for (const lang of ['zh', 'en']) {
        await phone.selectOption('#lang', lang);
        for (const s of SECTIONS) {
          await go(phone, s);
          assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 375), `${lang} ${s}: no sideways scrolling of the page`);
          if (['graph', 'sigmoid', 'affine', 'softmax'].includes(s)) await phone.screenshot({ path: join(SHOTS, `walk-phone-${lang}-${s}.png`), fullPage: true });
        }
      }
      await phone.close();
    });

    await t.test('no page errors and no console errors', () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await playground.close();
  }
});
