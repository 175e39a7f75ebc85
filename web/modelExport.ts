/**
 * "Download model": the worker's trained TwoLayerNet as the bytes of a .safetensors model file
 * or an .onnx file, made by the library's own writers (serializeModel, exportOnnx), so a file
 * from the page is the same as one from `backprop train --save` / `backprop export`. Imported
 * by the worker only (the page's main bundle stays without the encoders).
 */
import type { ModelSpec } from '../src/nets/buildNetwork.js';
import { serializeModel, type ModelRecord } from '../src/io/modelFile.js';
import { exportOnnx } from '../src/io/exportOnnx.js';
import { modelMetadata } from '../src/io/exportMetadata.js';
import { MAX_EPOCHS, type ModelFormat } from './protocol.js';
import type { SteppedTrainer } from './trainer.js';

/**
 * The trained net as a model file record: the CLI's architecture for TwoLayerNet, the run's
 * state (so `backprop eval` and `backprop train --resume` read it), and the data split the page
 * trains on (the CLI's: bundled digits, 8,000 / 2,000, split seed 0).
 */
export function modelRecord(t: SteppedTrainer): ModelRecord {
  const spec: ModelSpec = {
    model: 'two-layer', inputSize: t.net.inputSize, outputSize: 10, hidden: [t.settings.hidden], activation: 'relu',
    init: 0.01, weightDecay: 0, dropout: 0, batchNorm: false, dtype: 'float32',
  };
  return {
    spec,
    network: t.net,
    training: t.trainer.getState(),
    data: { source: 'bundled', trainSize: t.data.train.x.shape[0], testSize: t.data.test.x.shape[0], splitSeed: 0 },
    config: {
      optimizer: 'sgd', lr: t.settings.lr, batchSize: t.settings.batchSize, seed: t.seed, splitSeed: 0, epochs: MAX_EPOCHS + 1,
      model: 'two-layer', sampling: 'replacement', trainedIn: 'playground',
    },
  };
}

/** The file's name and bytes: a .safetensors model file, or an .onnx file with the training metadata. */
export function modelFile(t: SteppedTrainer, format: ModelFormat): { fileName: string; bytes: Uint8Array } {
  const record = modelRecord(t);
  const bytes = format === 'onnx' ? exportOnnx(t.net, { metadata: modelMetadata(record) }) : serializeModel(record);
  return { fileName: `backprop-two-layer-${t.net.inputSize}-${t.settings.hidden}-10.${format}`, bytes };
}
