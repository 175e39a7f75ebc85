import type { Optimizer, OptimizerName, OptimizerState } from './Optimizer.js';
import { SGD } from './SGD.js';
import { Momentum } from './Momentum.js';
import { Nesterov } from './Nesterov.js';
import { AdaGrad } from './AdaGrad.js';
import { RMSprop } from './RMSprop.js';
import { Adam } from './Adam.js';

const FACTORIES: Record<OptimizerName, (options: Record<string, number>) => Optimizer> = {
  sgd: (o) => new SGD(o),
  momentum: (o) => new Momentum(o),
  nesterov: (o) => new Nesterov(o),
  adagrad: (o) => new AdaGrad(o),
  rmsprop: (o) => new RMSprop(o),
  adam: (o) => new Adam(o),
};

/** The names `createOptimizer` accepts (in any letter case: 'SGD', 'AdaGrad', 'RMSprop' as the book writes them). */
export const OPTIMIZER_NAMES = Object.keys(FACTORIES) as OptimizerName[];

/**
 * An optimizer by name, as the book's trainer builds one from `optimizer='Adam'` and
 * `optimizer_param={'lr': 0.001}`. Unknown names and hyperparameters are errors.
 *
 * @example
 * createOptimizer('adam', { lr: 0.001 });          // new Adam({ lr: 0.001 })
 * createOptimizer('Momentum', { momentum: 0.95 }); // lr 0.01 by default
 */
export function createOptimizer(name: string, options: Record<string, number> = {}): Optimizer {
  const key = String(name).toLowerCase();
  if (!Object.hasOwn(FACTORIES, key)) {
    throw new RangeError(`unknown optimizer '${name}' (expected one of ${OPTIMIZER_NAMES.join(', ')})`);
  }
  return FACTORIES[key as OptimizerName](options);
}

/**
 * An optimizer that continues from a saved state (`getState()`), with its hyperparameters.
 * @example const resumed = optimizerFromState(adam.getState()); // its next step equals adam's
 */
export function optimizerFromState(state: OptimizerState): Optimizer {
  const optimizer = createOptimizer(state.name);
  optimizer.setState(state);
  return optimizer;
}
