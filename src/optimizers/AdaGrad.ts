import type { Tensor } from '../tensor/Tensor.js';
import { adaGradUpdateInto } from '../tensor/elementwise.js';
import { OPTIMIZER_EPS, OptimizerBase } from './Optimizer.js';

/** The hyperparameters of AdaGrad; each defaults to the book's value. */
export interface AdaGradOptions {
  /** Learning rate (0.01). */
  lr?: number;
  /** Guard against division by zero (1e-7). */
  eps?: number;
}

/**
 * AdaGrad: each element's step shrinks with the sum h of its squared gradients so far:
 * h ← h + g²;  W ← W − lr · g / (√h + eps).
 *
 * @example
 * const opt = new AdaGrad({ lr: 0.01 });
 * opt.update(net.params, grads);
 */
export class AdaGrad extends OptimizerBase<{ lr: number; eps: number }> {
  /** 'adagrad', its name for createOptimizer and in saved states. */
  readonly name = 'adagrad';

  constructor(options: AdaGradOptions = {}) {
    super('AdaGrad', { lr: { default: 0.01, kind: 'positive' }, eps: { default: OPTIMIZER_EPS, kind: 'positive' } }, ['h'], options);
  }

  protected updateParam(key: string, W: Tensor, grad: Tensor): void {
    const { lr, eps } = this.hyperparameters;
    adaGradUpdateInto(W, this.slot('h', key, W), grad, lr, eps);
  }
}
