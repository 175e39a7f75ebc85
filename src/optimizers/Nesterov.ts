import type { Tensor } from '../tensor/Tensor.js';
import { nesterovUpdateInto } from '../tensor/elementwise.js';
import { OptimizerBase } from './Optimizer.js';

/** The hyperparameters of Nesterov; each defaults to the book's value. */
export interface NesterovOptions {
  /** Learning rate (0.01). */
  lr?: number;
  /** How much of the previous velocity is kept, in [0, 1) (0.9). */
  momentum?: number;
}

/**
 * Nesterov's accelerated gradient (NAG), in the book's form (common/optimizer.py), which looks
 * ahead along the velocity. W moves with the velocity *before* this step's update, then v is updated:
 * W ← W + momentum² · v − (1 + momentum) · lr · g;  v ← momentum · v − lr · g.
 * The first step from v = 0 is W − (1 + momentum) · lr · g (W = 1, g = 0.5, lr 0.1, momentum 0.9 → 0.905).
 *
 * @example
 * const opt = new Nesterov({ lr: 0.01 });
 * opt.update(net.params, grads);
 */
export class Nesterov extends OptimizerBase<{ lr: number; momentum: number }> {
  /** 'nesterov', its name for createOptimizer and in saved states. */
  readonly name = 'nesterov';

  constructor(options: NesterovOptions = {}) {
    super('Nesterov', { lr: { default: 0.01, kind: 'positive' }, momentum: { default: 0.9, kind: 'fraction' } }, ['v'], options);
  }

  protected updateParam(key: string, W: Tensor, grad: Tensor): void {
    const { lr, momentum } = this.hyperparameters;
    nesterovUpdateInto(W, this.slot('v', key, W), grad, lr, momentum);
  }
}
