import type { Tensor } from '../tensor/Tensor.js';
import { gatherRows, gatherRowsAhead, type PendingRows } from '../tensor/ops.js';

/**
 * The rows of a training set's mini-batches (`x_batch = x_train[batch_mask]`) in two tensors
 * that take turns: the current batch's, and the next one's, gathered while the current one
 * trains (gatherRowsAhead: by the wasm backend's idle threads). Used by the Trainer and train().
 */
export class BatchRows {
  private current: Tensor | null = null;
  private spare: Tensor | null = null;
  private next: PendingRows | null = null;

  constructor(private readonly x: Tensor) {}

  /** Whether the next batch's rows are on their way (`ahead` called since the last `take`). */
  get pending(): boolean {
    return this.next !== null;
  }

  /** The rows of `index`, gathered now into the current batch's tensor. */
  gather(index: Int32Array): Tensor {
    return (this.current = gatherRows(this.x, index, this.current));
  }

  /** Starts gathering the next batch's rows into the other tensor; `index` may be reused at once. */
  ahead(index: Int32Array): void {
    this.next = gatherRowsAhead(this.x, index, this.spare);
  }

  /** The rows `ahead` started, once in place: they become the current batch. */
  take(): Tensor {
    const next = this.next!;
    this.next = null;
    this.spare = this.current;
    return (this.current = next.wait());
  }
}
