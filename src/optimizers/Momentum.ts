import type { Tensor } from '../tensor/Tensor.js';
import { momentumUpdateInto } from '../tensor/elementwise.js';
import { OptimizerBase } from './Optimizer.js';

/** The hyperparameters of Momentum; each defaults to the book's value. */
export interface MomentumOptions {
  /** Learning rate (0.01). */
  lr?: number;
  /** How much of the previous velocity is kept, in [0, 1) (0.9). */
  momentum?: number;
}

/**
 * SGD with momentum: a velocity v accumulates the gradients, as a ball rolls downhill:
 * v ← momentum · v − lr · ∂L/∂W;  W ← W + v.
 *
 * @example
 * const opt = new Momentum({ lr: 0.1, momentum: 0.9 });
 * opt.update(net.params, grads);
 */
export class Momentum extends OptimizerBase<{ lr: number; momentum: number }> {
  /** 'momentum', its name for createOptimizer and in saved states. */
  readonly name = 'momentum';

  constructor(options: MomentumOptions = {}) {
    super('Momentum', { lr: { default: 0.01, kind: 'positive' }, momentum: { default: 0.9, kind: 'fraction' } }, ['v'], options);
  }

  protected updateParam(key: string, W: Tensor, grad: Tensor): void {
    const { lr, momentum } = this.hyperparameters;
    momentumUpdateInto(W, this.slot('v', key, W), grad, lr, momentum);
  }
}
