import type { Backend, BatchStrides, ConvGeometry, DType, FloatArray, FusedOutput, Storage } from '../Backend.js';

/** Storage of the reference backend: a plain typed array on the JavaScript heap. */
class ArrayStorage implements Storage {
  readonly data: FloatArray;
  constructor(readonly length: number, readonly dtype: DType) {
    this.data = dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
  }
}

/**
 * The reference backend: readable TypeScript loops, ordered so the innermost loop walks
 * memory contiguously. Every other backend is tested against it.
 */
export class JsBackend implements Backend {
  readonly name = 'js';

  alloc(length: number, dtype: DType): Storage {
    return new ArrayStorage(length, dtype);
  }

  matmul(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean,
  ): void {
    if (!accumulate) c.fill(0, 0, m * n);
    if (!transB) {
      // C[i, :] += op(A)[i, p] · B[p, :]: the inner loop runs along rows of B and C.
      // A[i, p] sits at i·k + p, or at p·m + i when A is stored transposed.
      const sa = transA ? 1 : k;
      const sp = transA ? m : 1;
      for (let i = 0; i < m; i++) {
        const ci = i * n;
        for (let p = 0; p < k; p++) {
          const aip = a[i * sa + p * sp];
          if (aip === 0) continue;
          const bp = p * n;
          for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
        }
      }
      return;
    }
    // B stored n×k: C[i, j] = Σ_p op(A)[i, p] · B[j, p], a dot product along rows of B.
    if (!transA) {
      for (let i = 0; i < m; i++) {
        const ai = i * k;
        for (let j = 0; j < n; j++) {
          const bj = j * k;
          let s = 0;
          for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
          c[i * n + j] += s;
        }
      }
      return;
    }
    // Both transposed (rare): A stored k×m, B stored n×k.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
        c[i * n + j] += s;
      }
    }
  }

  /** The reference of the batched product: one `matmul` per slice, then the row bias, then relu. */
  matmulBatch(
    a: FloatArray, b: FloatArray, c: FloatArray, batch: number, strides: BatchStrides,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, accumulate: boolean, rowBias: FloatArray | null, relu: boolean,
  ): void {
    if (strides.c === 0 && !accumulate) c.fill(0, 0, m * n);
    for (let i = 0; i < batch; i++) {
      const ci = c.subarray(i * strides.c, i * strides.c + m * n);
      this.matmul(a.subarray(i * strides.a), b.subarray(i * strides.b), ci, m, k, n, transA, transB, strides.c === 0 || accumulate);
      if (rowBias) {
        for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) ci[r * n + j] += rowBias[r];
      }
      if (relu) this.relu(ci, ci);
    }
  }

  /** The reference of the fused product: the unfused kernels one after another. */
  matmulFused(
    a: FloatArray, b: FloatArray, c: FloatArray,
    m: number, k: number, n: number,
    transA: boolean, transB: boolean, fused: FusedOutput,
  ): void {
    this.matmul(a, b, c, m, k, n, transA, transB, false);
    const size = m * n;
    const out = c.length === size ? c : c.subarray(0, size);
    if (fused.bias) this.addBias(out, fused.bias, out, m, n);
    if (fused.relu) this.relu(out, out);
    if (fused.mask) this.reluBackward(out, fused.mask, out);
  }

  addBias(x: FloatArray, bias: FloatArray, out: FloatArray, rows: number, cols: number): void {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] + bias[j];
    }
  }

  sumColumns(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    out.fill(0, 0, cols);
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let j = 0; j < cols; j++) out[j] += x[o + j];
    }
  }

  relu(x: FloatArray, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
  }

  reluBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dout.length; i++) dx[i] = out[i] > 0 ? dout[i] : 0;
  }

  sigmoid(x: FloatArray, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  }

  sigmoidBackward(dout: FloatArray, out: FloatArray, dx: FloatArray): void {
    for (let i = 0; i < dout.length; i++) dx[i] = dout[i] * (1 - out[i]) * out[i];
  }

  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      let max = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x[o + j] - max); // subtracting the max keeps exp ≤ 1
        out[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) out[o + j] *= inv;
    }
  }

  crossEntropyLabels(y: FloatArray, labels: Int32Array, rows: number, cols: number): number {
    let s = 0;
    for (let i = 0; i < rows; i++) s += Math.log(y[i * cols + labels[i]] + 1e-7);
    return -s / rows;
  }

  softmaxLossBackward(
    y: FloatArray, labels: Int32Array, dx: FloatArray, rows: number, cols: number, scale: number,
  ): void {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * scale;
      dx[o + labels[i]] = (y[o + labels[i]] - 1) * scale; // dx = (y − t) / N
    }
  }

  /** The reference: the three kernels one after another. */
  softmaxCrossEntropy(
    x: FloatArray, labels: Int32Array, y: FloatArray, dx: FloatArray, rows: number, cols: number, scale: number,
  ): number {
    this.softmax(x, y, rows, cols);
    const loss = this.crossEntropyLabels(y, labels, rows, cols);
    this.softmaxLossBackward(y, labels, dx, rows, cols, scale);
    return loss;
  }

  argmaxRows(x: FloatArray, out: Int32Array, rows: number, cols: number): void {
    for (let i = 0; i < rows; i++) {
      const o = i * cols;
      let best = 0;
      for (let j = 1; j < cols; j++) if (x[o + j] > x[o + best]) best = j;
      out[i] = best;
    }
  }

  gatherRows(src: FloatArray, index: Int32Array, out: FloatArray, cols: number): void {
    for (let i = 0; i < index.length; i++) {
      out.set(src.subarray(index[i] * cols, index[i] * cols + cols), i * cols);
    }
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
  }

  im2colT(x: FloatArray, colT: FloatArray, g: ConvGeometry): void {
    const { batch, channels, height: H, width: W, filterH, filterW, stride, pad, outH, outW } = g;
    let o = 0; // colT is written in order: images n, rows (c, ky, kx), columns (oy, ox)
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < channels; c++) {
        const plane = (n * channels + c) * H * W;
        for (let ky = 0; ky < filterH; ky++) {
          for (let kx = 0; kx < filterW; kx++) {
            for (let oy = 0; oy < outH; oy++) {
              const y = oy * stride - pad + ky;
              for (let ox = 0; ox < outW; ox++, o++) {
                const xx = ox * stride - pad + kx;
                colT[o] = y >= 0 && y < H && xx >= 0 && xx < W ? x[plane + y * W + xx] : 0;
              }
            }
          }
        }
      }
    }
  }

  im2col(x: FloatArray, col: FloatArray, g: ConvGeometry): void {
    const { batch, channels, height: H, width: W, filterH, filterW, stride, pad, outH, outW } = g;
    let o = 0; // col is written in order: rows (n, oy, ox), columns (c, ky, kx)
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const y0 = oy * stride - pad;
          const x0 = ox * stride - pad;
          for (let c = 0; c < channels; c++) {
            const plane = (n * channels + c) * H * W;
            for (let ky = 0; ky < filterH; ky++) {
              const y = y0 + ky;
              if (y < 0 || y >= H) {
                col.fill(0, o, o + filterW); // a padding row
                o += filterW;
                continue;
              }
              const row = plane + y * W;
              for (let kx = 0; kx < filterW; kx++, o++) {
                const xx = x0 + kx;
                col[o] = xx >= 0 && xx < W ? x[row + xx] : 0;
              }
            }
          }
        }
      }
    }
  }

  col2im(col: FloatArray, x: FloatArray, g: ConvGeometry): void {
    const { batch, channels, height: H, width: W, filterH, filterW, stride, pad, outH, outW } = g;
    x.fill(0, 0, batch * channels * H * W);
    let o = 0; // the loops of im2col, with the assignment reversed into a sum
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          const y0 = oy * stride - pad;
          const x0 = ox * stride - pad;
          for (let c = 0; c < channels; c++) {
            const plane = (n * channels + c) * H * W;
            for (let ky = 0; ky < filterH; ky++) {
              const y = y0 + ky;
              if (y < 0 || y >= H) {
                o += filterW;
                continue;
              }
              const row = plane + y * W;
              for (let kx = 0; kx < filterW; kx++, o++) {
                const xx = x0 + kx;
                if (xx >= 0 && xx < W) x[row + xx] += col[o];
              }
            }
          }
        }
      }
    }
  }

  transposeBatch(x: FloatArray, out: FloatArray, batch: number, rows: number, cols: number): void {
    for (let b = 0; b < batch; b++) {
      const base = b * rows * cols;
      for (let i = 0; i < rows; i++) {
        const xi = base + i * cols;
        for (let j = 0; j < cols; j++) out[base + j * rows + i] = x[xi + j];
      }
    }
  }

  maxPoolForward(x: FloatArray, out: FloatArray, argMax: Int32Array, g: ConvGeometry): void {
    const { batch, channels, height: H, width: W, filterH, filterW, stride, pad, outH, outW } = g;
    let o = 0;
    for (let plane = 0; plane < batch * channels; plane++) {
      const p0 = plane * H * W;
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++, o++) {
          let best = 0;
          let arg = -1;
          let first = true;
          for (let ky = 0; ky < filterH; ky++) {
            const y = oy * stride - pad + ky;
            for (let kx = 0; kx < filterW; kx++) {
              const xx = ox * stride - pad + kx;
              const inside = y >= 0 && y < H && xx >= 0 && xx < W;
              const i = inside ? p0 + y * W + xx : -1;
              const v = inside ? x[i] : 0; // padding is 0, as np.pad fills it
              // strictly greater keeps the first max; the first NaN wins and stays (np.argmax)
              if (first || v > best || (v !== v && best === best)) {
                best = v;
                arg = i;
                first = false;
              }
            }
          }
          out[o] = best;
          argMax[o] = arg;
        }
      }
    }
  }

  maxPoolBackward(dout: FloatArray, argMax: Int32Array, dx: FloatArray, g: ConvGeometry, mask: FloatArray | null = null): void {
    dx.fill(0, 0, g.batch * g.channels * g.height * g.width);
    const outputs = g.batch * g.channels * g.outH * g.outW;
    for (let i = 0; i < outputs; i++) {
      // += : overlapping windows may share a max; a masked pixel (ReLU output ≤ 0) stays 0
      if (argMax[i] >= 0 && (mask === null || mask[argMax[i]] > 0)) dx[argMax[i]] += dout[i];
    }
  }
}
