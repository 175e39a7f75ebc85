import { Tensor } from '../tensor/Tensor.js';
import { ShapeError, fmtShape } from '../tensor/ShapeError.js';
import { sameShape } from '../tensor/ops.js';

/** Tensors by parameter name: a network's `params`, or its gradients with the same names. */
export type NamedTensors = { [name: string]: Tensor };

/** The optimizers `createOptimizer` knows, by their lower-case names. */
export type OptimizerName = 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam';

/**
 * Everything an optimizer needs to continue bit-identically: plain JSON-able numbers, plus
 * tensors in `slots` (slot name → parameter name → tensor, e.g. `slots.m.W1` for Adam).
 */
export interface OptimizerState {
  /** Which optimizer the state belongs to. */
  name: OptimizerName;
  /** Its settings (lr, momentum, …) when the state was taken. */
  hyperparameters: Record<string, number>;
  /** Updates made so far (Adam's `iter`, which its bias correction depends on). */
  step: number;
  /** Per-parameter buffers: `v` (Momentum, Nesterov), `h` (AdaGrad, RMSprop), `m` and `v` (Adam). */
  slots: Record<string, NamedTensors>;
}

/**
 * A rule that moves parameters against their gradients, as the book's optimizers:
 * `update(params, grads)` changes every tensor of `params` in place.
 *
 * @example
 * const optimizer = new Adam({ lr: 0.001 });
 * const grads = net.gradient(xBatch, tBatch);
 * optimizer.update(net.params, grads);
 */
export interface Optimizer {
  /** Its name for createOptimizer ('sgd', 'adam', …). */
  readonly name: OptimizerName;
  /** The settings (lr, momentum, …); changing one (a learning-rate schedule) takes effect at the next update. */
  readonly hyperparameters: Record<string, number>;
  /** Updates made so far. */
  readonly step: number;
  /** Moves each parameter one step; `grads` must have exactly the keys and shapes of `params`. */
  update(params: NamedTensors, grads: NamedTensors): void;
  /** A snapshot (copies of the slots) to save and resume from. */
  getState(): OptimizerState;
  /** Continue from a snapshot of an optimizer of the same name (its hyperparameters included). */
  setState(state: OptimizerState): void;
}

/** How each hyperparameter is checked: its default and whether it is a learning rate (> 0), a fraction in [0, 1), or a small positive eps. */
export type HyperparameterSpec = Record<string, { default: number; kind: 'positive' | 'fraction' }>;

/** The book's guard against division by zero in AdaGrad, RMSprop and Adam. */
export const OPTIMIZER_EPS = 1e-7;

/**
 * The machinery every optimizer shares: checked hyperparameters, lazily created slots (zeros
 * shaped like each parameter, on its backend and dtype), the params/grads check, and state.
 * A subclass names its slots and implements `updateParam`.
 */
export abstract class OptimizerBase<H extends Record<string, number>> implements Optimizer {
  /** Its name for createOptimizer ('sgd', 'adam', …). */
  abstract readonly name: OptimizerName;
  readonly hyperparameters: H;
  step = 0;
  private slots: Record<string, NamedTensors> = {};

  /**
   * @param label The class name, for messages.
   * @param spec Each hyperparameter's default and check.
   * @param slotNames The per-parameter buffers the subclass keeps (Momentum's v, Adam's m and v).
   * @param options The hyperparameters given by the user.
   */
  protected constructor(
    private readonly label: string,
    private readonly spec: HyperparameterSpec,
    protected readonly slotNames: readonly string[],
    options: Partial<H>,
  ) {
    this.hyperparameters = checkHyperparameters(label, spec, options) as H;
  }

  /** Moves one parameter W, given its gradient g (all shapes already checked). */
  protected abstract updateParam(key: string, W: Tensor, grad: Tensor): void;

  /** Runs once per update, after `step` is incremented and before the parameters move. */
  protected beforeUpdate(): void {}

  update(params: NamedTensors, grads: NamedTensors): void {
    checkParamsAndGrads(this.label, params, grads);
    checkHyperparameters(this.label, this.spec, this.hyperparameters); // a schedule may have changed them
    this.step++;
    this.beforeUpdate();
    for (const key of Object.keys(params)) this.updateParam(key, params[key], grads[key]);
  }

