import type { Tensor } from '../tensor/Tensor.js';
import { adamUpdateInto } from '../tensor/elementwise.js';
import { OPTIMIZER_EPS, OptimizerBase } from './Optimizer.js';

/** The hyperparameters of Adam; each defaults to the book's value. */
export interface AdamOptions {
  /** Learning rate (0.001). */
  lr?: number;
  /** Decay of the first moment m, in [0, 1) (0.9). */
  beta1?: number;
  /** Decay of the second moment v, in [0, 1) (0.999). */
  beta2?: number;
  /** Guard against division by zero (1e-7). */
  eps?: number;
}

/**
 * Adam: Momentum and RMSprop together, as the book's common/optimizer.py, with the bias
 * correction folded into the step size. At update t (1, 2, …):
 *   lr_t = lr · √(1 − β2ᵗ) / (1 − β1ᵗ)
 *   m ← m + (1 − β1)(g − m);  v ← v + (1 − β2)(g² − v);  W ← W − lr_t · m / (√v + eps).
 * The first step moves each element by about lr against the sign of its gradient.
 *
 * @example
 * const adam = new Adam({ lr: 0.001 });
 * adam.update(net.params, grads);
 */
export class Adam extends OptimizerBase<{ lr: number; beta1: number; beta2: number; eps: number }> {
  /** 'adam', its name for createOptimizer and in saved states. */
  readonly name = 'adam';
  private lrT = 0;

  constructor(options: AdamOptions = {}) {
    super(
      'Adam',
      {
        lr: { default: 0.001, kind: 'positive' },
        beta1: { default: 0.9, kind: 'fraction' },
        beta2: { default: 0.999, kind: 'fraction' },
        eps: { default: OPTIMIZER_EPS, kind: 'positive' },
      },
      ['m', 'v'],
      options,
    );
  }

  protected override beforeUpdate(): void {
    const { lr, beta1, beta2 } = this.hyperparameters;
    const t = this.step; // already counts this update
    this.lrT = (lr * Math.sqrt(1.0 - beta2 ** t)) / (1.0 - beta1 ** t); // lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ)
  }

  protected updateParam(key: string, W: Tensor, grad: Tensor): void {
    const { beta1, beta2, eps } = this.hyperparameters;
    adamUpdateInto(W, this.slot('m', key, W), this.slot('v', key, W), grad, this.lrT, beta1, beta2, eps);
  }
}
