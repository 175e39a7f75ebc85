import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../data/DataError.js';
import { DATASETS, isDatasetName } from '../data/datasets.js';
import { defaultCacheDir, missingDatasetFiles } from '../data/download.js';

/**
 * `--data mnist` and `--data fashion-mnist`: the dataset's cache directory, or a one-line
 * DataError saying how to download it. Any other value is a directory: `undefined`.
 * (A directory called `mnist` in the working directory is `--data ./mnist`.)
 */
export function cachedDatasetDir(data: string): string | undefined {
  if (!isDatasetName(data)) return undefined;
  const dir = join(defaultCacheDir(), data);
  const missing = missingDatasetFiles(data, dir);
  if (missing.length === 0) return dir;
  let local = '';
  try {
    if (statSync(data).isDirectory()) local = ` (for the directory ./${data} here, write --data ./${data})`;
  } catch {
    // no such directory: nothing to point out
  }
  throw new DataError(
    `${DATASETS[data].title} is not downloaded yet (${dir} ${missing.length === DATASETS[data].files.length ? 'has none of its files' : `lacks ${missing.join(', ')}`}): ` +
      `run 'backprop data ${data}' once, or pass --data DIR with the four IDX files${local}`,
  );
}
