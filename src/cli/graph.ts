import {
  GraphError, GraphSyntaxError, appleGraph, appleOrangeGraph, backward, evaluate, graphInputs, parseExpression,
  renderDot, renderLayersDot, renderLayersSvg, renderLayersText, renderSvg, renderText, twoLayerNetGraph,
  type TwoLayerNetDims,
} from '../graph/index.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { UsageError } from './errors.js';
import { checkOutputPath } from './outputPath.js';

const USAGE = `usage: backprop graph apple|apple-orange|two-layer-net|"<expression>" [--set name=value ...] [--svg FILE] [--dot FILE]`;

interface GraphArgs {
  target: string;
  sets: [name: string, value: number][];
  svg?: string;
  dot?: string;
}

function parseGraphArgs(args: string[]): GraphArgs | 'help' {
  const positionals: string[] = [];
  const sets: [string, number][] = [];
  const files: { svg?: string; dot?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--') { positionals.push(...args.slice(i + 1)); break; }
    const flag = /^--(set|svg|dot)(?:=(.*))?$/s.exec(arg);
    if (flag) {
      const [, name, inline] = flag;
      const value = inline ?? args[++i];
      if (value === undefined || value === '') {
        throw new UsageError(`graph: --${name} needs a value, e.g. ${name === 'set' ? '--set x=2' : `--${name} graph.${name}`}`);
      }
      if (name === 'set') sets.push(parseSet(value));
      else files[name as 'svg' | 'dot'] = value;
    } else if (/^-\S*$/.test(arg) && !Number.isFinite(Number(arg))) {
      throw new UsageError(`graph: unknown option '${arg}' (options: --set name=value, --svg FILE, --dot FILE; put an expression that starts with '-' last, after --: backprop graph --set x=1 -- "-x * 2")`);
    } else {
      positionals.push(arg);
    }
  }
  if (positionals.length === 0) throw new UsageError(`graph: missing the graph to draw. ${USAGE}`);
  if (positionals.length > 1) {
    throw new UsageError(`graph: expected one graph, got ${positionals.length} arguments (${positionals.join(' ')}); quote an expression: backprop graph "${positionals.join(' ')}"`);
  }
  return { target: positionals[0], sets, ...files };
}

function parseSet(text: string): [string, number] {
  const m = /^([A-Za-z_]\w*)=(.*)$/s.exec(text);
  if (!m) throw new UsageError(`graph: --set ${text}: expected name=value, e.g. --set x=2`);
  const value = m[2].trim() === '' ? NaN : Number(m[2]);
  if (!Number.isFinite(value)) throw new UsageError(`graph: --set ${text}: '${m[2]}' is not a finite number`);
  return [m[1], value];
}

const DIMS: Record<string, keyof TwoLayerNetDims> = { batch: 'batch', inputSize: 'inputSize', hiddenSize: 'hiddenSize', outputSize: 'outputSize' };

/**
 * `backprop graph`: draws a computational graph after forward and backward, printing the
 * text picture and the gradient of every input, and optionally writing SVG and DOT files.
 *
 *     backprop graph apple                        # the book's fig. 5-3: 220; 2.2, 110, 200
 *     backprop graph apple-orange --svg fig.svg   # fig. 5-17
 *     backprop graph "x * y + z" --set x=1 --set y=2 --set z=3
 *     backprop graph two-layer-net --set batch=32 --dot net.dot
 *
 * `--set name=value` gives or overrides a variable (for two-layer-net: batch, inputSize,
 * hiddenSize, outputSize). Files are written atomically.
 *
 * @throws UsageError for an unknown flag, a bad `--set`, a syntax error or an unknown variable.
 * @example
 * await graphCommand(['apple'], console.log); // prints the table, price = 220, ∂price/∂apple = 2.2, …
 */
export async function graphCommand(args: string[], out: (line: string) => void): Promise<void> {
  const parsed = parseGraphArgs(args);
  if (parsed === 'help') {
    out(USAGE);
    return;
  }
  const { target, sets, svg, dot } = parsed;
  checkOutputPath('svg', svg);
  checkOutputPath('dot', dot);
  const values = Object.fromEntries(sets);
  let text: string, svgText: () => string, dotText: () => string;
  try {
    if (target === 'two-layer-net') {
      const dims: TwoLayerNetDims = { batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 };
      for (const [name, value] of sets) {
        if (!Object.hasOwn(DIMS, name)) throw new UsageError(`graph: --set ${name}: two-layer-net has no '${name}'; it has ${Object.keys(DIMS).join(', ')}`);
        dims[DIMS[name]] = value;
      }
      const g = twoLayerNetGraph(dims);
      [text, svgText, dotText] = [renderLayersText(g), () => renderLayersSvg(g), () => renderLayersDot(g)];
    } else {
      const named = target === 'apple' ? appleGraph() : target === 'apple-orange' ? appleOrangeGraph() : undefined;
      const root = named ?? parseExpression(target, values);
      const known = graphInputs(root).map((n) => n.name);
      const unknown = sets.find(([name]) => !known.includes(name));
      if (unknown) throw new UsageError(`graph: --set ${unknown[0]}: the graph has no variable '${unknown[0]}'; it has ${known.join(', ') || 'none'}`);
      if (named) evaluate(root, values);
      backward(root);
      [text, svgText, dotText] = [renderText(root), () => renderSvg(root), () => renderDot(root)];
    }
  } catch (e) {
    const variable = e instanceof GraphSyntaxError && /^unknown variable '(\w+)'/.exec(e.reason)?.[1];
    if (variable) throw new UsageError(`graph: ${e.message}\ngive it a value with --set ${variable}=VALUE`);
    if (e instanceof GraphError) throw new UsageError(`graph: ${e.message}`);
    throw e;
  }
  for (const line of text.split('\n')) out(line);
  for (const [file, render] of [[svg, svgText], [dot, dotText]] as const) {
    if (file === undefined) continue;
    writeFileAtomic(file, render());
    out(`wrote ${file}`);
  }
}
