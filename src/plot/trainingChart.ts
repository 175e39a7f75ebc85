import type { EpochRecord } from '../train/train.js';
import { renderLineChart } from './lineChart.js';

/** What a training chart shows: the loss per iteration and the accuracies per epoch. */
export interface TrainingCurves {
  /** Loss of every iteration (the book's train_loss_list). */
  lossList: ArrayLike<number>;
  /** The epoch records: loss and accuracies per epoch. */
  history: readonly EpochRecord[];
}

/** At most this many points per loss line: each is the mean of its run of iterations. */
const MAX_POINTS = 800;

/**
 * An SVG chart in the style of the book's figures 4-11 and 4-12: on the left the loss by
 * iteration, on the right train and test accuracy by epoch. Self-contained: no fonts or
 * scripts to load.
 */
export function renderTrainingChart(curves: TrainingCurves, title = 'training'): string {
  return renderLineChart(
    [
      {
        title: 'loss',
        xLabel: 'iterations',
        yLabel: 'loss',
        series: [{ name: 'train loss', points: downsample(curves.lossList), color: '#1f77b4' }],
      },
      {
        title: 'accuracy',
        xLabel: 'epochs',
        yLabel: 'accuracy',
        yRange: [0, 1],
        legend: 'bottom-right',
        series: [
          { name: 'train', points: curves.history.map((r) => [r.epoch, r.trainAccuracy] as const), color: '#1f77b4' },
          { name: 'test', points: curves.history.map((r) => [r.epoch, r.testAccuracy] as const), color: '#d62728', dash: '6 4' },
        ],
      },
    ],
    { title, columns: 2, panelWidth: 420, panelHeight: 300 },
  );
}

/** [iteration, loss] points: runs of iterations averaged so that at most MAX_POINTS remain. */
function downsample(values: ArrayLike<number>): [number, number][] {
  const n = values.length;
  const step = Math.max(1, Math.ceil(n / MAX_POINTS));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += step) {
    let s = 0;
    const end = Math.min(n, i + step);
    for (let j = i; j < end; j++) s += values[j];
    out.push([(i + end) / 2, s / (end - i)]);
  }
  return out;
}
