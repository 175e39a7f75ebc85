import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPARE_OPTIMIZERS_HELP, compareOptimizersCommand } from '../../src/cli/compareOptimizers.js';
import { UsageError } from '../../src/cli/errors.js';
import { renderLineChart, smoothCurve } from '../../src/plot/lineChart.js';
import { checkXml } from '../graph/helpers.js';

/** Run the command in-process, capturing what it prints. */
async function run(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  await compareOptimizersCommand(args, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
  return { out, err };
}

/** The legend's box and every point the chart's lines pass through (each segment walked in 1 px steps), in pixels. */
function legendAndLines(svg: string): { box: { x: number; y: number; width: number; height: number }; points: [number, number][] } {
  const rect = /<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)" fill="white" fill-opacity="[\d.]+"/.exec(svg);
  assert.ok(rect, 'a legend box');
  const [x, y, width, height] = rect.slice(1).map(Number);
  const points: [number, number][] = [];
  for (const [, d] of svg.matchAll(/<path d="([^"]*)" fill="none"/g)) {
    let prev: [number, number] | null = null;
    for (const [, cmd, px, py] of d.matchAll(/([ML])([\d.-]+),([\d.-]+)/g)) {
      const p: [number, number] = [Number(px), Number(py)];
      if (cmd === 'L' && prev) {
        const steps = Math.max(1, Math.ceil(Math.hypot(p[0] - prev[0], p[1] - prev[1])));
        for (let k = 1; k <= steps; k++) points.push([prev[0] + ((p[0] - prev[0]) * k) / steps, prev[1] + ((p[1] - prev[1]) * k) / steps]);
      } else points.push(p);
      prev = p;
    }
  }
  return { box: { x, y, width, height }, points };
}

/** How many of the points fall inside the box. */
const covered = ({ box, points }: ReturnType<typeof legendAndLines>): number =>
  points.filter(([px, py]) => px >= box.x && px <= box.x + box.width && py >= box.y && py <= box.y + box.height).length;

/** The cells of the table row that starts with `head`. */
function rowOf(out: string, head: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith(head + ' '));
  assert.ok(line, `no row '${head}' in:\n${out}`);
  return line.slice(head.length).trim().split(/\s+/);
}

