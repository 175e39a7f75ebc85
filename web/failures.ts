/**
 * The training worker's failure messages (web/trainer.ts, web/worker.ts, web/workerClient.ts
 * write them in English, as the CLI does) in the page's language: the known ones by their
 * numbers, anything else as "Training stopped:" and the original detail as code.
 */
import { t } from './i18n/index.js';

/** The three ways training stops with an error, and the parts of each message to keep. */
const KNOWN: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^the loss became (\S+) at iteration (\d+): training diverged; reset and try a smaller learning rate than (\S+)$/, (m) => t.trainDiverged(m[1], m[2], m[3])],
  [/^could not load the digits: (.*)$/s, (m) => t.digitsFailed(m[1])],
  [/^the training worker failed: (.*)$/s, (m) => t.workerFailed(m[1])],
];

/**
 * A failure message as the page shows it, with `code` in backticks for the parts that stay as
 * the system wrote them.
 *
 * @example
 * failureText('the loss became NaN at iteration 2: training diverged; reset and try a smaller learning rate than 10');
 * // en: 'The loss became NaN at iteration 2: training diverged. Reset and try a learning rate smaller than 10.'
 */
export function failureText(message: string): string {
  for (const [pattern, text] of KNOWN) {
    const m = pattern.exec(message);
    if (m) return text(m);
  }
  return t.trainStoppedBecause(message.replace(/`/g, "'"));
}
