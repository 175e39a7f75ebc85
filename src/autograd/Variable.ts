import type { Backend, DType, Storage } from '../kernels/Backend.js';
import { Tensor, type NestedArray } from '../tensor/Tensor.js';
import { getBackend } from '../kernels/registry.js';
import { pooledTensor, recycle } from './pool.js';
import { formatShape } from '../graph/format.js';
import { AutogradError, type Function, beginTemporaries, endTemporaries, setRecording } from './Function.js';
import * as F from './F.js';

/** What every operation accepts where a value is expected: a Variable, a Tensor, a number or nested arrays. */
export type VariableLike = Variable | Tensor | NestedArray;

/** How `new Variable(data, options)` stores its data. */
export interface VariableOptions {
  /** A name for pictures and messages (`x`, `W1`). */
  name?: string;
  /** 'float32' (default for numbers and arrays; a Tensor keeps its own) or 'float64' (gradient checks). */
  dtype?: DType;
  /** The backend of new storage (default: the current one). */
  backend?: Backend;
}

/** How backward runs. */
export interface BackwardOptions {
  /** Keep the gradients of intermediate variables (default: only the leaves keep theirs). */
  retainGrad?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated again (higher-order derivatives). */
  createGraph?: boolean;
}

/**
 * A tensor that records the operations applied to it (DeZero's Variable): `data` is the
 * value, `grad` the gradient after `backward`, `creator` the operation that made it.
 *
 * @example
 * const x = new Variable(3, { dtype: 'float64' });
 * const y = x.mul(x).add(x);   // y = x² + x
 * y.backward();
 * x.grad!.data.data[0];        // 7 = 2x + 1
 */
export class Variable {
  /** The value. */
  readonly data: Tensor;
  /** ∂(output of the last backward)/∂this, or null. */
  grad: Variable | null = null;
  /** A name for pictures and messages (`x`, `W1`), or undefined. */
  name: string | undefined;
  /** The operation that computed this variable (null for a leaf, a constant, or under noGrad). */
  creator: Function | null = null;
  /** One more than the creator's generation (0 for a leaf). */
  generation = 0;
  /** Whether gradients flow to this variable: true for variables you make, false for constants and results of constants only. */
  requiresGrad = true;
  /** True once Model.cleargrads gave this intermediate result's storage back: using it again is an error that says so. */
  released = false;
  /** @internal A constant an operation made for one graph only (a dropout mask): released with the graph. */
  temporary = false;
  /** @internal The storage of the gradient Model.cleargrads took away, for the next backward to write into. */
  spareGrad: Tensor | null = null;
  /** @internal The functions of the last backward that reached this leaf (without retainGrad or createGraph), for Model.cleargrads to release. */
  lastGraph: { functions: Function[]; root: Function; released: boolean; kept: Storage | null } | null = null;

  constructor(data: Tensor | NestedArray, options: VariableOptions = {}) {
    if (data instanceof Tensor) {
      this.data = options.dtype && options.dtype !== data.dtype ? data.clone({ dtype: options.dtype }) : data;
    } else {
      this.data = Tensor.from(data, undefined, { dtype: options.dtype, backend: options.backend });
    }
    this.name = options.name;
  }

  /** @internal An operation's output: requiresGrad is set by Function.apply. */
  static result(data: Tensor): Variable {
    const v = new Variable(data);
    v.requiresGrad = false;
    return v;
  }

  /** A constant: a value that takes part in operations but gets no gradient. */
  static constant(data: Tensor | NestedArray, options: VariableOptions = {}): Variable {
    const v = new Variable(data, options);
    v.requiresGrad = false;
    return v;
  }

  /** The shape of the data. */
  get shape(): readonly number[] {
    return this.data.shape;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.data.ndim;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.size;
  }

  /** 'float32' or 'float64'. */
  get dtype(): DType {
    return this.data.dtype;
  }

  /** @internal Copies the data to the js backend and frees the old storage (Model.cleargrads does it to the loss). */
  moveToJs(): void {
    const old = this.data;
    if (old.backend.name === 'js' || !(old.backend as { free?: unknown }).free) return;
    (this as { data: Tensor }).data = old.clone({ backend: getBackend('js') });
    recycle(old);
  }