describe('backprop compare-optimizers', () => {
  it('trains one identical net per optimizer on the same batches, prints the loss table, test accuracy and seconds, and draws the chart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backprop-compare-'));
    const plot = join(dir, 'loss.svg');
    const { out } = await run('--iters', '30', '--plot', plot, '--backend', 'js');
    assert.match(out, /^data: bundled MNIST digits/m);
    assert.match(out, /MultiLayerNet\(784, \[100, 100, 100, 100\], 10\).*30 iterations, batch 128/);
    // the book's learning rates: each optimizer's default
    assert.match(out, /SGD\(lr 0\.01\), Momentum\(lr 0\.01, momentum 0\.9\), AdaGrad\(lr 0\.01\), Adam\(lr 0\.001, beta1 0\.9, beta2 0\.999\)/);
    assert.deepEqual(rowOf(out, 'iteration'), ['SGD', 'Momentum', 'AdaGrad', 'Adam']);
    const first = rowOf(out, '0').map(Number);
    const last = rowOf(out, '29').map(Number);
    // Momentum's first step is SGD's (v = −lr·g): equal losses prove identical nets and batches
    assert.equal(first[0], first[1]);
    for (const v of [...first, ...last]) assert.ok(v > 0 && v < 3, `loss ${v}`);
    assert.ok(last[3] < first[3], 'Adam lowers the loss within 30 iterations');
    const acc = rowOf(out, 'test acc').map(Number);
    assert.equal(acc.length, 4);
    for (const a of acc) assert.ok(a >= 0 && a <= 1, `accuracy ${a}`);
    assert.ok(Math.max(...acc) > 0.3, `some optimizer learns something in 30 iterations: ${acc}`);
    for (const s of rowOf(out, 'seconds')) assert.match(s, /^\d+\.\d$/);
    assert.match(out, /chart written to /);

    const svg = readFileSync(plot, 'utf8');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
    const names = checkXml(svg.replace(/^<\?xml[^>]*\?>\n/, ''));
    assert.equal(names[0], 'svg');
    for (const label of ['SGD', 'Momentum', 'AdaGrad', 'Adam', 'iterations', 'loss']) assert.ok(svg.includes(`>${label}</text>`), label);
    assert.equal((svg.match(/<path d="M[^"]*" fill="none"/g) ?? []).length, 4, 'one line per optimizer');
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    assert.deepEqual(readdirSync(dir), ['loss.svg'], 'written atomically: no temporary file left');
    assert.equal(covered(legendAndLines(svg)), 0, 'the legend covers none of the curves');
  });

  it('the legend stays off the SGD curve when that curve runs through the top right (200 iterations)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backprop-compare-'));
    const plot = join(dir, 'loss.svg');
    await run('--iters', '200', '--plot', plot, '--quiet');
    const svg = readFileSync(plot, 'utf8');
    const found = legendAndLines(svg);
    assert.equal(covered(found), 0, `legend at ${JSON.stringify(found.box)}`);
  });

  it('--optimizers picks any of the six, in the order given; --quiet prints only the results', async () => {
    const { out } = await run('--iters', '3', '--batch-size', '16', '--optimizers', 'RMSprop,nesterov', '--quiet', '--backend', 'js');
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3, out);
    assert.deepEqual(rowOf(out, 'test acc').length, 2);
    assert.deepEqual(lines[0].trim().split(/\s+/), ['RMSprop', 'Nesterov']);
  });

  const bad: [string[], RegExp][] = [
    [['--optimizers', 'sgd,foo,Bar'], /^--optimizers: unknown optimizers 'foo', 'Bar' \(expected sgd, momentum, nesterov, adagrad, rmsprop, adam\)$/],
    [['--optimizers', 'adam,sgd,adam'], /^--optimizers: 'adam' is listed twice$/],
    [['--optimizers', 'sgd,,adam'], /^--optimizers must be a comma-separated list of sgd, momentum, nesterov, adagrad, rmsprop, adam, got 'sgd,,adam'$/],
    [['--iters', '0'], /^--iters must be at least 1, got 0$/],
    [['--iters', '2k'], /^--iters must be a whole number, got '2k'$/],
    [['--batch-size', '8001', '--backend', 'js'], /^--batch-size 8001 is larger than the training set \(8000 images\)$/],
    [['--seed', '-1'], /^--seed must be at least 0, got -1$/],
    [['--backend', 'gpu'], /^--backend must be one of auto, js, wasm, got 'gpu'$/],
    [['--lr', '0.1'], /^compare-optimizers: unknown flag '--lr'/],
    [['extra'], /^compare-optimizers: .*'extra'/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(' ')} with one line`, async () => {
      await assert.rejects(run(...args), (e: Error) => {
        assert.ok(e instanceof UsageError, `${e.name}: ${e.message}`);
        assert.match(e.message, message);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
    });
  }

  it('--help prints the flags and trains nothing', async () => {
    const { out } = await run('--help');
    assert.equal(out, COMPARE_OPTIMIZERS_HELP);
    for (const flag of ['--data', '--iters', '--batch-size', '--seed', '--optimizers', '--plot', '--quiet', '--backend']) assert.ok(out.includes(flag), flag);
    assert.match(out, /default 2000/);
  });

  it('--plot into a missing directory is refused before any training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backprop-compare-'));
    const started = performance.now();
    const plot = join(dir, 'no', 'loss.svg');
    await assert.rejects(run('--plot', plot), (e: Error) => e instanceof UsageError && e.message === `--plot ${plot}: the folder ${join(dir, 'no')} does not exist`);
    assert.ok(performance.now() - started < 1000, 'no 2000-iteration run first');
    assert.equal(existsSync(join(dir, 'no')), false);
  });
});

describe('line charts', () => {
  it('draws panels with negative ranges, markers, clipped lines and a legend of the named series only', () => {
    const svg = renderLineChart(
      [
        { title: 'a < b', xRange: [-10, 10], yRange: [-10, 10], series: [{ points: [[-7, 2], [-6.3, -1.8], [0, 0]], marker: 'circle', color: 'red' }, { points: [[0, 0]], marker: 'plus', width: 0 }] },
        { xLabel: 'iterations', yLabel: 'loss', series: [{ name: 'SGD', points: [[0, 2.3], [1, NaN], [2, 0.5], [3, 0.4]], marker: 'diamond', markEvery: 2 }, { name: 'Adam & co', points: [[0, 2], [3, 0.1]] }] },
      ],
      { title: 'x²/20 + y² "contour"' },
    );
    const names = checkXml(svg.replace(/^<\?xml[^>]*\?>\n/, ''));
    assert.equal(names[0], 'svg');
    assert.equal(names.filter((n) => n === 'clipPath').length, 2);
    assert.ok(svg.includes('a &lt; b') && svg.includes('Adam &amp; co') && svg.includes('&quot;contour&quot;'));
    assert.ok(svg.includes('>-10</text>') && svg.includes('>-5</text>'), 'negative ticks');
    assert.equal((svg.match(/<circle /g) ?? []).length, 3, 'a marker on each path point');
    assert.match(svg, /<path d="M[\d.]+,[\d.]+M[\d.]+,[\d.]+L/, 'a NaN point breaks the line');
    assert.ok(svg.includes('>SGD</text>') && !svg.includes('undefined'));
    assert.doesNotMatch(svg, /NaN/);
    assert.throws(() => renderLineChart([]), /at least one panel/);
  });

  it('the legend goes where it covers the least of the lines (matplotlib\'s loc="best"): top right first, else another corner', () => {
    const chart = (ys: (x: number) => number): string => renderLineChart({
      xRange: [0, 100], yRange: [0, 1],
      series: [{ name: 'falling', points: Array.from({ length: 101 }, (_, x): [number, number] => [x, ys(x)]) }, { name: 'flat', points: [[0, 0.05], [100, 0.05]] }],
    });
    // a line along the bottom: the top right is free, and it is the first choice
    let svg = chart(() => 0.1);
    let found = legendAndLines(svg);
    assert.equal(covered(found), 0);
    assert.ok(found.box.x > 300 && found.box.y < 60, `top right: ${JSON.stringify(found.box)}`);
    // a line along the top: the legend moves down, still off both lines
    svg = chart(() => 0.95);
    found = legendAndLines(svg);
    assert.equal(covered(found), 0, JSON.stringify(found.box));
    assert.ok(found.box.y > 60, `moved down: ${JSON.stringify(found.box)}`);
    // the fixed positions still hold where asked for
    const fixed = renderLineChart({ legend: 'top-right', xRange: [0, 1], yRange: [0, 1], series: [{ name: 'a', points: [[0, 1], [1, 1]] }] });
    assert.ok(legendAndLines(fixed).box.y < 60);
  });
});

describe('smoothCurve (the book\'s smooth_curve)', () => {
  it('matches NumPy: np.convolve with an 11-point Kaiser window (β 2) over the mirrored series', () => {
    // smooth_curve(x) of common/util.py for x[i] = (i·7919 mod 13)/3 + i/10, i = 0..24, computed with NumPy
    const x = Array.from({ length: 25 }, (_, i) => ((i * 7919) % 13) / 3 + i * 0.1);
    const numpy = [1.777905349868, 1.86956283978, 1.912200527078, 2.028905740381, 2.205373894008, 2.429427840719, 2.692365370042, 2.940967963291,
      2.976643072171, 2.964371502584, 2.935628497416, 2.923356927829, 2.959032036709, 3.207634629958, 3.470572159281, 3.547779618935, 3.6,
      3.652220381065, 3.729427840719, 3.992365370042, 4.200759996597, 4.327242720665, 4.368855760363, 4.322824309811, 4.186861658953];
    const y = smoothCurve(x);
    assert.equal(y.length, x.length);
    y.forEach((v, i) => assert.ok(Math.abs(v - numpy[i]) < 1e-11, `${i}: ${v} vs ${numpy[i]}`));
    assert.deepEqual(smoothCurve([3, 1, 2]), [3, 1, 2], 'shorter than the window: unchanged');
  });
});
