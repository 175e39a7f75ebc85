import type { Tensor } from '../tensor/Tensor.js';
import { fmtShape } from '../tensor/ShapeError.js';
import { recycle } from './pool.js';
import { Variable } from './Variable.js';

let recording = true;
/** While a backward pass that frees its temporaries runs: the fresh results made by its functions' backward. */
let scratch: Variable[] | null = null;

/** Starts collecting the fresh results functions make (one function's backward); returns what to pass to endTemporaries. */
export function beginTemporaries(): Variable[] | null {
  const before = scratch;
  scratch = [];
  return before;
}

/** Stops collecting and returns what was collected since beginTemporaries: the caller frees those no gradient holds. */
export function endTemporaries(before: Variable[] | null): Variable[] {
  const collected = scratch ?? [];
  scratch = before;
  return collected;
}

/** Whether operations record the graph now (false inside `noGrad`, and during a backward pass without `createGraph`). */
export function isRecording(): boolean {
  return recording;
}

/** Turns graph recording on or off; returns the previous setting, to restore. */
export function setRecording(on: boolean): boolean {
  const before = recording;
  recording = on;
  return before;
}

/** Runs fn with graph recording on or off, restoring the previous setting afterwards. */
export function withRecording<T>(on: boolean, fn: () => T): T {
  const before = setRecording(on);
  try {
    return fn();
  } finally {
    recording = before;
  }
}

/**
 * Runs fn without recording anything (inference, or updating parameters): its results have no
 * creator and keep no graph alive.
 *
 * @example
 * const scores = noGrad(() => model.forward(x)); // scores.creator === null
 */
export function noGrad<T>(fn: () => T): T {
  return withRecording(false, fn);
}

/** A mistake in using autograd: backward on a non-scalar without a gradient, createGraph through an op that cannot. */
export class AutogradError extends Error {
  /** 'AutogradError'. */
  override name = 'AutogradError';
}

/**
 * One operation of the graph (DeZero's Function): `forward` computes on tensors, `backward`
 * maps the output's gradient to one gradient per input (null where an input needs none),
 * written with autograd operations so that, recorded, it can be differentiated again.
 * `apply` runs forward and, while recording, links the output to this function.
 */
export abstract class Function {
  /** The operation's name in F and in error messages: 'add', 'matmul', 'softmaxCrossEntropy'. */
  abstract get name(): string;
  /** What a picture writes in the node (the book's symbols: +, ×, exp); the name if not overridden. */
  get symbol(): string {
    return this.name;
  }
  /** False for an op whose backward runs on tensors only: backward({ createGraph: true }) through it is an error. */
  get supportsCreateGraph(): boolean {
    return true;
  }
  // The fields below start on the prototype (see after the class) and become the instance's own
  // when the graph is recorded: no per-instance initializers on the hot path of every operation.
  /** The input variables (recorded). */
  declare inputs: readonly Variable[];
  /** The output variable (recorded), or null. */
  declare output: Variable | null;
  /** The longest path from a leaf: backward runs functions from the highest generation down. */
  declare generation: number;
  /** The gradients this function passed to each input in the last backward with `retainGrad` (for pictures). */
  declare inputGrads: readonly (Variable | null)[] | null;

  /** Computes the output from the inputs' tensors. */
  abstract forward(...xs: Tensor[]): Tensor;

  /** The gradient of each input, given the output's gradient `gy`. */
  abstract backward(gy: Variable): (Variable | null)[];

  /** Runs forward on the inputs and, when recording and some input needs a gradient, records the graph. */
  apply(...inputs: Variable[]): Variable {
    for (const v of inputs) {
      if (v.released) {
        throw new AutogradError(
          `${this.name}: an input of shape ${fmtShape(v.shape)} is an intermediate result of a step whose memory cleargrad() or Model.cleargrads() handed on; ` +
            'to keep a value for later steps, copy it before cleargrads: new Variable(v.data.clone())',
        );
      }
    }
    const y = Variable.result(this.forward(...inputs.map((v) => v.data)));
    if (scratch && !inputs.some((v) => v.data.storage === y.data.storage)) scratch.push(y); // fresh, not a view
    if (recording && inputs.some((v) => v.requiresGrad)) {
      this.inputs = inputs;
      this.output = y;
      this.generation = Math.max(...inputs.map((v) => v.generation));
      y.creator = this;
      y.generation = this.generation + 1;
      y.requiresGrad = true;
    }
    return y;
  }

  /**
   * Gives the output's storage back for the next step's operations (see pool.ts; the js backend
   * lets the garbage collector do it), unless it is a view of an input's. Called by Model.cleargrads
   * on the graph of the last backward (keeping the output of its last function, the loss).
   * Subclasses that keep tensors of their own free those too.
   */
  release(keepOutput = false): void {
    for (const x of this.inputs) {
      if (x.temporary && !x.released) { // a constant the operation made for this graph (a dropout mask)
        x.released = true;
        recycle(x.data);
      }
    }
    const out = this.output;
    if (keepOutput || !out || this.inputs.some((x) => x.data.storage === out.data.storage)) return;
    out.released = true;
    recycle(out.data);
  }

  /** Whether input k takes part in differentiation (a constant input's gradient is skipped). */
  protected needsGrad(k: number): boolean {
    return this.inputs[k].requiresGrad;
  }
}

Object.assign(Function.prototype, { inputs: Object.freeze([]), output: null, generation: 0, inputGrads: null });
