/**
 * Section 5.3, backward through an add node (fig. 5-9: dout passes unchanged) and a multiply
 * node (fig. 5-12: dout times the other input), with the upstream gradient ∂L/∂z editable.
 */
import { byId } from '../dom.js';
import { graphPanel } from './graphPanel.js';

export function setupNodesSection(): void {
  graphPanel(byId('add-figure', HTMLDivElement), { id: 'add', initial: { preset: 'add' }, upstream: true });
  graphPanel(byId('mul-figure', HTMLDivElement), { id: 'mul', initial: { preset: 'mul' }, upstream: true });
}
