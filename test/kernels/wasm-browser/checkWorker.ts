/** The browser test's worker: runs the checks where Atomics.wait is allowed (threads), posts the report. */
import { runChecks } from './checks.js';

const scope = self as unknown as { postMessage(msg: unknown): void };
runChecks().then(
  (report) => scope.postMessage(report),
  (e: unknown) => scope.postMessage({ error: String((e as Error)?.stack ?? e) }),
);
