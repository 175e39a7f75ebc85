/**
 * Computational graphs (chapter 5's pictures): scalar graphs built in code or from an
 * expression, run forward and backward, and autograd graphs of tensors (shapes on the edges),
 * both drawn by one machinery as text, DOT or SVG.
 *
 * @example
 * import { parseExpression, backward, renderText } from './graph/index.js';
 * const price = parseExpression('apple * apple_num * tax', { apple: 100, apple_num: 2, tax: 1.1 });
 * backward(price);
 * console.log(renderText(price));
 */
export { GraphError, GraphSyntaxError, GraphValueError, type NonFiniteReason } from './errors.js';
export { NON_FINITE_REASONS } from './finite.js';
export { formatNumber, formatShape } from './format.js';
export { OPS, type Op, type OpRule } from './ops.js';
export {
  Node, type Operand, apply, input, constant, add, sub, mul, div, max, exp, log, neg, reciprocal, sigmoid, relu, pow,
  topoSort, graphInputs, recompute, evaluate, type GraphVertex,
} from './node.js';
export { backward, backwardSteps, edgeGrads, type BackwardStep, type GradChange } from './backward.js';
export { parseExpression } from './parser.js';
export { appleGraph, appleOrangeGraph, sigmoidGraph, softmaxWithLossGraph } from './examples.js';
export { layoutGraph, textWidth, FONT_SIZE, type GraphLayout, type LayoutNode } from './layout.js';
export { renderText, expressionOf, nodeNames } from './renderText.js';
export { renderDot, GRAD_COLOR } from './renderDot.js';
export { renderSvg, labelledArrow, ARROW_DEFS } from './renderSvg.js';
export { escapeXml, el, type Xml, type AttrValue } from './xml.js';
export { twoLayerNetLoss, type TwoLayerNetDims } from './twoLayerNet.js';
export { type DrawNode, type NodeText, SCALAR_TEXT } from './picture.js';
export { parseWith, type ExpressionBuilder, type Operator } from './parser.js';
export {
  autogradGraph, autogradExpression, formatTensor, renderVariableText, renderVariableDot, renderVariableSvg,
  AUTOGRAD_TEXT, SMALL_TENSOR, type AutogradNode,
} from './autograd.js';
export { parseTensorExpression, TENSOR_FUNCTIONS, type TensorVariables } from './tensorExpression.js';
