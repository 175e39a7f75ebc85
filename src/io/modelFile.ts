/**
 * Model files: a network's weights, its architecture and (optionally) the state of the run
 * that trained it, in one `.safetensors` file that PyTorch and Hugging Face tools can read.
 *
 * Tensors: the parameters under their book names (`W1`, `b1`, ...), non-parameter buffers as
 * `buffers/<name>` (batch norm's running mean and variance), optimizer slots as
 * `optimizer/<slot>/<param>` (Adam's `m` and `v`). `__metadata__` holds JSON strings:
 * `format` ("backprop-model/1"), `architecture` (the ModelSpec), `training` (where the run
 * stands: iteration, generators, history, ...), `data` (what it was trained on) and `config`.
 *
 * On bytes (browsers too): serializeModel, parseModel. Files (Node): saveModel, loadModel in modelFiles.ts.
 */
import { Tensor } from '../tensor/Tensor.js';
import type { Backend } from '../kernels/Backend.js';
import { Random } from '../random.js';
import { architectureDifferences, architectureOf, buildNetwork, MODEL_KINDS, type ModelSpec, type Network } from '../nets/buildNetwork.js';
import type { NamedTensors } from '../optimizers/Optimizer.js';
import type { TrainerState } from '../train/Trainer.js';
import { briefJson, encode, expectTensors, parseSafetensors, type ExpectedTensors, type SafetensorsFile, type TensorLike } from './safetensors.js';
import { ModelFileError } from './ModelFileError.js';
import { ShapeError } from '../tensor/ShapeError.js';

/** The `format` a model file's `__metadata__` records; loading refuses any other value. */
export const MODEL_FORMAT = 'backprop-model/1';

/** What the CLI records about the data a model was trained on, to evaluate it on the same split. */
export interface DataInfo {
  /** 'bundled' or an IDX directory. */
  source: string;
  /** Images in the training set. */
  trainSize: number;
  /** Images in the test set. */
  testSize: number;
  /** The seed that split the bundled digits into training and test sets (bundled data only). */
  splitSeed?: number;
}

/** What goes into a model file. */
export interface ModelRecord {
  /** The architecture, stored as `architecture`; it must describe `network` (checked). */
  spec: ModelSpec;
  /** The network whose parameters and buffers are saved. */
  network: Network;
  /** The run's state, to resume it (`Trainer.getState()`); omit to save the weights alone. */
  training?: TrainerState;
  /** The data the model was trained on, stored as `data`. */
  data?: DataInfo;
  /** The settings of the run (optimizer, batch size, seed, ...), for reports and resuming. */
  config?: Record<string, unknown>;
}

/** A model read back: the network rebuilt with its weights, and what the file recorded. */
export interface LoadedModel {
  /** The architecture the file records. */
  spec: ModelSpec;
  /** The network built from `spec`, holding the file's weights and buffers. */
  network: Network;
  /** The run's state, if the file has one: give it to `Trainer.setState` to resume. */
  training?: TrainerState;
  /** The data the model was trained on, if recorded. */
  data?: DataInfo;
  /** The settings of the run, if recorded. */
  config?: Record<string, unknown>;
}

/** A model as the tensors and metadata of its safetensors file (the layout above). @internal */
export function modelTensors(record: ModelRecord, where = 'serializeModel'): { tensors: Record<string, TensorLike>; metadata: Record<string, string> } {
  checkRecord(where, record);
  const tensors: Record<string, TensorLike> = {};
  const state = record.training?.network ?? networkState(record.network);
  for (const [name, t] of Object.entries(state.params)) tensors[name] = t;
  for (const [name, t] of Object.entries(state.buffers)) tensors[`buffers/${name}`] = t;
  const metadata: Record<string, string> = { format: MODEL_FORMAT, architecture: JSON.stringify(record.spec) };
  if (record.training) {
    const { network, optimizer, ...rest } = record.training;
    for (const [slot, named] of Object.entries(optimizer.slots)) {
      for (const [param, t] of Object.entries(named)) tensors[`optimizer/${slot}/${param}`] = t;
    }
    const { slots, ...optimizerRest } = optimizer;
    const slotNames = Object.fromEntries(Object.entries(slots).map(([slot, named]) => [slot, Object.keys(named)]));
    metadata.training = JSON.stringify({ ...rest, optimizer: { ...optimizerRest, slotNames }, random: network.random });
  }
  if (record.data) metadata.data = JSON.stringify(record.data);
  if (record.config) metadata.config = JSON.stringify(record.config);
  return { tensors, metadata };
}

