import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { exportOnnx, ONNX_OPSET } from '../io/exportOnnx.js';
import { exportTfjs, TFJS_WEIGHTS_FILE } from '../io/exportTfjs.js';
import { modelMetadata } from '../io/exportMetadata.js';
import { lowerNetwork } from '../io/inferenceGraph.js';
import { loadModel } from '../io/modelFiles.js';
import { parseFlags } from './args.js';
import { checkOutputPath } from './outputPath.js';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';

export const EXPORT_HELP = `Usage: backprop export --model FILE.safetensors [--onnx OUT.onnx] [--tfjs DIR]

Exports a saved model (backprop train --save FILE) for other runtimes:
  --onnx OUT.onnx   ONNX, opset ${ONNX_OPSET}: onnxruntime (Python, C#, Java, onnxruntime-web, ...), Netron.
                    Input "input" [N,784] ([N,1,28,28] for the cnn); outputs "logits" and
                    "probabilities"; the training metadata in metadata_props.
  --tfjs DIR        the TF.js layers format: DIR/model.json and DIR/${TFJS_WEIGHTS_FILE}, for
                    tf.loadLayersModel; outputs the logits (apply tf.softmax for probabilities).
Batch norm uses its running statistics; dropout multiplies by (1 − ratio), as the book's
predict does. Weights are written as float32. Files are written atomically.
`;

/** `backprop export`: a saved model as ONNX and/or TF.js files. */
export async function exportCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseFlags('export', args, {
    model: { type: 'string' },
    onnx: { type: 'string' },
    tfjs: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return io.out(EXPORT_HELP);
  if (values.model === undefined) throw new UsageError('export: --model FILE.safetensors is required');
  if (values.onnx === undefined && values.tfjs === undefined) throw new UsageError('export: give --onnx OUT.onnx and/or --tfjs DIR');
  // the output paths first, before reading the model
  checkOutputPath('onnx', values.onnx);
  if (values.tfjs !== undefined) checkDirTarget('tfjs', values.tfjs);
  if (!existsSync(values.model)) throw new UsageError(`export: --model ${values.model}: no such file`);

  const model = loadModel(values.model);
  const metadata = modelMetadata(model);
  const graph = lowerNetwork(model.network);
  const input = `[N,${graph.inputShape.join(',')}]`;
  const float64 = model.spec.dtype === 'float64' ? ' (float64 weights rounded to float32)' : '';
  if (values.onnx !== undefined) {
    const bytes = exportOnnx(graph, { metadata });
    writeFileAtomic(values.onnx, bytes);
    io.out(`wrote ${values.onnx}: ONNX opset ${ONNX_OPSET}, ${bytes.length.toLocaleString('en')} bytes; input "input" ${input}, outputs "logits" and "probabilities"${float64}\n`);
  }
  if (values.tfjs !== undefined) {
    const { modelJson, weightsBin } = exportTfjs(graph, { metadata });
    mkdirSync(values.tfjs, { recursive: true });
    // weights first: model.json names them, so a reader never finds model.json without its weights
    writeFileAtomic(join(values.tfjs, TFJS_WEIGHTS_FILE), weightsBin);
    writeFileAtomic(join(values.tfjs, 'model.json'), JSON.stringify(modelJson));
    io.out(`wrote ${join(values.tfjs, 'model.json')} and ${TFJS_WEIGHTS_FILE} (${weightsBin.length.toLocaleString('en')} bytes): TF.js layers model, input ${input}, output the logits${float64}\n`);
  }
}

/** A folder to write into: an existing folder, or a new one in an existing folder. */
function checkDirTarget(flag: string, path: string): void {
  if (existsSync(path)) {
    if (!isDir(path)) throw new UsageError(`export: --${flag} ${path} is a file, not a folder`);
    return;
  }
  if (!isDir(dirname(resolve(path)))) throw new UsageError(`export: --${flag} ${path}: folder ${dirname(path)} does not exist`);
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
