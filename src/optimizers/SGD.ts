import type { Tensor } from '../tensor/Tensor.js';
import { axpyInto } from '../tensor/ops.js';
import { OptimizerBase } from './Optimizer.js';

/** The hyperparameters of SGD; each defaults to the book's value. */
export interface SGDOptions {
  /** Learning rate (0.01). */
  lr?: number;
}

/**
 * Stochastic gradient descent: W ← W − lr · ∂L/∂W.
 *
 * @example
 * const sgd = new SGD({ lr: 0.1 });
 * sgd.update(net.params, net.gradient(x, t));
 */
export class SGD extends OptimizerBase<{ lr: number }> {
  /** 'sgd', its name for createOptimizer and in saved states. */
  readonly name = 'sgd';

  constructor(options: SGDOptions = {}) {
    super('SGD', { lr: { default: 0.01, kind: 'positive' } }, [], options);
  }

  protected updateParam(_key: string, W: Tensor, grad: Tensor): void {
    axpyInto(-this.hyperparameters.lr, grad, W); // W −= lr · dW
  }
}
