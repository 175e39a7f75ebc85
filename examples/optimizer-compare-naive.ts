// Section 6.1.7: SGD, Momentum, AdaGrad and Adam on f(x, y) = x²/20 + y², from (−7, 2), 30 updates
// each (optimizer_compare_naive.py). The book draws the four paths over the contour of f;
// `npm run example optimizer-compare-naive -- --svg paths.svg` writes that figure, and the
// script prints each path and where it ends.
import { parseArgs } from 'node:util';
import { AdaGrad, Adam, Momentum, SGD, Tensor, renderLineChart, writeFileAtomic, type ChartPanel, type LineSeries, type Optimizer } from '../src/node.js';

const { values } = parseArgs({ args: process.argv.slice(3), options: { svg: { type: 'string' } } });

const f = (x: number, y: number): number => x ** 2 / 20.0 + y ** 2;
const df = (x: number, y: number): [number, number] => [x / 10.0, 2.0 * y];

const initPos = [-7.0, 2.0];
const optimizers: [string, Optimizer][] = [
  ['SGD', new SGD({ lr: 0.95 })],
  ['Momentum', new Momentum({ lr: 0.1 })],
  ['AdaGrad', new AdaGrad({ lr: 1.5 })],
  ['Adam', new Adam({ lr: 0.3 })],
];

// The optimizers update tensors in place, as the book's update(params, grads) updates a dict.
const params = { x: Tensor.from([initPos[0]], [1], { dtype: 'float64' }), y: Tensor.from([initPos[1]], [1], { dtype: 'float64' }) };
const grads = { x: Tensor.zeros([1], { dtype: 'float64' }), y: Tensor.zeros([1], { dtype: 'float64' }) };

const fmt = (v: number): string => v.toFixed(4).padStart(8);
const panels: ChartPanel[] = [];
for (const [key, optimizer] of optimizers) {
  params.x.data[0] = initPos[0];
  params.y.data[0] = initPos[1];
  const history: [number, number][] = [];
  for (let i = 0; i < 30; i++) {
    history.push([params.x.data[0], params.y.data[0]]);
    [grads.x.data[0], grads.y.data[0]] = df(params.x.data[0], params.y.data[0]);
    optimizer.update(params, grads);
  }
  const [x, y] = [params.x.data[0], params.y.data[0]];
  history.push([x, y]); // the point after the 30th update, which the book's figure leaves out

  console.log(`${key} (lr ${optimizer.hyperparameters.lr}):`);
  for (let i = 0; i < history.length; i += 6) {
    console.log('  ' + history.slice(i, i + 6).map(([a, b]) => `(${fmt(a)},${fmt(b)})`).join(' '));
  }
  console.log(`  final: (${x.toFixed(4)}, ${y.toFixed(4)}), f = ${f(x, y).toExponential(3)}`);
  panels.push({ title: key, xLabel: 'x', yLabel: 'y', xRange: [-10, 10], yRange: [-10, 10], legend: 'none', series: [...contour(), ...path(history)] });
}

if (values.svg !== undefined) {
  writeFileAtomic(values.svg, renderLineChart(panels, { title: 'f(x, y) = x²/20 + y², from (−7, 2)' }));
  console.log(`figure written to ${values.svg}`);
}

/** The level sets x²/20 + y² = c: ellipses with half-axes √(20c) and √c (plt.contour). */
function contour(): LineSeries[] {
  const levels = [0.5, 1, 2, 3, 4, 5, 6, 7];
  const viridis = ['#440154', '#46327e', '#365c8d', '#277f8e', '#1fa187', '#4ac16d', '#a0da39', '#fde725'];
  return levels.map((c, k) => ({
    color: viridis[k],
    width: 1,
    points: Array.from({ length: 121 }, (_, i): [number, number] => {
      const t = (2 * Math.PI * i) / 120;
      return [Math.sqrt(20 * c) * Math.cos(t), Math.sqrt(c) * Math.sin(t)];
    }),
  }));
}

/** The path as plt.plot(x_history, y_history, 'o-', color='red'), and a '+' at the minimum. */
function path(history: [number, number][]): LineSeries[] {
  return [
    { points: history, color: 'red', marker: 'circle', width: 1.2 },
    { points: [[0, 0]], color: '#1f77b4', marker: 'plus', width: 0 },
  ];
}
