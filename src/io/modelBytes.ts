/**
 * A model file's contents without the file: the tensors and metadata `saveModel` writes, and
 * the bytes of the .safetensors file. Runs anywhere (the playground's "Download model" uses it).
 */
import type { TensorLike } from './safetensorsBytes.js';
import { serializeSafetensors } from './safetensorsBytes.js';
import type { TrainerState } from '../train/Trainer.js';
import type { ModelSpec, Network } from '../nets/buildNetwork.js';

export const MODEL_FORMAT = 'backprop-model/1';

/** What the CLI records about the data a model was trained on, to evaluate it on the same split. */
export interface DataInfo {
  /** 'bundled' or an IDX directory. */
  source: string;
  trainSize: number;
  testSize: number;
  splitSeed?: number;
}

/** What goes into a model file. */
export interface ModelRecord {
  spec: ModelSpec;
  network: Network;
  /** The run's state, to resume it (`Trainer.getState()`); omit to save the weights alone. */
  training?: TrainerState;
  data?: DataInfo;
  /** The settings of the run (optimizer, batch size, seed, ...), for reports and resuming. */
  config?: Record<string, unknown>;
}

/** The tensors (params, `buffers/…`, `optimizer/<slot>/<param>`) and `__metadata__` strings of a model file. */
export function modelTensors(record: ModelRecord): { tensors: Record<string, TensorLike>; metadata: Record<string, string> } {
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
 * The bytes of the .safetensors file `saveModel` would write for `record`; `loadModel` reads them.
 *
 * @example
 * const bytes = serializeModel({ spec, network: net, data: { source: 'bundled', trainSize: 8000, testSize: 2000, splitSeed: 0 } });
 * new Blob([bytes]);   // a download in a browser
 */
export function serializeModel(record: ModelRecord): Uint8Array {
  const { tensors, metadata } = modelTensors(record);
  return serializeSafetensors(tensors, metadata);
}

/** A network's params, buffers and generators (copies for Sequential-based nets). */
export function networkState(network: Network): TrainerState['network'] {
  return network.getState ? network.getState() : { params: { ...network.params }, buffers: {}, random: {} };
}
