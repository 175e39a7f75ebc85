import {
  GraphError, GraphSyntaxError, appleGraph, appleOrangeGraph, backward, evaluate, graphInputs, parseExpression,
  renderDot, renderSvg, renderText, parseTensorExpression, renderVariableText, renderVariableSvg, renderVariableDot,
  twoLayerNetLoss, TENSOR_FUNCTIONS, type TwoLayerNetDims, autogradGraph, autogradExpression, formatNumber, topoSort,
} from '../graph/index.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import { Variable } from '../autograd/index.js';
import { Tensor } from '../tensor/Tensor.js';
import { UsageError } from './errors.js';
import { checkOutputPath } from './outputPath.js';

const USAGE = `usage: backprop graph apple|apple-orange|two-layer-net|"<expression>" [--set name=value ...] [--shape name=2,3 ...] [--svg FILE] [--dot FILE]`;

interface GraphArgs {
  target: string;
  /** --set name=value, as written (a number, or for a tensor expression a comma list). */
  sets: [name: string, value: string][];
  /** --shape name=2,3: the expression is over tensors. */
  shapes: [name: string, shape: number[]][];
  svg?: string;
  dot?: string;
}

function parseGraphArgs(args: string[]): GraphArgs | 'help' {
  const positionals: string[] = [];
  const sets: [string, string][] = [];
  const shapes: [string, number[]][] = [];
  const files: { svg?: string; dot?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--') { positionals.push(...args.slice(i + 1)); break; }
    const flag = /^--(set|shape|svg|dot)(?:=(.*))?$/s.exec(arg);
    if (flag) {
      const [, name, inline] = flag;
      const value = inline ?? args[++i];
      if (value === undefined || value === '') {
        throw new UsageError(`graph: --${name} needs a value, e.g. ${name === 'set' ? '--set x=2' : name === 'shape' ? '--shape x=2,3' : `--${name} graph.${name}`}`);
      }
      if (name === 'set') sets.push(splitSet(value));
      else if (name === 'shape') shapes.push(parseShape(value));
      else files[name as 'svg' | 'dot'] = value;
    } else if (/^-\S*$/.test(arg) && !Number.isFinite(Number(arg))) {
      throw new UsageError(`graph: unknown option '${arg}' (options: --set name=value, --shape name=2,3, --svg FILE, --dot FILE; put an expression that starts with '-' last, after --: backprop graph --set x=1 -- "-x * 2")`);
    } else {
      positionals.push(arg);
    }
  }
  if (positionals.length === 0) throw new UsageError(`graph: missing the graph to draw. ${USAGE}`);
  if (positionals.length > 1) {
    throw new UsageError(`graph: expected one graph, got ${positionals.length} arguments (${positionals.join(' ')}); quote an expression: backprop graph "${positionals.join(' ')}"`);
  }
  return { target: positionals[0], sets, shapes, ...files };
}

function splitSet(text: string): [string, string] {
  const m = /^([A-Za-z_]\w*)=(.*)$/s.exec(text);
  if (!m) throw new UsageError(`graph: --set ${text}: expected name=value, e.g. --set x=2`);
  return [m[1], m[2]];
}

/** The numbers of `--set name=value`: one, or (for a tensor expression) a comma list. */
function setValues([name, text]: [string, string], list: boolean): number[] {
  const parts = list ? text.split(',') : [text];
  return parts.map((p) => {
    const value = p.trim() === '' ? NaN : Number(p);
    if (!Number.isFinite(value)) throw new UsageError(`graph: --set ${name}=${text}: '${p}' is not a finite number`);
    return value;
  });
}

function parseShape(text: string): [string, number[]] {
  const m = /^([A-Za-z_]\w*)=(.*)$/s.exec(text);
  const dims = m ? (m[2].trim() === '' ? [] : m[2].split(',').map((d) => Number(d))) : [];
  if (!m || !dims.every((d) => Number.isInteger(d) && d >= 1 && d <= 4096)) {
    throw new UsageError(`graph: --shape ${text}: expected name=dims, whole numbers from 1 to 4096 separated by commas, e.g. --shape x=2,3`);
  }
  return [m[1], dims];
}

const DIMS: Record<string, keyof TwoLayerNetDims> = { batch: 'batch', inputSize: 'inputSize', hiddenSize: 'hiddenSize', outputSize: 'outputSize' };

