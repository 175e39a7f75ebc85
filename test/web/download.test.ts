/**
 * "Download model" in the playground, end to end in headless Chromium: a network trained in the
 * page is downloaded as .safetensors and .onnx, both made in the browser by the library's own
 * writers (serializeModel, exportOnnx); the .safetensors loads with loadModel, the .onnx runs in
 * onnxruntime-web, and the two agree with each other on 1,000 test images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { loadModel } from '../../src/io/modelFiles.js';
import { playgroundInChromium } from './helpers.js';
import { checkOnnxGraph, decodeOnnx, onnxRuntime } from '../io/onnxCheck.js';
import { argmaxOf, maxAbsDiff, projectPrediction, testImages } from '../io/exportModels.js';

const SHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/** Clicks a download button and returns the file the page offered: its name and bytes. */
async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: readFileSync(path) };
}

test('the playground downloads the trained model as .safetensors and .onnx', { timeout: 240_000 }, async (t) => {
  const playground = await playgroundInChromium(t, 'download');
  if (!playground) return;
  const { browser, url } = playground;
  mkdirSync(SHOTS, { recursive: true });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    await page.goto(`${url}?s=train`); // the walk shows one section at a time: open the training one
    await page.waitForSelector('#train-start:not([disabled])', { timeout: 30_000 });
    assert.equal(await page.isDisabled('#download-onnx'), true, 'nothing to download before training');

    await page.fill('#train-hidden', '40');
    await page.click('#train-start');
    // two epoch points (iterations 1 and 81), then pause
    await page.waitForFunction(() => {
      const done = document.querySelectorAll('#epoch-table tbody tr').length >= 2;
      if (done) document.querySelector<HTMLButtonElement>('#train-pause')!.click();
      return done;
    }, undefined, { timeout: 60_000 });
    await page.waitForSelector('#train-status[data-state="paused"]');
    await page.waitForSelector('#download-onnx:not([disabled])');
    const pageAccuracy = Number(await page.getAttribute('#train-progress', 'data-test-accuracy'));

    const st = await download(page, '#download-safetensors');
    assert.equal(st.name, 'backprop-two-layer-784-40-10.safetensors');
    await page.waitForFunction(() => /^Saved backprop-two-layer-784-40-10\.safetensors \([\d,]+ bytes, after [\d,]+ iterations\)\.$/.test(document.querySelector('#download-status')?.textContent ?? ''));
    const onnx = await download(page, '#download-onnx');
    assert.equal(onnx.name, 'backprop-two-layer-784-40-10.onnx');
    await page.locator('#train').screenshot({ path: join(SHOTS, 'train-download.png') });

    const dir = mkdtempSync(join(tmpdir(), 'backprop-downloaded-'));
    const file = join(dir, st.name);
    writeFileSync(file, st.bytes);
    const model = loadModel(file);
    assert.deepEqual(model.spec.hidden, [40]);
    assert.deepEqual(model.data, { source: 'bundled', trainSize: 8000, testSize: 2000, splitSeed: 0 });
    assert.ok(model.training!.iteration >= 81);
    assert.equal(model.training!.history.at(-1)!.testAccuracy, pageAccuracy, 'the file records the accuracy the page shows');

    const decoded = decodeOnnx(onnx.bytes);
    checkOnnxGraph(decoded);
    const meta = Object.fromEntries(decoded.metadata_props!.map((p) => [p.key, p.value]));
    assert.equal(JSON.parse(meta.architecture).hidden[0], 40);
    assert.equal(Number(meta.test_accuracy), pageAccuracy);
    const ort = onnxRuntime();
    const session = await ort.InferenceSession.create(onnx.bytes);
    const { x, pixels } = testImages();
    const result = await session.run({ input: new ort.Tensor('float32', pixels, [1000, 784]) });
    const ours = projectPrediction(model.network, x);
    const probabilities = result.probabilities.data as Float32Array;
    assert.ok(maxAbsDiff(probabilities, ours.probabilities) <= 1e-5);
    assert.deepEqual(argmaxOf(probabilities), ours.classes);
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, []);
  } finally {
    await playground.close();
  }
});
