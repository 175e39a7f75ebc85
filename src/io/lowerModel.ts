/**
 * Lowering an autograd Model for export: one forward pass on a small batch is traced with
 * graph recording on, the recorded graph is walked from the output back to the input, and the
 * chain of Functions found is mapped, in the order they ran, to the exporters' inference
 * operations. What maps:
 * - linear(x, W, b), or matmul(x, W) optionally followed by add(·, b), with W and b Parameters → Gemm;
 * - relu, sigmoid, tanh → Relu, Sigmoid, Tanh;
 * - mul by a constant scalar → Scale (F.dropout with train: false is x · (1 − ratio), the book's rule);
 * - conv2d(x, W, b, stride, pad) (its im2col, matmul, add, reshape, transpose, reshape) → Conv;
 * - batchNorm with { train: false } on (N, D) (its sub, div, mul, add) → BatchNormalization, with
 *   variance = (√(running var + ε))² and ε = 0, since the recorded graph holds the square root;
 * - pooling → MaxPool; reshape (N, …) → (N, −1) → Flatten (a reshape to the same shape is dropped).
 * Anything else (exp, sin, getItem, a product of two computed values, a dropout mask of
 * training mode, a branch or skip connection that a list of operations in sequence cannot
 * express) is an ExportError naming the Function and saying why.
 */
import { Tensor } from '../tensor/Tensor.js';
import { fmtShape } from '../tensor/ShapeError.js';
import { Parameter, Variable } from '../autograd/Variable.js';
import { type Function, withRecording } from '../autograd/Function.js';
import { Model } from '../autograd/Model.js';
import { AutogradTwoLayerNet } from '../nets/AutogradTwoLayerNet.js';
import { ExportError, type InferenceGraph, type InferenceOp, type NamedWeight } from './inferenceGraph.js';

/** The batch of the traced forward pass: 2, so that the batch dimension can be told from a dimension of 1. */
const TRACE_BATCH = 2;

/** What the lowered Functions map to, for error messages. */
const MAPPED = 'linear, matmul by a Parameter (+ add of a Parameter bias), relu, sigmoid, tanh, mul by a constant scalar (dropout at inference), batchNorm at inference, conv2d, pooling, reshape to (N, −1)';

/** Window fields of F.im2col and F.pooling (private to those Functions, read here). */
interface Window { filterH: number; filterW: number; stride: number; pad: number }

/**
 * Lowers an autograd model by tracing `model.forward` on a batch of zeros of shape
 * (2, ...inputShape): the Parameters are the exported weights, named as `model.params()` names them.
 *
 * @param inputShape the per-example input shape (default for an AutogradTwoLayerNet: [inputSize])
 * @throws {ExportError} naming the first Function that does not map, or the missing input shape
 */
export function lowerModel(model: Model, inputShape?: number[]): InferenceGraph {
  const shape = inputShape ?? (model instanceof AutogradTwoLayerNet ? [model.affine1.inSize] : undefined);
  const kind = model.constructor?.name ?? 'Model';
  if (!shape) throw new ExportError(`exporting the autograd ${kind} needs its per-example input shape: give inputShape (e.g. [784] or [1, 28, 28])`);
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) throw new ExportError(`the input shape ${fmtShape(shape)} is not a list of whole numbers > 0`);
  const names = modelTensors(model);
  const like = Object.values(model.params())[0]?.data;
  const x = new Variable(Tensor.zeros([TRACE_BATCH, ...shape], { dtype: like?.dtype, backend: like?.backend }), { name: 'input' });
  // the trace must change nothing: a forward in training mode (batchNorm's running statistics) is put back
  const saved = [...names.keys()].map((t) => [t, t.data.slice()] as const);
  let y: Variable;
  try {
    y = withRecording(true, () => model.forward(x));
  } finally {
    for (const [t, copy] of saved) t.data.set(copy);
  }
  const chain = chainOf(x, y, kind);
  return { name: kind, inputShape: [...shape], ops: mapChain(chain, x, names) };
}

