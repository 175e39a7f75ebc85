import type { Tensor } from '../tensor/Tensor.js';
import { rmspropUpdateInto } from '../tensor/elementwise.js';
import { OPTIMIZER_EPS, OptimizerBase } from './Optimizer.js';

/** The hyperparameters of RMSprop; each defaults to the book's value. */
export interface RMSpropOptions {
  /** Learning rate (0.01). */
  lr?: number;
  /** How much of the running mean of squared gradients is kept each step, in [0, 1) (0.99). */
  decayRate?: number;
  /** Guard against division by zero (1e-7). */
  eps?: number;
}

/**
 * RMSprop: like AdaGrad, but old squared gradients fade away (an exponential moving average):
 * h ← decayRate · h + (1 − decayRate) · g²;  W ← W − lr · g / (√h + eps).
 *
 * @example
 * const opt = new RMSprop({ lr: 0.01, decayRate: 0.99 });
 * opt.update(net.params, grads);
 */
export class RMSprop extends OptimizerBase<{ lr: number; decayRate: number; eps: number }> {
  /** 'rmsprop', its name for createOptimizer and in saved states. */
  readonly name = 'rmsprop';

  constructor(options: RMSpropOptions = {}) {
    super(
      'RMSprop',
      { lr: { default: 0.01, kind: 'positive' }, decayRate: { default: 0.99, kind: 'fraction' }, eps: { default: OPTIMIZER_EPS, kind: 'positive' } },
      ['h'],
      options,
    );
  }

  protected updateParam(key: string, W: Tensor, grad: Tensor): void {
    const { lr, decayRate, eps } = this.hyperparameters;
    rmspropUpdateInto(W, this.slot('h', key, W), grad, lr, decayRate, eps);
  }
}