  /** The buffer `slot` of parameter `key`: zeros like W at first use (the book's `np.zeros_like`). */
  protected slot(slot: string, key: string, W: Tensor): Tensor {
    const bySlot = (this.slots[slot] ??= {});
    const s = bySlot[key];
    if (s) {
      if (!sameShape(s.shape, W.shape)) {
        throw new ShapeError(`${this.label}: the saved slot ${slot} of ${key} has shape ${fmtShape(s.shape)} but ${key} has shape ${fmtShape(W.shape)}`);
      }
      if (s.dtype === W.dtype && s.backend === W.backend) return s;
    }
    // first use, or a restored slot on another backend or dtype: bring it next to W
    const t = s ? s.clone({ dtype: W.dtype, backend: W.backend }) : Tensor.zeros(W.shape, { dtype: W.dtype, backend: W.backend });
    bySlot[key] = t;
    return t;
  }

  getState(): OptimizerState {
    const slots: Record<string, NamedTensors> = {};
    for (const [slot, byKey] of Object.entries(this.slots)) {
      slots[slot] = {};
      for (const [key, t] of Object.entries(byKey)) slots[slot][key] = t.clone();
    }
    return { name: this.name, hyperparameters: { ...this.hyperparameters }, step: this.step, slots };
  }

  setState(state: OptimizerState): void {
    if (state.name !== this.name) {
      throw new RangeError(`${this.label}.setState: the state is for the optimizer '${state.name}', not '${this.name}'`);
    }
    const hyper = checkHyperparameters(this.label, this.spec, state.hyperparameters);
    if (!(Number.isInteger(state.step) && state.step >= 0)) {
      throw new RangeError(`${this.label}.setState: step must be a whole number ≥ 0, got ${state.step}`);
    }
    for (const slot of Object.keys(state.slots ?? {})) {
      if (!this.slotNames.includes(slot)) {
        throw new RangeError(`${this.label}.setState: unknown slot '${slot}' (${this.label} keeps ${this.slotNames.length ? this.slotNames.join(', ') : 'no slots'})`);
      }
      for (const [key, t] of Object.entries(state.slots[slot])) {
        if (!(t instanceof Tensor)) throw new TypeError(`${this.label}.setState: slot ${slot} of ${key} is not a Tensor`);
      }
    }
    Object.assign(this.hyperparameters, hyper);
    this.step = state.step;
    this.slots = {};
    for (const [slot, byKey] of Object.entries(state.slots ?? {})) {
      this.slots[slot] = {};
      for (const [key, t] of Object.entries(byKey)) this.slots[slot][key] = t.clone();
    }
  }
}

/** The hyperparameters with defaults filled in; unknown names and out-of-range values are errors. */
export function checkHyperparameters(label: string, spec: HyperparameterSpec, options: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(options)) {
    if (!(key in spec)) throw new RangeError(`${label}: unknown hyperparameter '${key}' (expected ${Object.keys(spec).join(', ')})`);
  }
  for (const [key, { default: def, kind }] of Object.entries(spec)) {
    const v = options[key] ?? def;
    const ok = typeof v === 'number' && Number.isFinite(v) && (kind === 'positive' ? v > 0 : v >= 0 && v < 1);
    if (!ok) {
      const want = kind === 'positive' ? 'a finite number > 0' : 'a number in [0, 1)';
      throw new RangeError(`${label}: ${key} must be ${want}, got ${String(v)}`);
    }
    out[key] = v as number;
  }
  return out;
}

/** params and grads must name the same tensors with the same shapes and dtypes. */
export function checkParamsAndGrads(label: string, params: NamedTensors, grads: NamedTensors): void {
  const keys = Object.keys(params);
  for (const key of keys) {
    const g = grads[key];
    if (!g) {
      throw new RangeError(`${label}.update: no gradient for the parameter '${key}' (gradients given: ${Object.keys(grads).join(', ') || 'none'})`);
    }
    const W = params[key];
    if (!sameShape(W.shape, g.shape)) {
      throw new ShapeError(`${label}.update: the gradient of ${key} has shape ${fmtShape(g.shape)} but ${key} has shape ${fmtShape(W.shape)}`);
    }
    if (W.dtype !== g.dtype) throw new ShapeError(`${label}.update: ${key} is ${W.dtype} but its gradient is ${g.dtype}`);
  }
  if (Object.keys(grads).length !== keys.length) {
    const extra = Object.keys(grads).filter((k) => !(k in params));
    throw new RangeError(`${label}.update: gradients for unknown parameters: ${extra.join(', ')} (parameters: ${keys.join(', ')})`);
  }
}
