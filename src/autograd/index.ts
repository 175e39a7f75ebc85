/**
 * Autograd on tensors (DeZero's define-by-run, on this project's kernels): Variables record
 * the operations of F applied to them, and `backward` runs the chain rule through the graph.
 *
 * @example
 * import { Variable, F } from 'backprop-ts';
 * const x = new Variable([[1, 2], [3, 4]], { name: 'x' });
 * const W = new Variable([[0.5], [-1]], { name: 'W' });
 * const loss = F.sum(F.relu(F.matmul(x, W)));
 * loss.backward();
 * W.grad!.data.toArray(); // the gradient ∂loss/∂W
 */
export { Variable, Parameter, asVariable, type VariableLike, type VariableOptions, type BackwardOptions } from './Variable.js';
export { Function, AutogradError, noGrad, isRecording } from './Function.js';
export * as F from './F.js';
export { Model, Linear, Conv2d, type ParamOptions } from './Model.js';