/**
 * Every tensor the model holds, by name: its Parameters' as `params()` names them, other Tensor
 * fields (running statistics; in sub-models, arrays and plain objects too) by field path.
 */
function modelTensors(model: Model): Map<Tensor, string> {
  const out = new Map<Tensor, string>(Object.entries(model.params()).map(([name, p]) => [p.data, name]));
  const visit = (m: object, prefix: string, seen: Set<object>): void => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const [key, value] of Object.entries(m)) {
      if (value instanceof Tensor && !out.has(value)) out.set(value, `${prefix}${key}`);
      else if (value instanceof Model || Array.isArray(value) || (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype)) {
        visit(value, `${prefix}${key}.`, seen); // sub-models, and arrays or plain objects of tensors (running statistics)
      }
    }
  };
  visit(model, '', new Set());
  return out;
}

/** The Functions from x to y in the order they ran, each with its one input that depends on x. */
function chainOf(x: Variable, y: Variable, kind: string): { f: Function; k: number }[] {
  const depends = new Map<Variable, boolean>();
  const dependsOnX = (v: Variable): boolean => {
    const known = depends.get(v);
    if (known !== undefined) return known;
    const d = v === x || (v.creator !== null && v.creator.inputs.some(dependsOnX));
    depends.set(v, d);
    return d;
  };
  if (!(y instanceof Variable)) throw new ExportError(`${kind}.forward did not return a Variable`);
  if (!dependsOnX(y)) throw new ExportError(`${kind}.forward's output does not depend on its input (was it computed under noGrad, or from other data?)`);
  const chain: { f: Function; k: number }[] = [];
  for (let v = y; v !== x;) {
    const f = v.creator!;
    const data = f.inputs.map((u, k) => (dependsOnX(u) ? k : -1)).filter((k) => k >= 0);
    if (data.length !== 1) {
      opError(f, `${data.length} of its inputs come from the model's input (a branch or skip connection), which a sequence of operations cannot express`);
    }
    chain.push({ f, k: data[0] });
    v = f.inputs[data[0]];
  }
  return chain.reverse();
}

/** The error for a Function that does not map: its name, and why. */
function opError(f: Function, why: string): never {
  throw new ExportError(`autograd operation '${f.name}': ${why}`);
}