/** `[i, j]` of the flat index `k` into a tensor of `shape`. */
function indexText(shape: readonly number[], k: number): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(k % shape[d]);
    k = Math.floor(k / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * A tensor graph whose values or gradients hold NaN or ±Infinity (log of a negative entry)
 * is a UsageError naming the first such node, in forward order, and the entry, not a table of
 * NaNs; as the scalar graphs refuse them (src/graph/finite.ts).
 */
function checkFiniteTensors(root: Variable): void {
  const order = topoSort(autogradGraph(root));
  const bad = (t: Tensor): number => t.data.findIndex((v) => !Number.isFinite(v));
  const what = (n: (typeof order)[number]): string => (n.fn ? `${n.name ? `${n.name} = ` : ''}${autogradExpression(n)}` : n.label);
  for (const n of order) {
    const k = bad(n.variable.data);
    if (k < 0) continue;
    const inputs = n.inputs.filter((i) => i.variable.data.size === n.variable.data.size).map((i) => `${i.label}${indexText(i.variable.data.shape, k)} = ${formatNumber(i.variable.data.data[k])}`);
    throw new UsageError(`graph: ${what(n)} is ${formatNumber(n.variable.data.data[k])} at ${indexText(n.variable.data.shape, k)}${inputs.length ? ` (${inputs.join(', ')})` : ''}: not a finite number for these values`);
  }
  for (const n of order.reverse()) {
    const g = n.variable.grad?.data;
    const k = g ? bad(g) : -1;
    if (g && k >= 0) throw new UsageError(`graph: the gradient of ${what(n)} is ${formatNumber(g.data[k])} at ${indexText(g.shape, k)}: not a finite number for these values`);
  }
}

/**
 * `backprop graph`: draws a computational graph after forward and backward, printing the
 * text picture and the gradient of every input, and optionally writing SVG and DOT files.
 *
 *     backprop graph apple                        # the book's fig. 5-3: 220; 2.2, 110, 200
 *     backprop graph apple-orange --svg fig.svg   # fig. 5-17
 *     backprop graph "x * y + z" --set x=1 --set y=2 --set z=3
 *     backprop graph two-layer-net --set batch=32 --dot net.dot
 *     backprop graph "relu(x @ W1 + b1) @ W2 + b2" --shape x=2,3 --shape W1=3,4 --shape b1=4 --shape W2=4,2 --shape b2=2
 *
 * `--set name=value` gives or overrides a variable (for two-layer-net: batch, inputSize,
 * hiddenSize, outputSize). `--shape name=2,3` makes the expression one over tensors (autograd,
 * float64): each variable gets that shape and seeded random values, or the values of
 * `--set name=1,2,3` (one number fills the shape); edges show shapes, and values where few.
 * two-layer-net is the autograd graph of the net itself. Files are written atomically.
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
  const { target, sets, shapes, svg, dot } = parsed;
  checkOutputPath('svg', svg);
  checkOutputPath('dot', dot);
  const tensors = shapes.length > 0 || target.includes('@');
  let text: string, svgText: () => string, dotText: () => string;
  try {
    if (target === 'two-layer-net') {
      const dims: TwoLayerNetDims = { batch: 100, inputSize: 784, hiddenSize: 50, outputSize: 10 };
      for (const set of sets) {
        const name = set[0];
        if (!Object.hasOwn(DIMS, name)) throw new UsageError(`graph: --set ${name}: two-layer-net has no '${name}'; it has ${Object.keys(DIMS).join(', ')}`);
        dims[DIMS[name]] = setValues(set, false)[0];
      }
      const loss = twoLayerNetLoss(dims);
      [text, svgText, dotText] = [renderVariableText(loss), () => renderVariableSvg(loss), () => renderVariableDot(loss)];
    } else if (tensors) {
      const values = Object.fromEntries(sets.map((set) => [set[0], setValues(set, true)]));
      const root = parseTensorExpression(target, { shapes: Object.fromEntries(shapes), values });
      const known = new Set<string>();
      const visit = (v: Variable): void => {
        if (v.creator) v.creator.inputs.forEach(visit);
        else if (v.name) known.add(v.name);
      };
      visit(root);
      const unknown = [...shapes.map(([n]) => ['shape', n]), ...sets.map(([n]) => ['set', n])].find(([, n]) => !known.has(n));
      if (unknown) throw new UsageError(`graph: --${unknown[0]} ${unknown[1]}: the expression has no variable '${unknown[1]}'; it has ${[...known].join(', ') || 'none'}`);
      if (root.size !== 1) { // backward from ones, the gradient of sum(out)
        const ones = Tensor.zeros(root.shape, { dtype: root.dtype });
        ones.data.fill(1);
        root.grad = Variable.constant(ones);
      }
      root.backward({ retainGrad: true });
      checkFiniteTensors(root);
      [text, svgText, dotText] = [renderVariableText(root), () => renderVariableSvg(root), () => renderVariableDot(root)];
      if (root.size !== 1) text += `\n(out has shape (${root.shape.join(', ')}): backward starts from ones, the gradient of sum(out))`;
    } else {
      const values = Object.fromEntries(sets.map((set) => [set[0], setValues(set, false)[0]]));
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
    if (variable) throw new UsageError(`graph: ${e.message}\ngive it ${tensors ? `a shape with --shape ${variable}=2,3 or values with --set ${variable}=1,2,3` : `a value with --set ${variable}=VALUE`}`);
    const fn = !tensors && e instanceof GraphSyntaxError && /^unknown function '(\w+)'/.exec(e.reason)?.[1];
    if (fn && TENSOR_FUNCTIONS.includes(fn)) throw new UsageError(`graph: ${e.message}\n${fn} is a function of tensor expressions: give the variables shapes with --shape, e.g. --shape x=2,3`);
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
