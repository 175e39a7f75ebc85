/**
 * The playground page: the graph explorer, training in a Web Worker, and drawing a digit
 * for the trained network. Built by scripts/build-web.mjs into web/dist/main.js.
 */
import { setupDrawPanel } from './drawPanel.js';
import { setupGraphExplorer } from './graphExplorer.js';
import { setupTrainPanel } from './trainPanel.js';
import { WorkerClient } from './workerClient.js';

setupGraphExplorer();
const client = new WorkerClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
setupTrainPanel(client);
setupDrawPanel(client);
