#!/usr/bin/env python3
"""The book's two-layer net (Deep Learning from Scratch, ch. 5) in NumPy: the reference of bench/run.ts.

The layers are the book's common/layers.py (Affine, Relu, SoftmaxWithLoss) and the net its
ch05/two_layer_net.py, trained by SGD on one-hot targets as ch05/train_neuralnet.py does. The
data, the initial weights and the sequence of mini-batch indices come from the files bench/run.ts
writes (see `load`), so this script does exactly the work the TypeScript runs do.

One step = gather the batch, forward with loss, backward, SGD update. Like src/train/train.ts,
it keeps the loss of the gradient's own forward pass and skips the second forward pass the
book's training loop makes only to record the loss.

Variants:
  f64-book  float64, the book's code as is (Affine1.backward also computes dx, which nobody uses)
  f32-book  the same in float32
  f32       float32, Affine1's unused input gradient skipped: the same work as src/nets/TwoLayerNet.ts

Threads: set OPENBLAS_NUM_THREADS before starting this script.

Usage: python3 numpy_two_layer.py --manifest DIR/manifest.json --variants f64-book,f32-book,f32 --serve
       python3 numpy_two_layer.py --manifest DIR/manifest.json --matmul
       python3 numpy_two_layer.py --book-run DIR/book.json --variant f64-book|f32-book|f32
       python3 numpy_two_layer.py --info

--serve: steps and accuracy passes of the variants on request, one JSON line each (see serve).
--matmul: float32 GFLOPS of the manifest's product shapes, one JSON object.
--book-run: the whole book run (ch05/train_neuralnet.py: iters_num iterations, an accuracy
pass over every training and test row once per epoch), timed by this script's own clock from
the first iteration to the end, as `backprop train --report` times itself (bench/bookRun.ts).
"""
import argparse
import ctypes
import glob
import json
import os
import sys
import time

import numpy as np


# ---------------------------------------------------------------- common/functions.py
def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guard against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    # one-hot targets become class indices
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# ---------------------------------------------------------------- common/layers.py
class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)
        return dx

    def backward_params(self, dout):
        """backward without the input gradient (what src/nets/TwoLayerNet.ts does for Affine1)."""
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot targets
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


# ---------------------------------------------------------------- ch05/two_layer_net.py
class TwoLayerNet:
    """The book's net, with the initial weights given (bench/run.ts draws them) instead of drawn here."""

    def __init__(self, W1, W2, dtype, skip_input_grad=False):
        self.params = {
            'W1': W1.astype(dtype),
            'b1': np.zeros(W1.shape[1], dtype=dtype),
            'W2': W2.astype(dtype),
            'b2': np.zeros(W2.shape[1], dtype=dtype),
        }
        self.layers = {
            'Affine1': Affine(self.params['W1'], self.params['b1']),
            'Relu1': Relu(),
            'Affine2': Affine(self.params['W2'], self.params['b2']),
        }
        self.lastLayer = SoftmaxWithLoss()
        self.skip_input_grad = skip_input_grad

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        self.loss(x, t)  # forward
        dout = 1
        dout = self.lastLayer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        if self.skip_input_grad:
            for layer in layers[:-1]:
                dout = layer.backward(dout)
            layers[-1].backward_params(dout)
        else:
            for layer in layers:
                dout = layer.backward(dout)
        grads = {}
        grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db
        return grads


# ---------------------------------------------------------------- the benchmark
VARIANTS = {
    'f64-book': (np.float64, False),
    'f32-book': (np.float32, False),
    'f32': (np.float32, True),
}


def load(manifest):
    """Images (uint8), labels, initial weights (float64) and batch indices written by bench/run.ts."""
    d = os.path.dirname(os.path.abspath(manifest['path']))

    def arr(name, dtype, shape):
        return np.fromfile(os.path.join(d, name), dtype=dtype).reshape(shape)

    n, m, f, h = manifest['trainCount'], manifest['testCount'], manifest['inputSize'], manifest['hiddenSize']
    c = manifest['outputSize']
    return {
        'x_train': arr('train-images.u8', np.uint8, (n, f)),
        'y_train': arr('train-labels.u8', np.uint8, (n,)),
        'x_test': arr('test-images.u8', np.uint8, (m, f)),
        'y_test': arr('test-labels.u8', np.uint8, (m,)),
        'W1': arr('W1.f64', np.float64, (f, h)),
        'W2': arr('W2.f64', np.float64, (h, c)),
        'batches': arr('batches.i32', np.int32, (manifest['iters'], manifest['batchSize'])),
    }


