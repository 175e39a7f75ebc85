/**
 * Model files on disk (Node): saveModel and loadModel over the format of modelFile.ts
 * (re-exported here), written atomically.
 */
import type { Backend } from '../kernels/Backend.js';
import { modelFromSafetensors, modelTensors, type LoadedModel, type ModelRecord } from './modelFile.js';
import { loadSafetensors, saveSafetensors } from './safetensorsFiles.js';

export { MODEL_FORMAT, serializeModel, parseModel, type DataInfo, type ModelRecord, type LoadedModel } from './modelFile.js';

/**
 * Save a model atomically: a crash mid-save never leaves a broken file where a good one was.
 * The spec is checked against the network first (model, sizes, activation, dropout, batch norm,
 * weight decay, dtype, convolution), so every file written is one loadModel rebuilds; a
 * mismatch is a ModelFileError naming the field, and nothing is written.
 */
export function saveModel(path: string, record: ModelRecord): void {
  const { tensors, metadata } = modelTensors(record, `saveModel ${path}`);
  saveSafetensors(path, tensors, metadata);
}

/**
 * Load a model: the file is validated (sizes, offsets, dtypes) before any tensor is allocated,
 * the architecture is checked field by field, and every tensor's shape against it; errors
 * name the file and the field.
 */
export function loadModel(path: string, options: { backend?: Backend } = {}): LoadedModel {
  return modelFromSafetensors(loadSafetensors(path), path, options);
}
