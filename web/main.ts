/**
 * The playground page: the guided walk through chapter 5 (one section at a time), training in
 * a Web Worker, and drawing a digit for the trained network, in Chinese or English.
 * Built by scripts/build-web.mjs into web/dist/main.js.
 */
import { byId } from './dom.js';
import { setupDrawPanel } from './drawPanel.js';
import { setupGraphExplorer } from './graphExplorer.js';
import { type Lang, pickLang, setLang } from './i18n/index.js';
import { setupTrainPanel } from './trainPanel.js';
import { setParam } from './url.js';
import { setupAffineSection } from './walk/affineSection.js';
import { setupChainSection } from './walk/chainSection.js';
import { setupGradcheckSection } from './walk/gradcheckSection.js';
import { setupLayersSection } from './walk/layersSection.js';
import { setupNetSection } from './walk/netSection.js';
import { setupNodesSection } from './walk/nodesSection.js';
import { setupReluSection } from './walk/reluSection.js';
import { setupSigmoidSection } from './walk/sigmoidSection.js';
import { setupSoftmaxSection } from './walk/softmaxSection.js';
import { setupWalk } from './walk/walk.js';
import { WorkerClient } from './workerClient.js';

// the language first, so every part draws its texts once in it
const langSelect = byId('lang', HTMLSelectElement);
const first = pickLang(location.search, navigator.languages?.length ? navigator.languages : [navigator.language]);
setLang(first);
langSelect.value = first;
langSelect.addEventListener('change', () => {
  const next = langSelect.value as Lang;
  setLang(next);
  setParam('lang', next);
});

setupWalk();
setupGraphExplorer();
setupChainSection();
setupNodesSection();
setupLayersSection();
setupReluSection();
setupSigmoidSection();
setupAffineSection('affine');
setupAffineSection('batch');
setupSoftmaxSection();
setupNetSection();
setupGradcheckSection();

// `?backend=js` in the page's address trains with the TypeScript kernels instead of WebAssembly,
// `?threads=1` with WebAssembly on one thread: to compare speeds
const workerUrl = new URL('./worker.js', import.meta.url);
for (const [key, value] of new URLSearchParams(location.search)) {
  if (key === 'backend' || key === 'threads') workerUrl.searchParams.set(key, value);
}
const client = new WorkerClient(new Worker(workerUrl, { type: 'module' }));
setupTrainPanel(client);
setupDrawPanel(client);