  /** @internal The spare gradient storage if it fits `shape` (then no longer spare), else null. */
  takeSpareGrad(shape: readonly number[]): Tensor | null {
    const t = this.spareGrad;
    this.spareGrad = null;
    if (t) spareStorages.delete(t.storage);
    return t && t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) ? t : null;
  }

  /**
   * Forget the gradient (before the next backward, which would add to it). On a leaf after a
   * backward without retainGrad or createGraph, the last step's storage is handed on to the
   * next step (on the wasm backend; see pool.ts), so a training loop makes no new storage: the
   * intermediate results of the graph (not its output, the loss, which stays readable) for the
   * next step's operations to write into, and the gradient's storage for the next gradient.
   * Using one of those intermediate results in an operation afterwards is an error that says
   * so; a gradient tensor kept from the last step is overwritten. (Model.cleargrads does this
   * for every parameter.)
   */
  cleargrad(): void {
    const grad = this.grad;
    const graph = this.lastGraph;
    this.grad = null;
    this.lastGraph = null;
    if (!graph) return;
    if (!graph.released) {
      graph.released = true;
      for (const f of graph.functions) f.release(f === graph.root);
      graph.root.output?.moveToJs(); // the loss stays readable, in JS memory
    }
    const s = grad?.data.storage;
    if (grad && s && !grad.creator && s !== this.data.storage && s !== graph.kept && !spareStorages.has(s)) {
      if (this.spareGrad) recycleSpare(this.spareGrad);
      this.spareGrad = grad.data; // the next backward writes the new gradient here
      spareStorages.add(s);
    }
  }

  /**
   * Backpropagation from this variable: every function of its graph runs its backward once,
   * from the output towards the inputs (highest generation first), and each input's gradient
   * accumulates over its uses (x·x gives 2x). The output must be a scalar unless `grad` is set.
   */
  backward(options: BackwardOptions = {}): void {
    const { retainGrad = false, createGraph = false } = options;
    const userGrad = this.grad !== null;
    if (this.grad === null) {
      if (this.size !== 1) {
        throw new AutogradError(
          `backward: the output has shape ${formatShape(this.shape)}, not a scalar, and no gradient; ` +
            `reduce it first (y.sum().backward()) or set y.grad to a Variable of shape ${formatShape(this.shape)}`,
        );
      }
      const one = pooledTensor(this.shape, this.data) ?? Tensor.zeros(this.shape, { dtype: this.dtype, backend: this.data.backend });
      one.data.fill(1);
      this.grad = Variable.constant(one);
    }
    // Without retainGrad or createGraph, the storage of an intermediate gradient is freed as soon
    // as no gradient holds it any more (a wasm backend reclaims it now rather than at the next GC).
    const recycle = !retainGrad && !createGraph ? new GradientStorage() : null;
    if (recycle && this.creator) recycle.hold(this.grad, userGrad);
    const kept = userGrad ? this.grad!.data.storage : null; // the caller's gradient: never reused
    const queue = new BackwardQueue();
    if (this.creator) queue.push(this.creator);
    const wasRecording = setRecording(createGraph);
    try {
      for (let f = queue.pop(); f; f = queue.pop()) backwardStep(f, queue, recycle, createGraph, retainGrad);
    } finally {
      setRecording(wasRecording);
    }
    if (recycle && this.creator) {
      const graph = { functions: queue.order, root: this.creator, released: false, kept };
      for (const f of queue.order) for (const x of f.inputs) if (x.creator === null && x.requiresGrad) x.lastGraph = graph;
    }
  }

  /** For printing: the name, shape, dtype and values. */
  toString(): string {
    return `Variable(${this.name ? `${this.name}, ` : ''}${formatShape(this.shape)}, ${this.dtype}) ${JSON.stringify(this.data.toArray())}`;
  }

  /** this + y, broadcasting. */
  add(y: VariableLike): Variable { return F.add(this, y); }
  /** this − y, broadcasting. */
  sub(y: VariableLike): Variable { return F.sub(this, y); }
  /** this · y element-wise, broadcasting. */
  mul(y: VariableLike): Variable { return F.mul(this, y); }
  /** this / y, broadcasting. */
  div(y: VariableLike): Variable { return F.div(this, y); }
  /** −this. */
  neg(): Variable { return F.neg(this); }
  /** this^c for a constant c. */
  pow(c: number): Variable { return F.pow(this, c); }
  /** eˣ. */
  exp(): Variable { return F.exp(this); }
  /** ln x. */
  log(): Variable { return F.log(this); }
  /** tanh x. */
  tanh(): Variable { return F.tanh(this); }
  /** The matrix product this · w. */
  matmul(w: VariableLike): Variable { return F.matmul(this, w); }
  /** The sum over `axis` (all axes when omitted). */
  sum(axis?: number | readonly number[] | null, keepdims = false): Variable { return F.sum(this, axis, keepdims); }
  /** The mean over `axis` (all axes when omitted). */
  mean(axis?: number | readonly number[] | null, keepdims = false): Variable { return F.mean(this, axis, keepdims); }
  /** The same elements with another shape (one dimension may be −1). */
  reshape(...shape: number[]): Variable { return F.reshape(this, shape); }
  /** The axes permuted (reversed when none are given). */
  transpose(...axes: number[]): Variable { return F.transpose(this, axes.length ? axes : undefined); }
  /** The transpose (axes reversed). */
  get T(): Variable { return F.transpose(this); }
}

/** Storages that are some leaf's spare gradient (one leaf each). */
const spareStorages = new WeakSet<Storage>();

/** A spare gradient nobody took goes to the pool. */
function recycleSpare(t: Tensor): void {
  spareStorages.delete(t.storage);
  recycle(t);
}

