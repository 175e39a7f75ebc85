/**
 * The datasets `backprop data` can download: where each is served, and the checksum, size and
 * contents of each of its four files. This is the one table of them in the source.
 *
 * Pure data with no Node imports; the downloader is `download.ts`.
 */

/** One IDX file of a dataset, as its publishers distribute it (gzipped). */
export interface DatasetFile {
  /** File name on the mirrors and in the cache, e.g. `'train-images-idx3-ubyte.gz'`. */
  name: string;
  /** MD5 of the file exactly as downloaded (the .gz), lower-case hex. */
  md5: string;
  /** Size in bytes as downloaded; a cached file of another size is downloaded again. */
  bytes?: number;
  /** `'images'`: an IDX array of `count × rows × cols`; `'labels'`: `count` labels in `0 .. classes-1`. */
  kind: 'images' | 'labels';
  /** Images or labels the file holds. */
  count: number;
}

/** An MNIST-style dataset: mirrors tried in order, and its files. */
export interface DatasetSpec {
  /** Its name for people, e.g. `'MNIST'`. */
  title: string;
  /** Base URLs ending in `/`, tried in order for each file. */
  mirrors: readonly string[];
  /** Its four files: training images and labels, test images and labels. */
  files: readonly DatasetFile[];
  /** Pixel rows of every image. */
  rows: number;
  /** Pixel columns of every image. */
  cols: number;
  /** Labels lie in `0 .. classes-1`. */
  classes: number;
  /** Where the checksums come from, for people reading an error message. */
  checksumSource: string;
}

/** The name of a dataset in {@link DATASETS}: `'mnist'` or `'fashion-mnist'`. */
export type DatasetName = 'mnist' | 'fashion-mnist';

/**
 * MNIST and Fashion-MNIST.
 *
 * - MNIST checksums: torchvision's `MNIST.resources` (torchvision/datasets/mnist.py), MD5 of
 *   the .gz files; sizes as every mirror serves them (9912422, 28881, 1648877, 4542 bytes).
 *   Mirrors: torchvision's (ossci-datasets), TensorFlow's (cvdf-datasets), then Yann LeCun's
 *   original host last (the book's dataset/mnist.py uses it; it often answers 403).
 * - Fashion-MNIST checksums: the maintainers' table in the zalandoresearch/fashion-mnist
 *   README ("MD5 Checksum" column), the same four values as torchvision's
 *   `FashionMNIST.resources`. Cross-checked on this project's machine against the files of the
 *   Debian package dataset-fashion-mnist: Debian stores the same deflate streams with a
 *   rewritten gzip header; restoring the original header (file name, mtime of 2017-08-31)
 *   gives exactly these MD5s and sizes (test/data/download.test.ts does so).
 *   Mirrors: the maintainers' S3 host (also torchvision's), then their GitHub repository.
 *   Keras's copies (storage.googleapis.com/tensorflow/tf-keras-datasets) are recompressed,
 *   with other checksums, so they are not listed.
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  mnist: {
    title: 'MNIST',
    mirrors: [
      'https://ossci-datasets.s3.amazonaws.com/mnist/',
      'https://storage.googleapis.com/cvdf-datasets/mnist/',
      'http://yann.lecun.com/exdb/mnist/',
    ],
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873', bytes: 9912422, kind: 'images', count: 60000 },
      { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432', bytes: 28881, kind: 'labels', count: 60000 },
      { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3', bytes: 1648877, kind: 'images', count: 10000 },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c', bytes: 4542, kind: 'labels', count: 10000 },
    ],
    rows: 28,
    cols: 28,
    classes: 10,
    checksumSource: "torchvision's MNIST resources",
  },
  'fashion-mnist': {
    title: 'Fashion-MNIST',
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    ],
    files: [
      { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', bytes: 26421880, kind: 'images', count: 60000 },
      { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', bytes: 29515, kind: 'labels', count: 60000 },
      { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', bytes: 4422102, kind: 'images', count: 10000 },
      { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', bytes: 5148, kind: 'labels', count: 10000 },
    ],
    rows: 28,
    cols: 28,
    classes: 10,
    checksumSource: "the zalandoresearch/fashion-mnist README's MD5 table",
  },
};

/** The names {@link DATASETS} knows, in order. */
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

/** Whether `name` is a dataset of {@link DATASETS} (`'mnist'`, `'fashion-mnist'`). */
export function isDatasetName(name: string | undefined): name is DatasetName {
  return name !== undefined && Object.hasOwn(DATASETS, name);
}