/**
 * A model file's bytes (the same as saveModel writes): to download from a page, store or send.
 * The spec is checked against the network first (model, sizes, activation, dropout, batch norm,
 * weight decay, dtype, convolution), so every file made is one parseModel/loadModel rebuilds; a
 * mismatch is a ModelFileError naming the field.
 *
 * @example
 * const bytes = serializeModel({ spec, network: net });   // then parseModel(bytes, 'model.safetensors')
 */
export function serializeModel(record: ModelRecord): Uint8Array {
  const { tensors, metadata } = modelTensors(record);
  return encode(tensors, metadata, 'serializeModel');
}

/**
 * A model read back from a model file's bytes (see loadModel), validated before any tensor is
 * allocated; errors name `name` and the field.
 */
export function parseModel(bytes: Uint8Array, name: string, options: { backend?: Backend } = {}): LoadedModel {
  return modelFromSafetensors(parseSafetensors(bytes, name), name, options);
}

/**
 * A model from a parsed safetensors file: the architecture is checked field by field, and
 * every tensor's shape against it; errors name `path` and the field. @internal
 */
export function modelFromSafetensors(file: SafetensorsFile, path: string, options: { backend?: Backend } = {}): LoadedModel {
  const meta = file.metadata;
  if (meta.format !== MODEL_FORMAT) {
    throw new ModelFileError(`${path}: __metadata__.format is ${meta.format === undefined ? 'missing' : briefJson(meta.format)}, expected "${MODEL_FORMAT}" (not a backprop model file)`);
  }
  const spec = checkSpec(parseJson(path, meta, 'architecture'), `${path}: __metadata__.architecture`);
  const training = meta.training === undefined ? undefined : checkTraining(parseJson(path, meta, 'training'), path);
  // Before building (allocating) the network: a hostile architecture could ask for billions of
  // weights; the file, already checked against its own size, must hold at least that many values.
  const needed = weightCount(spec);
  const held = Object.values(file.tensors).reduce((n, t) => n + t.data.length, 0);
  if (needed > held) {
    throw new ModelFileError(`${path}: __metadata__.architecture needs ${needed} weights but the file holds only ${held} values`);
  }
  let network: Network;
  try {
    network = buildNetwork(spec, { rng: new Random(0), backend: options.backend });
  } catch (e) {
    // fields valid one by one that make no network together: two hidden sizes for two-layer, a filter larger than the image
    if (!(e instanceof RangeError || e instanceof ShapeError)) throw e;
    throw new ModelFileError(`${path}: __metadata__.architecture does not describe a network: ${e.message}`, { cause: e });
  }
  const state = networkState(network);

  const expected: Record<string, ExpectedTensors[string]> = {};
  for (const [name, t] of Object.entries(state.params)) expected[name] = { shape: t.shape, dtype: t.dtype };
  for (const [name, t] of Object.entries(state.buffers)) expected[`buffers/${name}`] = { shape: t.shape, dtype: t.dtype };
  if (training) {
    const slotNames = training.optimizer.slotNames;
    for (const [slot, params] of Object.entries(slotNames)) {
      // a list of distinct names: each becomes one slot tensor, so a name repeated a million times must not become a million tensors
      if (!Array.isArray(params) || !params.every((p) => typeof p === 'string') || new Set(params).size !== params.length) {
        throw new ModelFileError(`${path}: __metadata__.training.optimizer.slotNames.${slot} must be a list of distinct parameter names`);
      }
      for (const p of params) {
        if (!Object.hasOwn(state.params, p)) throw new ModelFileError(`${path}: optimizer slot ${slot} names parameter '${p}', which the architecture lacks`);
        expected[`optimizer/${slot}/${p}`] = { shape: state.params[p].shape, dtype: state.params[p].dtype };
      }
    }
    if (training.random !== undefined) checkRandomStates(path, training.random, Object.keys(state.random));
  }
  expectTensors(file, expected, path);

  const take = (name: string, into: Tensor): void => into.data.set(file.tensors[name].data as Float32Array | Float64Array);
  for (const [name, t] of Object.entries(state.params)) take(name, t);
  for (const [name, t] of Object.entries(state.buffers)) take(`buffers/${name}`, t);
  network.setState?.({ params: state.params, buffers: state.buffers, random: training?.random ?? networkState(network).random });
  if (!network.setState) for (const [name, t] of Object.entries(state.params)) network.params[name].data.set(t.data);

  const result: LoadedModel = { spec, network };
  if (training) {
    const { slotNames, ...optimizer } = training.optimizer;
    const slots: Record<string, NamedTensors> = {};
    for (const [slot, params] of Object.entries(slotNames)) {
      slots[slot] = {};
      for (const p of params) {
        const t = Tensor.zeros(state.params[p].shape, { dtype: spec.dtype, backend: options.backend });
        take(`optimizer/${slot}/${p}`, t);
        slots[slot][p] = t;
      }
    }
    const { random, ...rest } = training;
    result.training = { ...rest, optimizer: { ...optimizer, slots }, network: { params: state.params, buffers: state.buffers, random } } as TrainerState;
  }
  if (meta.data !== undefined) result.data = parseJson(path, meta, 'data') as DataInfo;
  if (meta.config !== undefined) result.config = parseJson(path, meta, 'config') as Record<string, unknown>;
  return result;
}

