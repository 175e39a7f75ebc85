/**
 * Section 5.1, the graph explorer: the book's scalar graphs or the learner's own expression,
 * stepped forward and backward one node at a time (web/walk/graphPanel.ts).
 */
import { byId } from './dom.js';
import { graphPanel } from './walk/graphPanel.js';

export function setupGraphExplorer(): void {
  graphPanel(byId('graph-figure', HTMLDivElement), {
    id: 'graph', presets: ['apple', 'apple-orange', 'chain', 'add', 'mul', 'sigmoid'], expression: true, initial: { preset: 'apple' },
  });
}