def scaled(data, dtype):
    """load_mnist(normalize=True): pixels / 255, computed in float64 (as the JS does), then cast; cached per dtype."""
    key = ('scaled', np.dtype(dtype).name)
    if key not in data:
        f64 = data.get(('scaled', 'float64'))
        if f64 is None:
            f64 = (data['x_train'] / 255.0, data['x_test'] / 255.0)
            data[('scaled', 'float64')] = f64
        data[key] = f64 if dtype == np.float64 else (f64[0].astype(dtype), f64[1].astype(dtype))
    return data[key]



def make_variant(name, data, manifest):
    """The variant's net on the shared weights: step(i) trains on batch i and returns its loss;
    accuracy_pass() is the book's accuracy() on the whole training set, then the test set."""
    dtype, skip = VARIANTS[name]
    classes = manifest['outputSize']
    x_train, x_test = scaled(data, dtype)
    t_train = np.eye(classes, dtype=dtype)[data['y_train']]
    t_test = np.eye(classes, dtype=dtype)[data['y_test']]
    net = TwoLayerNet(data['W1'], data['W2'], dtype, skip_input_grad=skip)
    batches = data['batches']
    lr = manifest['lr']
    keys = ('W1', 'b1', 'W2', 'b2')
    params = net.params

    def step(i):
        batch_mask = batches[i]
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = net.gradient(x_batch, t_batch)
        for key in keys:
            params[key] -= lr * grad[key]
        return net.lastLayer.loss

    def accuracy_pass():
        return net.accuracy(x_train, t_train), net.accuracy(x_test, t_test)

    return step, accuracy_pass