/** Maps the chain to inference operations, in order. */
function mapChain(chain: { f: Function; k: number }[], x: Variable, names: Map<Tensor, string>): InferenceOp[] {
  const ops: InferenceOp[] = [];
  const counts = new Map<string, number>();
  const nameFor = (kind: string): string => {
    const k = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, k);
    return `${kind}${k}`;
  };
  const weight = (v: Variable, fallback: string): NamedWeight => ({ name: names.get(v.data) ?? fallback, tensor: v.data });
  const isParam = (v: Variable | undefined): v is Parameter => v instanceof Parameter && v.creator === null;
  const fail = opError;
  const dataShape = (i: number): readonly number[] => (i === 0 ? x.shape : chain[i - 1].f.output!.shape);

  for (let i = 0; i < chain.length; i++) {
    const { f, k } = chain[i];
    const next = chain[i + 1]?.f;
    const inShape = dataShape(i);
    switch (f.name) {
      case 'linear':
      case 'matmul': {
        const [, W, b] = f.inputs;
        const { transA, transB } = f as unknown as { transA?: boolean; transB?: boolean };
        if (k !== 0 || transA || transB) fail(f, 'only x · W with the weight W on the right, untransposed, maps to Gemm');
        if (!isParam(W) || W.ndim !== 2) fail(f, `its weight (shape ${fmtShape(W.shape)}) is not a Parameter of the model: a product of computed values does not map to Gemm`);
        const name = nameFor('Linear');
        let bias: Variable | undefined = b;
        if (f.name === 'matmul' && next?.name === 'add') { // matmul + add of a bias: one Gemm
          const other = next.inputs[1 - chain[i + 1].k];
          if (isParam(other) && other.ndim === 1 && other.shape[0] === W.shape[1]) {
            bias = other;
            i++;
          }
        }
        if (bias !== undefined && !isParam(bias)) fail(f, 'its bias is not a Parameter of the model');
        const w = weight(W, `${name}.W`);
        ops.push({ op: 'Gemm', name, W: w, b: bias ? weight(bias, `${name}.b`) : zeroBias(w, W.shape[1]) });
        break;
      }
      case 'relu':
        ops.push({ op: 'Relu', name: nameFor('Relu') });
        break;
      case 'sigmoid':
        ops.push({ op: 'Sigmoid', name: nameFor('Sigmoid') });
        break;
      case 'tanh':
        ops.push({ op: 'Tanh', name: nameFor('Tanh') });
        break;
      case 'mul': {
        const c = f.inputs[1 - k];
        if (c.temporary) fail(f, "multiplies by a dropout mask (F.dropout in training mode): export the model's inference forward (F.dropout with { train: false }, which is x · (1 − ratio))");
        if (c.creator !== null || c.size !== 1) fail(f, `multiplies by a value of shape ${fmtShape(c.shape)}, not a constant scalar: only a constant factor maps (to Mul by a scalar)`);
        ops.push({ op: 'Scale', name: nameFor('Dropout'), factor: c.data.data[0] });
        break;
      }
      case 'reshape': {
        const out = f.output!.shape;
        if (out.length === inShape.length && out.every((d, j) => d === inShape[j])) break; // the same shape: nothing to do
        if (out.length === 2 && out[0] === inShape[0] && inShape.length > 2) {
          ops.push({ op: 'Flatten', name: nameFor('Flatten') });
          break;
        }
        fail(f, `from ${fmtShape(inShape)} to ${fmtShape(out)} (traced on a batch of ${TRACE_BATCH}): only flattening each example, (N, …) → (N, −1), maps`);
        break;
      }
      case 'pooling': {
        const w = (f as unknown as { w: Window }).w;
        ops.push({ op: 'MaxPool', name: nameFor('Pool'), kernel: [w.filterH, w.filterW], stride: w.stride, pad: w.pad });
        break;
      }
      case 'im2col': {
        const conv = convAt(chain, i, weight, nameFor);
        if (!conv) fail(f, 'only as part of F.conv2d (im2col, matmul by the reshaped filters, add of the bias, reshape, transpose, reshape) does it map, to Conv');
        ops.push(conv!.op);
        i += conv!.length - 1;
        break;
      }
      case 'sub': {
        const bn = batchNormAt(chain, i, inShape, weight, nameFor);
        if (!bn) fail(f, 'only as part of F.batchNorm with { train: false } (x − running mean, divided by √(running var + ε), times γ, plus β) does it map, to BatchNormalization');
        ops.push(bn!);
        i += 3;
        break;
      }
      case 'softmax':
      case 'logSoftmax':
        fail(f, 'the forward must return the scores (logits): the exporters add the softmax probabilities themselves');
        break;
      case 'softmaxCrossEntropy':
      case 'meanSquaredError':
        fail(f, 'the forward returns a loss: export a model whose forward returns the scores (logits)');
        break;
      default:
        fail(f, `no ONNX or TF.js operator maps it here (mapped: ${MAPPED})`);
    }
  }
  return ops;
}

/**
 * The Functions F.conv2d records, from chain[i] (im2col): im2col(x) → matmul(col, (reshape W)ᵀ)
 * → [add b] → reshape (N, outH·outW, FN) → transpose (0, 2, 1) → reshape (N, FN, outH, outW).
 * Returns the Conv and how many Functions it covers, or null if the chain is not that.
 */
