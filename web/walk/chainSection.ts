/**
 * Section 5.2, the chain rule: the composed function z = (x + y)² of fig. 5-7, or any expression,
 * with ∂z/∂x written out as the product of the local derivatives along each path.
 */
import { byId } from '../dom.js';
import { graphPanel } from './graphPanel.js';

export function setupChainSection(): void {
  graphPanel(byId('chain-figure', HTMLDivElement), { id: 'chain', presets: ['chain'], expression: true, initial: { preset: 'chain' }, paths: true });
}
