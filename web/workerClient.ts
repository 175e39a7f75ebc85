/** The page's side of the training worker: one worker, several listeners. */
import type { FromWorker, ToWorker } from './protocol.js';

export class WorkerClient {
  private readonly listeners: ((msg: FromWorker) => void)[] = [];

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
      for (const listener of this.listeners) listener(e.data);
    });
    worker.addEventListener('error', (e) => {
      // a worker that fails to load or throws outside its handlers: tell the page, don't die silently
      const failure = { kind: 'worker', detail: e.message || 'it could not be loaded' } as const;
      for (const listener of this.listeners) listener({ type: 'state', state: 'failed', iteration: 0, failure });
    });
  }

  send(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  on(listener: (msg: FromWorker) => void): void {
    this.listeners.push(listener);
  }
}
