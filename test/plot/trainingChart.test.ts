import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTrainingChart } from '../../src/plot/trainingChart.js';
import { main } from '../../src/cli/main.js';
import { checkXml } from '../graph/helpers.js';

const history = [0, 1, 2].map((epoch) => ({ epoch, iteration: epoch * 80 + 1, loss: 2 - epoch / 2, trainAccuracy: 0.1 + epoch * 0.4, testAccuracy: 0.1 + epoch * 0.38, seconds: epoch }));

describe('training chart (SVG)', () => {
  it('draws the loss and both accuracy lines, escapes the title, and balances its tags', () => {
    const svg = renderTrainingChart({ lossList: Float64Array.from({ length: 3000 }, (_, i) => 2 / (1 + i / 100)), history }, 'a < b & "c"');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok(svg.includes('a &lt; b &amp; &quot;c&quot;'));
    assert.equal((svg.match(/<path /g) ?? []).length, 3, 'loss, train and test lines');
    for (const label of ['iterations', 'epochs', 'train loss', '>train<', '>test<']) assert.ok(svg.includes(label), label);
    // loss line is downsampled to at most 800 points
    const lossPath = svg.match(/<path d="([^"]+)"/)![1];
    assert.ok(lossPath.split(/[ML]/).length - 1 <= 800);
    assert.equal(checkXml(svg.replace(/^<\?xml[^>]*\?>\n/, ''))[0], 'svg', 'well-formed XML with an svg root');
    assert.doesNotMatch(svg, /NaN|undefined/);
  });

  it('backprop train --plot writes the chart', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'backprop-plot-')), 'curve.svg');
    let out = '';
    const code = await main(['train', '--iters', '100', '--quiet', '--plot', file], { out: (s) => void (out += s), err: (s) => void (out += s), isTTY: false });
    assert.equal(code, 0, out);
    const svg = readFileSync(file, 'utf8');
    assert.match(svg, /<svg[^>]*>.*<\/svg>/s);
    assert.equal((svg.match(/<path /g) ?? []).length, 3);
  });
});
