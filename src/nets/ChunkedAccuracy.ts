import type { Tensor } from '../tensor/Tensor.js';
import { argmaxRows } from '../tensor/ops.js';
import { toLabels, type Targets } from '../functions/targets.js';

/**
 * The book's accuracy, argmax(predict(x)) == t averaged over rows, measured `chunk` rows at a
 * time so that a 60,000-image set needs no 60,000-row activations. Each chunk is a view of x's
 * rows (Tensor.rows, no copy); the buffers are reused from call to call.
 */
export class ChunkedAccuracy {
  private predicted = new Int32Array(0);

  constructor(private readonly chunk: number) {}

  /** The fraction of x's rows whose highest score is the target class. `who` names the caller in errors. */
  measure(x: Tensor, t: Targets, predict: (batch: Tensor) => Tensor, who: string): number {
    const rows = x.shape[0];
    let labels: Int32Array | null = null;
    let correct = 0;
    for (let start = 0; start < rows; start += this.chunk) {
      const n = Math.min(this.chunk, rows - start);
      if (this.predicted.length !== n) this.predicted = new Int32Array(n);
      const y = predict(x.rows(start, start + n)); // a view of the chunk's rows: no copy
      labels ??= toLabels(t, rows, y.size / n, who); // the class count is the scores' width
      argmaxRows(y, this.predicted);
      for (let i = 0; i < n; i++) if (this.predicted[i] === labels[start + i]) correct++;
    }
    return correct / rows;
  }
}