/** The functions still to run in a backward pass, the highest generation last, each once. */
class BackwardQueue {
  private readonly pending: Function[] = [];
  private readonly seen = new Set<Function>();
  /** Every function queued, in the order they were first met. */
  readonly order: Function[] = [];

  push(f: Function): void {
    if (this.seen.has(f)) return;
    this.seen.add(f);
    this.order.push(f);
    const pending = this.pending;
    let k = pending.length; // insertion keeps pending sorted by generation
    pending.push(f);
    while (k > 0 && pending[k - 1].generation > f.generation) {
      pending[k] = pending[k - 1];
      k--;
    }
    pending[k] = f;
  }

  pop(): Function | undefined {
    return this.pending.pop();
  }
}

/**
 * One function's part of backward: its local rule on its output's gradient, each input's
 * gradient accumulated (x·x gives 2x), then (without retainGrad) the output's gradient freed.
 */
function backwardStep(f: Function, queue: BackwardQueue, recycle: GradientStorage | null, createGraph: boolean, retainGrad: boolean): void {
  const y = f.output!;
  if (createGraph && !f.supportsCreateGraph) {
    throw new AutogradError(`backward: ${f.name} does not support createGraph (its backward runs on tensors only, so it cannot be differentiated again)`);
  }
  const before = recycle ? beginTemporaries() : null;
  let gxs: (Variable | null)[];
  let temporaries: Variable[] | null = null;
  try {
    gxs = f.backward(y.grad!);
  } finally {
    if (recycle) temporaries = endTemporaries(before);
  }
  for (let k = 0; k < f.inputs.length; k++) {
    const x = f.inputs[k], gx = gxs[k];
    if (!gx || !x.requiresGrad) continue;
    if (x.grad === null) {
      x.grad = gx;
    } else {
      const previous = x.grad;
      x.grad = F.add(previous, gx); // accumulate: an input used twice gets both contributions
      recycle?.drop(previous);
    }
    recycle?.hold(x.grad);
    if (x.creator) queue.push(x.creator);
  }
  if (temporaries) for (const v of temporaries) recycle!.freeUnheld(v); // what the backward made on the way
  if (retainGrad) {
    f.inputGrads = gxs;
  } else {
    recycle?.drop(y.grad!);
    y.grad = null; // as DeZero: only leaves keep their gradients (the output's too is cleared)
  }
}

/**
 * The gradients of one backward pass that hold each storage: when the last one lets go of a
 * storage the pass made, it goes back to its backend (WasmBackend.free) instead of waiting for
 * the garbage collector (see pool.ts). A Function's backward returns new tensors or views of
 * its gy, never forward tensors, so a storage that only gradients hold is free once they are gone.
 */
class GradientStorage {
  private readonly holders = new Map<Storage, number>();
  private readonly kept = new Set<Storage>();

  /** One more gradient holds v's storage; `keep` marks a storage this pass must never free (a gradient the caller set). */
  hold(v: Variable, keep = false): void {
    const s = v.data.storage;
    this.holders.set(s, (this.holders.get(s) ?? 0) + 1);
    if (keep) this.kept.add(s);
  }

  /** Frees v's storage (a temporary of a backward) unless a gradient holds it. */
  freeUnheld(v: Variable): void {
    const s = v.data.storage;
    if (!this.holders.has(s) && !this.kept.has(s)) recycle(v.data);
  }

  /** One gradient fewer holds v's storage; frees it when none is left. */
  drop(v: Variable): void {
    const s = v.data.storage;
    const n = (this.holders.get(s) ?? 0) - 1;
    if (n > 0) {
      this.holders.set(s, n);
      return;
    }
    this.holders.delete(s);
    if (n === 0 && !this.kept.has(s)) recycle(v.data);
  }
}

/**
 * A trainable variable: what `Model.params()` collects and the optimizers update.
 *
 * @example const W = new Parameter(Tensor.zeros([784, 50]), { name: 'W1' });
 */
export class Parameter extends Variable {}

/**
 * v as a Variable: a Variable as is; a Tensor, number or nested array as a constant, stored
 * like `like` (same dtype and backend) when given.
 */
export function asVariable(v: VariableLike, like?: Variable | Tensor): Variable {
  if (v instanceof Variable) return v;
  if (v instanceof Tensor) return Variable.constant(v);
  const t = like instanceof Variable ? like.data : like;
  // a number is a 0-D constant that only broadcasts: kept in JS memory, out of a wasm heap's way
  const backend = typeof v === 'number' ? getBackend('js') : t?.backend;
  return Variable.constant(v, t ? { dtype: t.dtype, backend } : { backend });
}

/** The operands as Variables, constants stored like the first Variable or Tensor among them. */
export function asVariables(...vs: VariableLike[]): Variable[] {
  const like = vs.find((v): v is Variable | Tensor => v instanceof Variable || v instanceof Tensor);
  return vs.map((v) => asVariable(v, like));
}