/** Refuse a spec that is malformed or does not describe the network, or a training state of other shapes. */
function checkRecord(where: string, record: ModelRecord): void {
  const { spec, network } = record;
  checkSpec(spec, `${where}: spec`);
  const architecture = architectureOf(network);
  const kind = (network as object).constructor?.name ?? 'network';
  if (!architecture) {
    throw new ModelFileError(`${where}: the network is a ${kind}; a model file holds a TwoLayerNet, MultiLayerNet or SimpleConvNet (what buildNetwork builds from a spec); nothing was written`);
  }
  const differences = architectureDifferences(spec, architecture);
  if (differences.length > 0) {
    const list = differences.map(([field, given, actual]) => `spec.${field} is ${JSON.stringify(given)} but the network has ${JSON.stringify(actual)}`);
    throw new ModelFileError(`${where}: the spec does not match the network (a ${kind}): ${list.join('; ')}; nothing was written`);
  }
  const params = record.training?.network.params;
  for (const [name, t] of Object.entries(params ?? {})) {
    const own = network.params[name];
    if (!own || own.shape.join() !== t.shape.join()) {
      throw new ModelFileError(`${where}: the training state's parameter '${name}' ${own ? `has shape [${t.shape}] but the network's has [${own.shape}]` : 'is not one of the network\'s'}; nothing was written`);
    }
  }
}

/** The training state as stored in the metadata: tensors replaced by the names of their slots. */
type StoredTraining = Omit<TrainerState, 'network' | 'optimizer'> & {
  optimizer: Omit<TrainerState['optimizer'], 'slots'> & { slotNames: Record<string, string[]> };
  random: TrainerState['network']['random'];
};

/** The number of weights in a spec's weight matrices and filters (a lower bound on its parameters). */
function weightCount(spec: ModelSpec): number {
  if (spec.model !== 'cnn') {
    const sizes = [spec.inputSize, ...spec.hidden, spec.outputSize];
    return sizes.slice(1).reduce((n, size, i) => n + sizes[i] * size, 0);
  }
  const [c, h, w] = spec.inputDim!;
  const { filterNum, filterSize, pad, stride } = spec.conv!;
  const outH = Math.floor((h + 2 * pad - filterSize) / stride) + 1;
  const outW = Math.floor((w + 2 * pad - filterSize) / stride) + 1;
  const pooled = filterNum * Math.floor(outH / 2) * Math.floor(outW / 2);
  return filterNum * c * filterSize * filterSize + pooled * spec.hidden[0] + spec.hidden[0] * spec.outputSize;
}

/** A network's params, buffers and generators (copies for Sequential-based nets). */
function networkState(network: Network): TrainerState['network'] {
  return network.getState ? network.getState() : { params: { ...network.params }, buffers: {}, random: {} };
}

function parseJson(path: string, meta: Record<string, string>, field: string): unknown {
  const text = meta[field];
  if (text === undefined) throw new ModelFileError(`${path}: __metadata__.${field} is missing`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${path}: __metadata__.${field} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Check the stored training state field by field, so that resuming it (Trainer.setState) meets
 * the types it expects; the optimizer's slot names and the generators are checked against the
 * network once it is built.
 */
function checkTraining(raw: unknown, path: string): StoredTraining {
  const bad = (field: string, why: string): never => {
    throw new ModelFileError(`${path}: __metadata__.training${field ? `.${field}` : ''} ${why}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const count = (v: unknown, min = 0): boolean => Number.isSafeInteger(v) && (v as number) >= min;
  const numberOrNull = (v: unknown): boolean => v === null || typeof v === 'number'; // JSON writes NaN as null
  if (!isObject(raw)) return bad('', 'must be an object');
  const t = raw;
  if (t.version !== 1) bad('version', `is ${briefJson(t.version)}, expected 1`);
  for (const [k, min] of [['iteration', 0], ['maxIter', 0], ['iterPerEpoch', 1], ['miniBatchSize', 1], ['lossCount', 0]] as const) {
    if (!count(t[k], min)) bad(k, `must be a whole number ≥ ${min}, got ${briefJson(t[k])}`);
  }
  for (const k of ['epoch', 'lossSum', 'seconds']) if (!numberOrNull(t[k])) bad(k, `must be a number, got ${briefJson(t[k])}`);
  if (t.sampling !== 'replacement' && t.sampling !== 'shuffle') bad('sampling', `is ${briefJson(t.sampling)}, expected replacement or shuffle`);
  if (!Array.isArray(t.lossList) || !t.lossList.every(numberOrNull)) bad('lossList', 'must be a list of numbers');
  if (!Array.isArray(t.history) || !t.history.every((r) => isObject(r) && Object.values(r).every(numberOrNull))) bad('history', 'must be a list of records of numbers');
  if (t.order !== undefined) {
    // a permutation of the training rows, 0 .. n−1 each once: batches are gathered by these indices
    const order = t.order;
    const seen = new Uint8Array(Array.isArray(order) ? order.length : 0);
    if (!Array.isArray(order) || !order.every((i) => count(i) && i < seen.length && seen[i] === 0 && (seen[i] = 1))) bad('order', 'must be a permutation of the training rows 0 .. n−1');
    if (!count(t.cursor) || (t.cursor as number) > (order as unknown[]).length) bad('cursor', `must be a whole number from 0 to the length of order, got ${briefJson(t.cursor)}`);
  }
  if (!isRandomState(t.rng)) bad('rng', RANDOM_STATE);
  const o = t.optimizer;
  if (!isObject(o)) return bad('optimizer', 'must be an object');
  if (typeof o.name !== 'string') bad('optimizer.name', `must be an optimizer's name, got ${briefJson(o.name)}`);
  if (!count(o.step)) bad('optimizer.step', `must be a whole number ≥ 0, got ${briefJson(o.step)}`);
  if (!isObject(o.hyperparameters) || !Object.values(o.hyperparameters).every((v) => typeof v === 'number')) bad('optimizer.hyperparameters', 'must be an object of numbers');
  if (!isObject(o.slotNames)) bad('optimizer.slotNames', 'is missing');
  return t as unknown as StoredTraining;
}

/** What a generator's stored state must be, for messages. */
const RANDOM_STATE = 'must be {"s": four 32-bit words, not all zero, "spare": a number or null}';

/** Whether `r` is a generator's state (Random.getState()): four 32-bit words, not all zero, and a spare normal or null. */
function isRandomState(r: unknown): boolean {
  const { s, spare } = (typeof r === 'object' && r !== null ? r : {}) as { s?: unknown; spare?: unknown };
  const isWord = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
  return Array.isArray(s) && s.length === 4 && s.every(isWord) && s.some((v) => v !== 0) && (spare === null || Number.isFinite(spare));
}

/** Check the stored state of each of the network's random generators (`names`). */
function checkRandomStates(path: string, random: unknown, names: string[]): void {
  for (const name of names) {
    const r = typeof random === 'object' && random !== null && Object.hasOwn(random, name) ? (random as Record<string, unknown>)[name] : undefined;
    if (!isRandomState(r)) throw new ModelFileError(`${path}: __metadata__.training.random.${name} ${RANDOM_STATE}`);
  }
}

/** Check every field of an architecture, naming the first that is wrong (as `${where}.${field}`). */
function checkSpec(raw: unknown, where: string): ModelSpec {
  const bad = (field: string, why: string): never => {
    throw new ModelFileError(`${where}${field ? `.${field}` : ''} ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', 'must be an object');
  const s = raw as Record<string, unknown>;
  const posInt = (v: unknown, max = 1e6): boolean => Number.isInteger(v) && (v as number) > 0 && (v as number) <= max;
  if (!MODEL_KINDS.includes(s.model as never)) bad('model', `is ${briefJson(s.model)}, expected one of ${MODEL_KINDS.join(', ')}`);
  if (!posInt(s.inputSize)) bad('inputSize', `must be a whole number in 1..1000000, got ${briefJson(s.inputSize)}`);
  if (!posInt(s.outputSize, 1e5)) bad('outputSize', `must be a whole number in 1..100000, got ${briefJson(s.outputSize)}`);
  if (!Array.isArray(s.hidden) || s.hidden.length === 0 || s.hidden.length > 100 || !s.hidden.every((h) => posInt(h, 1e5))) {
    bad('hidden', `must be a list of 1..100 whole numbers in 1..100000, got ${briefJson(s.hidden)}`);
  }
  if (!['relu', 'sigmoid', 'tanh'].includes(s.activation as string)) bad('activation', `is ${briefJson(s.activation)}, expected relu, sigmoid or tanh`);
  if (!(typeof s.init === 'number' ? s.init > 0 && Number.isFinite(s.init) : ['relu', 'he', 'sigmoid', 'xavier'].includes(s.init as string))) {
    bad('init', `is ${briefJson(s.init)}, expected a number > 0 or he, relu, xavier, sigmoid`);
  }
  if (!(typeof s.weightDecay === 'number' && s.weightDecay >= 0)) bad('weightDecay', `must be a number ≥ 0, got ${briefJson(s.weightDecay)}`);
  if (!(typeof s.dropout === 'number' && s.dropout >= 0 && s.dropout < 1)) bad('dropout', `must be a number in [0, 1), got ${briefJson(s.dropout)}`);
  if (typeof s.batchNorm !== 'boolean') bad('batchNorm', `must be true or false, got ${briefJson(s.batchNorm)}`);
  if (s.dtype !== 'float32' && s.dtype !== 'float64') bad('dtype', `is ${briefJson(s.dtype)}, expected float32 or float64`);
  if (s.model === 'cnn') {
    const c = s.conv as Record<string, unknown> | undefined;
    if (typeof c !== 'object' || c === null) bad('conv', 'is missing (a cnn needs filterNum, filterSize, pad, stride)');
    for (const k of ['filterNum', 'filterSize', 'stride']) if (!posInt(c![k], 10000)) bad(`conv.${k}`, `must be a whole number in 1..10000, got ${briefJson(c![k])}`);
    if (!(Number.isInteger(c!.pad) && (c!.pad as number) >= 0 && (c!.pad as number) < 1000)) bad('conv.pad', `must be a whole number ≥ 0, got ${briefJson(c!.pad)}`);
    const d = s.inputDim;
    if (!Array.isArray(d) || d.length !== 3 || !d.every((v) => posInt(v, 10000))) bad('inputDim', `must be three whole numbers (C, H, W), got ${briefJson(d)}`);
    const values = (d as number[]).reduce((n, v) => n * v, 1);
    if (s.inputSize !== values) bad('inputSize', `is ${s.inputSize}, but inputDim ${briefJson(d)} holds ${values} values`);
  }
  return s as unknown as ModelSpec;
}
