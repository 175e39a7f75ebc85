import type { ModelSpec } from '../nets/buildNetwork.js';
import type { TrainerState } from '../train/Trainer.js';
import type { DataInfo } from './modelFile.js';

/** What a model file records, as far as exported models carry it. */
export interface TrainingRecord {
  /** The architecture: becomes `architecture`. */
  spec: ModelSpec;
  /** Iterations done and the epoch records: give `iterations` and the last record's accuracies. */
  training?: Pick<TrainerState, 'iteration' | 'history'>;
  /** What the model was trained on: becomes `data`. */
  data?: DataInfo;
  /** The settings of the run: becomes `config`. */
  config?: Record<string, unknown>;
}

/**
 * The training metadata an exported model carries (ONNX metadata_props, TF.js
 * userDefinedMetadata): `architecture` (the ModelSpec as JSON), `data` (what it was trained on,
 * JSON), `train_accuracy` and `test_accuracy` (the last evaluation), `iterations`, `config`
 * (optimizer, learning rate, batch size, seed: JSON). Fields the record lacks are left out.
 *
 * @example
 * exportOnnx(model.network, { metadata: modelMetadata(loadModel('model.safetensors')) });
 */
export function modelMetadata(record: TrainingRecord): Record<string, string> {
  const meta: Record<string, string> = { architecture: JSON.stringify(record.spec) };
  if (record.data) meta.data = JSON.stringify(record.data);
  const last = record.training?.history.at(-1);
  if (last) {
    meta.train_accuracy = String(last.trainAccuracy);
    meta.test_accuracy = String(last.testAccuracy);
  }
  if (record.training) meta.iterations = String(record.training.iteration);
  if (record.config) meta.config = JSON.stringify(record.config);
  return meta;
}