function convAt(
  chain: { f: Function; k: number }[], i: number,
  weight: (v: Variable, fallback: string) => NamedWeight, nameFor: (kind: string) => string,
): { op: InferenceOp; length: number } | null {
  const at = (j: number, name: string, k = 0): Function | null => (chain[j]?.f.name === name && chain[j].k === k ? chain[j].f : null);
  const im2col = chain[i].f;
  const mm = at(i + 1, 'matmul');
  if (!mm) return null;
  const wt = mm.inputs[1].creator;
  const wr = wt?.name === 'transpose' ? wt.inputs[0].creator : null;
  const W = wr?.name === 'reshape' ? wr.inputs[0] : null;
  if (!(W instanceof Parameter) || W.creator !== null || W.ndim !== 4) return null;
  let j = i + 2;
  let b: Variable | null = null;
  const add = at(j, 'add');
  if (add) {
    b = add.inputs[1];
    if (!(b instanceof Parameter) || b.size !== W.shape[0]) return null;
    j++;
  }
  const r1 = at(j, 'reshape'), t = at(j + 1, 'transpose'), r2 = at(j + 2, 'reshape');
  const axes = (t as unknown as { axes?: readonly number[] } | null)?.axes;
  if (!r1 || !t || !r2 || axes?.join() !== '0,2,1') return null;
  const w = (im2col as unknown as { w: Window }).w;
  const name = nameFor('Conv');
  const filters = weight(W, `${name}.W`);
  const bias = b ? weight(b, `${name}.b`) : zeroBias(filters, W.shape[0]);
  return { op: { op: 'Conv', name, W: filters, b: bias, stride: w.stride, pad: w.pad }, length: j + 3 - i };
}

/**
 * The Functions F.batchNorm records at inference, from chain[i] (sub): sub(x, mean) → div(·, std)
 * → mul(γ, ·) → add(·, β), mean and std constants of (D,), γ and β leaves (or their reshape).
 * Returns the BatchNormalization, or null if the chain is not that.
 */
function batchNormAt(
  chain: { f: Function; k: number }[], i: number, inShape: readonly number[],
  weight: (v: Variable, fallback: string) => NamedWeight, nameFor: (kind: string) => string,
): InferenceOp | null {
  const d = inShape[1];
  const step = (j: number, name: string, first?: number): Variable | null => {
    const c = chain[j];
    if (c?.f.name !== name || (first !== undefined && c.k !== first)) return null;
    const other = c.f.inputs[1 - c.k];
    const leaf = other.creator === null ? other : other.creator.name === 'reshape' && other.creator.inputs[0].creator === null ? other.creator.inputs[0] : null;
    return leaf && !leaf.temporary && leaf.size === d ? leaf : null;
  };
  if (inShape.length !== 2) return null;
  const mean = step(i, 'sub', 0), std = step(i + 1, 'div', 0), gamma = step(i + 2, 'mul'), beta = step(i + 3, 'add');
  if (!mean || !std || !gamma || !beta || mean instanceof Parameter || std instanceof Parameter) return null;
  const name = nameFor('BatchNorm');
  const variance = Tensor.zeros([d], { dtype: 'float64' });
  for (let k = 0; k < d; k++) variance.data[k] = std.data.data[k] * std.data.data[k]; // (√(var + ε))²
  return {
    op: 'BatchNormalization', name, epsilon: 0,
    gamma: weight(gamma, `${name}.gamma`), beta: weight(beta, `${name}.beta`),
    mean: weight(mean, `${name}.runningMean`), variance: { name: `${name}.variance`, tensor: variance },
  };
}

/** A layer without bias (nobias): zeros, named after its weight (fc.W → fc.b). */
function zeroBias(W: NamedWeight, size: number): NamedWeight {
  return { name: W.name.endsWith('.W') ? `${W.name.slice(0, -2)}.b` : `${W.name}.bias`, tensor: Tensor.zeros([size]) };
}