def serve(names, data, manifest):
    """Builds every variant's net, then answers each line on stdin with one JSON line:
    'run VARIANT COUNT UNTIMED': COUNT more steps of it (the shared batch sequence, in order), the
    ms of all but the first UNTIMED and the loss sum of all; 'eval VARIANT': one accuracy pass, its ms and the accuracies; 'quit'.
    bench/rows.ts steps these as it steps its own rows (in turns with them under --turns)."""
    variants = {name: make_variant(name, data, manifest) for name in names}
    done = {name: 0 for name in names}
    print(json.dumps({'ready': True, 'info': machine_info(),
                      'variants': [{'variant': n, 'dtype': np.dtype(VARIANTS[n][0]).name, 'skipInputGradient': VARIANTS[n][1]} for n in names]}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == 'quit':
            break
        step, accuracy_pass = variants[words[1]]
        if words[0] == 'run':
            count, untimed, i, loss_sum = int(words[2]), int(words[3]), done[words[1]], 0.0
            if i + count > manifest['iters']:
                sys.exit(f'numpy_two_layer.py: {words[1]} asked for steps past the {manifest["iters"]} batches')
            for j in range(i, i + untimed):
                loss_sum += step(j)
            t0 = time.perf_counter()
            for j in range(i + untimed, i + count):
                loss_sum += step(j)
            ms = (time.perf_counter() - t0) * 1000
            done[words[1]] = i + count
            print(json.dumps({'ms': ms, 'lossSum': float(loss_sum)}), flush=True)
        else:
            t0 = time.perf_counter()
            train_acc, test_acc = accuracy_pass()
            ms = (time.perf_counter() - t0) * 1000
            print(json.dumps({'ms': ms, 'trainAccuracy': float(train_acc), 'testAccuracy': float(test_acc)}), flush=True)


def matmul_gflops(manifest):
    """Float32 GFLOPS of each product shape: median of samples of >= sampleMs each, output preallocated."""
    out = {}
    for s in manifest['matmulShapes']:
        m, k, n = s['m'], s['k'], s['n']
        def filled(count, shape):
            return (np.sin(np.arange(count, dtype=np.float64)) * 0.5).astype(np.float32).reshape(shape)
        a = filled(m * k, (k, m) if s['transA'] else (m, k))
        b = filled(k * n, (n, k) if s['transB'] else (k, n))
        c = np.zeros((m, n), dtype=np.float32)
        A = a.T if s['transA'] else a  # a view: BLAS reads it transposed, no copy
        B = b.T if s['transB'] else b
        sample_s = manifest['matmulSampleMs'] / 1000
        reps = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(reps):
                np.dot(A, B, out=c)
            if time.perf_counter() - t0 >= sample_s:
                break
            reps *= 2
        samples = []
        for _ in range(manifest['matmulSamples']):
            t0 = time.perf_counter()
            for _ in range(reps):
                np.dot(A, B, out=c)
            samples.append((time.perf_counter() - t0) / reps)
        samples.sort()
        out[s['key']] = 2 * m * k * n / samples[len(samples) // 2] / 1e9
    return out


def book_run(path, name):
    """ch05/train_neuralnet.py on the images bench/bookRun.ts wrote: weights and batches from np.random (seeded)."""
    with open(path) as f:
        m = json.load(f)
    d = os.path.dirname(os.path.abspath(path))

    def arr(file, dtype, shape):
        return np.fromfile(os.path.join(d, file), dtype=dtype).reshape(shape)

    n, c, f_ = m['trainCount'], m['outputSize'], m['inputSize']
    dtype, skip = VARIANTS[name]
    # load_mnist(normalize=True, one_hot_label=True): pixels / 255 in float64, then the variant's dtype
    x_train = (arr('train-images.u8', np.uint8, (n, f_)) / 255.0).astype(dtype)
    x_test = (arr('test-images.u8', np.uint8, (m['testCount'], f_)) / 255.0).astype(dtype)
    t_train = np.eye(c, dtype=dtype)[arr('train-labels.u8', np.uint8, (n,))]
    t_test = np.eye(c, dtype=dtype)[arr('test-labels.u8', np.uint8, (m['testCount'],))]
    np.random.seed(m['seed'])
    std, h = m['weightInitStd'], m['hiddenSize']
    net = TwoLayerNet(std * np.random.randn(f_, h), std * np.random.randn(h, c), dtype, skip_input_grad=skip)
    iters_num, batch_size, lr = m['iters'], m['batchSize'], m['lr']
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / batch_size, 1)
    train_acc_list, test_acc_list = [], []
    params = net.params
    t0 = time.perf_counter()
    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = net.gradient(x_batch, t_batch)
        for key in ('W1', 'b1', 'W2', 'b2'):
            params[key] -= lr * grad[key]
        # (the book's second forward pass, network.loss(x_batch, t_batch), only records the loss: kept from gradient's, as train.ts does)
        if i % iter_per_epoch == 0:
            train_acc_list.append(net.accuracy(x_train, t_train))
            test_acc_list.append(net.accuracy(x_test, t_test))
    if (iters_num - 1) % iter_per_epoch != 0:
        # the final evaluation `backprop train` makes after an iteration that ends no epoch
        train_acc_list.append(net.accuracy(x_train, t_train))
        test_acc_list.append(net.accuracy(x_test, t_test))
    seconds = time.perf_counter() - t0
    return {
        'variant': name, 'dtype': np.dtype(dtype).name, 'seconds': seconds, 'evaluations': len(test_acc_list),
        'trainAccuracy': float(train_acc_list[-1]), 'testAccuracy': float(test_acc_list[-1]), 'iterations': iters_num,
    }


def openblas():
    """The OpenBLAS library NumPy loaded: its core (kernel set) and thread count, when it can be found."""
    info = {}
    libs = []
    base = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ('numpy.libs/*openblas*.so*', 'scipy_openblas*/lib/*openblas*.so*', 'numpy/.dylibs/*openblas*'):
        libs += glob.glob(os.path.join(base, pattern))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ('scipy_openblas_', 'openblas_'):
            for suffix in ('64_', ''):
                try:
                    corename = getattr(lib, prefix + 'get_corename' + suffix)
                    nthreads = getattr(lib, prefix + 'get_num_threads' + suffix)
                    config = getattr(lib, prefix + 'get_config' + suffix)
                except AttributeError:
                    continue
                corename.restype = ctypes.c_char_p
                config.restype = ctypes.c_char_p
                info = {
                    'library': os.path.basename(path),
                    'core': corename().decode(),
                    'threads': int(nthreads()),
                    'config': config().decode().strip(),
                }
                return info
    return info


def machine_info():
    blas = {}
    try:
        cfg = np.show_config(mode='dicts')
        b = cfg.get('Build Dependencies', {}).get('blas', {})
        blas = {'name': b.get('name'), 'version': b.get('version')}
    except Exception:  # older NumPy
        pass
    return {
        'python': sys.version.split()[0],
        'numpy': np.__version__,
        'blas': blas,
        'openblas': openblas(),
        'env': {k: os.environ.get(k) for k in ('OPENBLAS_NUM_THREADS', 'OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')},
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--manifest')
    p.add_argument('--variants', default='')
    p.add_argument('--serve', action='store_true')
    p.add_argument('--matmul', action='store_true')
    p.add_argument('--info', action='store_true')
    p.add_argument('--book-run')
    p.add_argument('--variant', default='f64-book')
    args = p.parse_args()
    result = {'info': machine_info()}
    if args.book_run:
        result['bookRun'] = book_run(args.book_run, args.variant)
    if args.manifest:
        with open(args.manifest) as f:
            manifest = json.load(f)
        manifest['path'] = args.manifest
        names = [v for v in args.variants.split(',') if v]
        for name in names:
            if name not in VARIANTS:
                sys.exit(f'numpy_two_layer.py: unknown variant {name!r} (choose from {", ".join(VARIANTS)})')
        if args.serve:
            serve(names, load(manifest), manifest)
            return
        if args.matmul:
            result['matmul'] = matmul_gflops(manifest)
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
