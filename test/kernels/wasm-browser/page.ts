/**
 * The browser test's page: runs the checks on the main thread, then in a module Web Worker,
 * and leaves both reports (or the error) in `window.reports` for the test to read.
 */
import { type CheckReport, runChecks } from './checks.js';

type Outcome = CheckReport | { error: string };
const reports: { main?: Outcome; worker?: Outcome } = {};
(globalThis as { reports?: typeof reports }).reports = reports;

const failed = (e: unknown): Outcome => ({ error: String((e as Error)?.stack ?? e) });

try {
  reports.main = await runChecks();
} catch (e) {
  reports.main = failed(e);
}
const worker = new Worker(new URL('./checkWorker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e: MessageEvent<Outcome>) => {
  reports.worker = e.data;
  worker.terminate();
};
worker.onerror = (e) => {
  reports.worker = { error: `the check worker failed: ${e.message || 'it could not be loaded'}` };
};
