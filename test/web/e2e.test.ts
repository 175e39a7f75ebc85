/**
 * The playground end to end: built into a temporary folder, served on a free port, and driven
 * in headless Chromium (Debian's /usr/bin/chromium) by playwright-core. Screenshots of each
 * part go to test-output/screenshots/.
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

const text = textOf;
const grad = (page: Page, name: string): Promise<string> => text(page, `#graph-grads tr[data-var="${name}"] td.grad`);
const grads = async (page: Page, names: string[]): Promise<string[]> => Promise.all(names.map((n) => grad(page, n)));

/** Drags the mouse through points given in canvas pixels (0..280). */
async function drawStroke(page: Page, points: [number, number][]): Promise<void> {
  const canvas = page.locator('#draw-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const at = ([x, y]: [number, number]): [number, number] => [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 12 });
  await page.mouse.up();
}

/** Milliseconds until the page's next animation frame: long if the main thread is busy. */
const frameDelay = (page: Page): Promise<number> =>
  page.evaluate(() => new Promise<number>((resolve) => { const t = performance.now(); requestAnimationFrame(() => resolve(performance.now() - t)); }));

test('the playground in Chromium', { timeout: 240_000 }, async (t) => {
  const playground = await playgroundInChromium(t, 'e2e');
  if (!playground) return;
  const { browser, url } = playground;
  mkdirSync(SHOTS, { recursive: true });
  const problems: string[] = [];
  try {
    const page = await openPage(browser, url, problems);

    await t.test('the page is cross-origin isolated (COOP + COEP)', async () => {
      assert.equal(await page.evaluate(() => crossOriginIsolated && typeof SharedArrayBuffer === 'function'), true);
    });

    await t.test('training runs on the WebAssembly SIMD backend with 2 threads, and the page says so', async () => {
      await page.waitForSelector('#train-backend[data-backend]', { state: 'attached', timeout: 30_000 });
      const line = await text(page, '#train-backend'); // on failure, it says why (e.g. a CSP without 'wasm-unsafe-eval')
      assert.equal(await page.getAttribute('#train-backend', 'data-backend'), 'wasm', line);
      assert.equal(await page.getAttribute('#train-backend', 'data-threads'), '2', line);
      assert.equal(line, 'Kernels: WebAssembly SIMD, 2 threads');
    });

    await t.test('graph explorer: apple 100 → 150 keeps ∂/∂apple = 2.2, makes ∂/∂apple_num 165 and ∂/∂tax 300', async () => {
      assert.deepEqual(await grads(page, ['apple', 'apple_num', 'tax']), ['2.2', '110', '200']);
      await page.fill('#graph-var-apple', '150');
      assert.deepEqual(await grads(page, ['apple', 'apple_num', 'tax']), ['2.2', '165', '300']);
      const svgTexts = await page.locator('#graph-view svg text').allTextContents();
      assert.ok(svgTexts.includes('330'), 'the price 330 on the output arrow');
      assert.ok(svgTexts.includes('165') && svgTexts.includes('300'), 'gradients under the arrows');
      assert.match(await text(page, '#graph-step-status'), /price = 330/);
    });

    await t.test('graph explorer: step backward one node at a time, then reset', async () => {
      await page.click('#graph-step');
      assert.match(await text(page, '#graph-step-status'), /^Backward step 1 of 2: the × node \(price\) got 1 from above and passed 1.1 to apple_price, 300 to tax\./);
      assert.equal(await page.locator('#graph-view .node.current').count(), 1);
      assert.equal(await page.locator('#graph-view .edge.pending').count(), 2); // into apple_price's ×, not run yet
      assert.deepEqual(await grads(page, ['apple', 'tax']), ['?', '300']);
      await page.locator('#graph').screenshot({ path: join(SHOTS, 'graph-step.png') });

      await page.focus('#graph-step'); // the keyboard works too
      await page.keyboard.press('Enter');
      assert.match(await text(page, '#graph-step-status'), /^Backward step 2 of 2: .*Every gradient is final\.$/);
      assert.deepEqual(await grads(page, ['apple', 'apple_num', 'tax']), ['2.2', '165', '300']);

      await page.click('#graph-reset');
      assert.match(await text(page, '#graph-step-status'), /^Only the inputs are known/);
      assert.equal(await page.locator('#graph-view .edge.pending').count(), 5); // the output's too
      assert.equal(await page.locator('#graph-view .node.current').count(), 0);
      assert.deepEqual(await page.locator('#graph-view .edge .value').allTextContents(), ['150', '2', '?', '1.1', '?']);

      await page.click('#graph-forward'); // forward, one node at a time
      assert.match(await text(page, '#graph-step-status'), /^Forward step 1 of 2: the × node computes apple_price = 300\.$/);
      assert.deepEqual(await page.locator('#graph-view .edge .value').allTextContents(), ['150', '2', '300', '1.1', '?']);
      await page.click('#graph-forward');
      assert.match(await text(page, '#graph-step-status'), /^Forward step 2 of 2: the × node computes price = 330\. Forward propagation is done/);
      await page.click('#graph-step');
      assert.match(await text(page, '#graph-step-status'), /^Backward step 1 of 2/);
      await page.click('#graph-previous'); // undo: back to the end of forward
      assert.match(await text(page, '#graph-step-status'), /^Forward step 2 of 2/);
      await page.click('#graph-previous');
      assert.match(await text(page, '#graph-step-status'), /^Forward step 1 of 2/);
    });

    await t.test('graph explorer: the apple-orange graph gives 2.2, 110, 3.3, 165, 650', async () => {
      await page.selectOption('#graph-preset', 'apple-orange');
      assert.deepEqual(await grads(page, ['apple', 'apple_num', 'orange', 'orange_num', 'tax']), ['2.2', '110', '3.3', '165', '650']);
      assert.equal(await page.inputValue('#graph-expr'), '(apple × apple_num + orange × orange_num) × tax');
      await page.locator('#graph').screenshot({ path: join(SHOTS, 'graph.png') });
    });

    await t.test('graph explorer: an invalid expression or value shows an error inline; the page goes on', async () => {
      await page.fill('#graph-expr', '(apple + 2))');
      const error = page.locator('#graph-expr-error');
      assert.equal(await error.isVisible(), true);
      assert.match(await error.textContent() ?? '', /^unexpected '\)' at column 12\n {2}\(apple \+ 2\)\)\n {13}\^$/);
      assert.equal(await page.getAttribute('#graph-expr', 'aria-invalid'), 'true');
      assert.equal(await page.inputValue('#graph-preset'), 'custom');
      await page.locator('#graph').screenshot({ path: join(SHOTS, 'graph-error.png') });

      await page.fill('#graph-expr', 'x * y + x');
      assert.equal(await error.isVisible(), false);
      assert.deepEqual(await grads(page, ['x', 'y']), ['2', '1']); // x = y = 1: ∂/∂x = y + 1
      await page.fill('#graph-var-x', 'abc');
      assert.equal(await text(page, '#graph-var-x-error'), "x: 'abc' is not a number");
      assert.equal(await page.getAttribute('#graph-var-x', 'aria-invalid'), 'true');
      await page.fill('#graph-var-y', '4');
      assert.deepEqual(await grads(page, ['x', 'y']), ['5', '1']);
      await page.fill('#graph-var-x', '3');
      assert.equal(await page.locator('#graph-var-x-error').isVisible(), false);
      assert.deepEqual(await grads(page, ['x', 'y']), ['5', '3']);
      for (const bad of ['', '1 +', 'exp(', 'max(1)', '#', 'x'.repeat(400), '((((((((((x))))))))))']) {
        await page.fill('#graph-expr', bad);
      }
      // a value that is not a finite number is refused, saying why, instead of drawing NaN
      await page.fill('#graph-expr', 'log(x) * 2');
      await page.fill('#graph-var-x', '-1');
      assert.equal(await text(page, '#graph-expr-error'), 'log(-1) is NaN: log needs an input above 0');
      await page.fill('#graph-var-x', '0.5');
      assert.equal(await page.locator('#graph-expr-error').isVisible(), false);
      assert.deepEqual(await grads(page, ['x']), ['4']); // d(2·log x)/dx = 2/x
      await page.fill('#graph-expr', 'sigmoid(w * x + b)');
      assert.deepEqual(await page.locator('#graph-values input').evaluateAll((els) => els.map((e) => e.id)), ['graph-var-w', 'graph-var-x', 'graph-var-b']);
      await page.selectOption('#graph-preset', 'apple');
      assert.deepEqual(await grads(page, ['apple', 'apple_num', 'tax']), ['2.2', '110', '200']);
    });

    await t.test('draw: before training, the page says the network is not trained', async () => {
      await page.waitForSelector('#train-start:not([disabled])', { state: 'attached', timeout: 30_000 }); // the digits are loaded
      await page.click('#toc a[data-s="draw"]');
      await drawStroke(page, [[140, 40], [140, 240]]);
      await page.waitForFunction(() => /not trained yet/.test(document.querySelector('#draw-status')?.textContent ?? ''));
      assert.equal(await page.locator('#draw-probs li').count(), 0);
      await page.click('#draw-clear');
    });

    await t.test('train: bad settings are refused inline; training in the worker passes 0.5 test accuracy; the page stays responsive', async () => {
      await page.click('#toc a[data-s="train"]');
      await page.fill('#train-hidden', '0');
      await page.click('#train-start');
      assert.equal(await text(page, '#train-form-error'), 'Cannot start: hidden units must be a whole number from 1 to 1000.');
      assert.equal(await page.getAttribute('#train-hidden', 'aria-invalid'), 'true');
      assert.equal(await page.getAttribute('#train-status', 'data-state'), 'idle');
      await page.fill('#train-hidden', '50');
      assert.equal(await page.locator('#train-form-error').isVisible(), false);

      await page.click('#train-start');
      await page.waitForSelector('#train-status[data-state="running"]');
      const delays: number[] = [];
      for (let i = 0; i < 10; i++) delays.push(await frameDelay(page));
      assert.ok(Math.max(...delays) < 250, `animation frames while training: ${delays.map(Math.round).join(', ')} ms`);
      await page.click('#toc a[data-s="graph"]');
      await page.fill('#graph-var-apple', '150'); // the explorer still answers at once
      assert.equal(await grad(page, 'tax'), '300');
      await page.click('#toc a[data-s="train"]');

      // 20 epochs take a few seconds on the wasm backend: pause from inside the page, in the
      // frame the third epoch with test accuracy above 0.5 shows up, long before the end
      await page.waitForFunction(() => {
        const done = document.querySelectorAll('#epoch-table tbody tr').length >= 3
          && Number(document.querySelector('#train-progress')?.getAttribute('data-test-accuracy')) > 0.5;
        if (done) document.querySelector<HTMLButtonElement>('#train-pause')!.click();
        return done;
      }, null, { timeout: 60_000 });
      await page.waitForSelector('#train-status[data-state="paused"]');
      const rows = await page.locator('#epoch-table tbody tr').count();
      await page.waitForTimeout(1500);
      assert.equal(await page.locator('#epoch-table tbody tr').count(), rows, 'no epochs while paused');
      assert.equal(await text(page, '#train-start'), 'Resume');
      const accuracy = Number(await page.getAttribute('#train-progress', 'data-test-accuracy'));
      assert.ok(accuracy > 0.5, `test accuracy ${accuracy}`);
      assert.ok(await page.locator('#loss-chart polyline').count() === 1 && await page.locator('#acc-chart polyline').count() === 2);
      const speed = Number(await page.getAttribute('#train-backend', 'data-iterations-per-second'));
      assert.ok(speed > 0, `iterations per second shown: ${await text(page, '#train-backend')}`);
      assert.match(await text(page, '#train-backend'), /^Kernels: WebAssembly SIMD, 2 threads · [\d,]+ iterations\/s$/);
      t.diagnostic(`training speed in the page: ${Math.round(speed)} iterations/s (wasm, 2 threads)`);
      await page.click('#train details summary'); // open the per-epoch table for the picture
      await page.locator('#train').screenshot({ path: join(SHOTS, 'train.png') });
    });

    await t.test('draw: a stroke gives ten probabilities that sum to 1; W1 is shown as 50 images', async () => {
      await page.click('#toc a[data-s="draw"]');
      await drawStroke(page, [[70, 50], [210, 50], [120, 250]]); // a 7
      await page.waitForFunction(() => document.querySelectorAll('#draw-probs li').length === 10);
      const probs = await page.locator('#draw-probs li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-prob'))));
      assert.equal(probs.length, 10);
      assert.ok(probs.every((p) => p >= 0 && p <= 1), probs.join(', '));
      assert.ok(Math.abs(probs.reduce((s, p) => s + p, 0) - 1) <= 1e-3, `sum ${probs.reduce((s, p) => s + p, 0)}`);
      assert.match(await text(page, '#draw-status'), /^The network says \d \(probability 0\.\d{3}\)\.$/);
      assert.equal(await page.locator('#weights canvas').count(), 50);
      await page.locator('#draw').screenshot({ path: join(SHOTS, 'draw.png') });

      await page.click('#draw-sample');
      await page.waitForFunction(() => /The test image is a \d/.test(document.querySelector('#draw-status')?.textContent ?? ''));
      await page.locator('#draw').screenshot({ path: join(SHOTS, 'draw-sample.png') });
      await page.click('#draw-clear');
      assert.equal(await page.locator('#draw-probs li').count(), 0);
      assert.equal(await text(page, '#draw-status'), 'Draw a digit.');
    });

    await t.test('reset: the network is gone and the charts are empty', async () => {
      await page.click('#toc a[data-s="train"]');
      await page.click('#train-reset');
      await page.waitForSelector('#train-status[data-state="idle"]');
      assert.equal(await page.locator('#epoch-table tbody tr').count(), 0);
      assert.equal(await page.locator('#weights canvas').count(), 0);
      assert.equal(await page.isDisabled('#train-hidden'), false);
    });

    await t.test('phone width (375×812): nothing wider than the screen; drawing with a finger works', async () => {
      const phone = await openPage(browser, url, problems, { viewport: { width: 375, height: 812 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
      await phone.waitForSelector('#train-start:not([disabled])', { state: 'attached', timeout: 30_000 });
      assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 375), 'no sideways scrolling of the page');
      const labels = phone.locator('#graph-view svg text.value');
      assert.equal(await labels.count(), 5);
      for (let i = 0; i < 5; i++) assert.ok(await labels.nth(i).isVisible(), 'forward values shown on a phone');
      await phone.screenshot({ path: join(SHOTS, 'phone.png') });
      await phone.screenshot({ path: join(SHOTS, 'phone-full.png'), fullPage: true });
      for (const part of ['graph', 'train']) {
        await phone.click(`#toc a[data-s="${part}"]`);
        await phone.locator(`#${part}`).screenshot({ path: join(SHOTS, `phone-${part}.png`) });
      }

      await phone.click('#toc a[data-s="draw"]');
      const canvas = phone.locator('#draw-canvas');
      await canvas.scrollIntoViewIfNeeded();
      const box = (await canvas.boundingBox())!;
      const cdp = await phone.context().newCDPSession(phone);
      const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number): Promise<unknown> =>
        cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: box.x + x, y: box.y + y }] });
      const scrollBefore = await phone.evaluate(() => window.scrollY);
      await touch('touchStart', box.width / 2, 30);
      for (let y = 40; y <= box.height - 30; y += 20) await touch('touchMove', box.width / 2, y);
      await touch('touchEnd', 0, 0);
      await phone.waitForFunction(() => /not trained yet/.test(document.querySelector('#draw-status')?.textContent ?? ''));
      assert.equal(await phone.evaluate(() => window.scrollY), scrollBefore, 'the page must not scroll while a finger draws');
      await phone.screenshot({ path: join(SHOTS, 'phone-draw.png') });
      await phone.close();
    });

    await t.test('?backend=js trains with the TypeScript kernels, and the page says so', async () => {
      const js = await openPage(browser, `${url}?backend=js`, problems);
      await js.waitForSelector('#train-backend[data-backend]', { state: 'attached', timeout: 30_000 });
      assert.equal(await text(js, '#train-backend'), 'Kernels: plain JavaScript, 1 thread (chosen with ?backend=js)');
      assert.equal(await js.getAttribute('#train-backend', 'class'), 'hint backend', 'no warning for a chosen backend');
      await js.close();
    });

    await t.test('no page errors and no console errors', () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await playground.close();
  }
});
