/**
 * Why training stopped, in the page's language: the worker posts a TrainFailure (data, not a
 * sentence: web/protocol.ts), and this words it. Details that come from the system (a server's
 * answer, an exception's message) stay as written, as code.
 */
import { t } from './i18n/index.js';
import type { TrainFailure } from './protocol.js';

/**
 * A failure as the page shows it, with `code` in backticks for the parts that stay as the
 * system wrote them.
 *
 * @example
 * failureText({ kind: 'diverged', loss: NaN, iteration: 2, lr: 10 });
 * // en: 'The loss became NaN at iteration 2: training diverged. Reset and try a learning rate smaller than 10.'
 */
export function failureText(failure: TrainFailure): string {
  const code = (detail: string): string => detail.replace(/`/g, "'");
  switch (failure.kind) {
    case 'diverged': {
      const { loss, iteration, lr } = failure;
      // a finite loss rose past the divergence rule's bound (src/train/divergence.ts); else it became NaN or Infinity
      return Number.isFinite(loss)
        ? t.trainLossRose(loss.toFixed(4), String(iteration), String(lr))
        : t.trainDiverged(String(loss), String(iteration), String(lr));
    }
    case 'digits': return t.digitsFailed(code(failure.detail));
    case 'worker': return t.workerFailed(code(failure.detail));
    case 'error': return t.trainStoppedBecause(code(failure.detail));
  }
}
