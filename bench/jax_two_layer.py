#!/usr/bin/env python3
"""The same training step and accuracy pass in JAX on CPU (jax.jit), a peer of bench/numpy_two_layer.py.

One step = gather the batch (inside the jitted function), forward, the book's backward
((y - t)/N, the ReLU mask, dW = x^T dout; Affine1's unused dx skipped: the same work as
src/nets/TwoLayerNet.ts), SGD update. The accuracy pass is a jitted predict + argmax over the
training set, then the test set. Same data, initial weights and batch sequence as the others
(the manifest bench/run.ts writes). Threads: XLA's defaults. Prints one JSON object.

Usage: python3 jax_two_layer.py --manifest DIR/manifest.json
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_two_layer import load, scaled  # noqa: E402  (the same files, the same scaling)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402


def timed_passes(accuracy_pass, warmup, runs):
    """ms of each of `runs` timed calls of accuracy_pass() after `warmup` untimed ones, and the last call's result."""
    for _ in range(warmup):
        accuracy_pass()
    ms, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = accuracy_pass()
        ms.append((time.perf_counter() - t0) * 1000)
    return ms, result


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--manifest', required=True)
    args = p.parse_args()
    with open(args.manifest) as f:
        manifest = json.load(f)
    manifest['path'] = args.manifest
    data = load(manifest)
    x_train_np, x_test_np = scaled(data, np.float32)
    x_train, x_test = jnp.asarray(x_train_np), jnp.asarray(x_test_np)
    y_train, y_test = jnp.asarray(data['y_train'].astype(np.int32)), jnp.asarray(data['y_test'].astype(np.int32))
    classes, lr = manifest['outputSize'], manifest['lr']
    params = (jnp.asarray(data['W1'], jnp.float32), jnp.zeros(data['W1'].shape[1], jnp.float32),
              jnp.asarray(data['W2'], jnp.float32), jnp.zeros(data['W2'].shape[1], jnp.float32))

    @jax.jit
    def step(params, idx):
        W1, b1, W2, b2 = params
        x, t = x_train[idx], y_train[idx]  # x_batch = x_train[batch_mask]
        n = x.shape[0]
        a1 = x @ W1 + b1
        z1 = jnp.maximum(a1, 0)
        a2 = z1 @ W2 + b2
        y = jax.nn.softmax(a2, axis=1)
        loss = -jnp.sum(jnp.log(y[jnp.arange(n), t] + 1e-7)) / n
        dy = (y - jax.nn.one_hot(t, classes, dtype=y.dtype)) / n  # SoftmaxWithLoss.backward
        dW2, db2 = z1.T @ dy, dy.sum(0)
        da1 = (dy @ W2.T) * (a1 > 0)  # Relu.backward
        dW1, db1 = x.T @ da1, da1.sum(0)
        return (W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2), loss

    @jax.jit
    def correct(params, x, t):
        W1, b1, W2, b2 = params
        return jnp.sum(jnp.argmax(jnp.maximum(x @ W1 + b1, 0) @ W2 + b2, axis=1) == t)

    batches = jnp.asarray(data['batches'])
    i = 0
    for _ in range(manifest['warmup']):
        params, loss = step(params, batches[i])
        i += 1
    loss.block_until_ready()
    run_ms, losses = [], []
    for _ in range(manifest['runs']):
        losses = []
        t0 = time.perf_counter()
        for _ in range(manifest['itersPerRun']):
            params, loss = step(params, batches[i])
            losses.append(loss)
            i += 1
        jax.block_until_ready(params)
        run_ms.append((time.perf_counter() - t0) * 1000 / manifest['itersPerRun'])

    def accuracy_pass():
        a = int(correct(params, x_train, y_train)) / x_train.shape[0]
        b = int(correct(params, x_test, y_test)) / x_test.shape[0]
        return a, b

    # at least one untimed pass: it compiles `correct`
    eval_ms, (train_acc, test_acc) = timed_passes(accuracy_pass, max(1, manifest['evalWarmup']), manifest['evalRuns'])
    print(json.dumps({
        'jax': jax.__version__, 'devices': [str(d) for d in jax.devices()],
        'stepMsSamples': run_ms, 'evalMsSamples': eval_ms,
        'trainAccuracy': train_acc, 'testAccuracy': test_acc,
        'lastRunMeanLoss': float(np.mean([float(v) for v in losses])), 'iterations': i,
    }))


if __name__ == '__main__':
    main()
