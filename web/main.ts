/**
 * The playground page: the graph explorer, training in a Web Worker, and drawing a digit
 * for the trained network. Built by scripts/build-web.mjs into web/dist/main.js.
 */
import { setupDrawPanel } from './drawPanel.js';
import { setupGraphExplorer } from './graphExplorer.js';
import { setupTrainPanel } from './trainPanel.js';
import { WorkerClient } from './workerClient.js';

setupGraphExplorer();
// `?backend=js` in the page's address trains with the TypeScript kernels instead of WebAssembly,
// `?threads=1` with WebAssembly on one thread: to compare speeds
const workerUrl = new URL('./worker.js', import.meta.url);
for (const [key, value] of new URLSearchParams(location.search)) {
  if (key === 'backend' || key === 'threads') workerUrl.searchParams.set(key, value);
}
const client = new WorkerClient(new Worker(workerUrl, { type: 'module' }));
setupTrainPanel(client);
setupDrawPanel(client);
