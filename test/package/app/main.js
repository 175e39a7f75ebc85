// The page: starts the training worker (threads need a worker: a page's main thread may not
// block in Atomics.wait) and shows what it reports.
const out = document.getElementById('out');
const worker = new Worker(new URL('./train.worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => {
  const r = e.data;
  out.textContent = r.error
    ? `failed: ${r.error}`
    : `${r.iterations} iterations on ${r.backend} (${r.threads} threads): ${r.itersPerSec.toFixed(1)} it/s, test accuracy ${r.accuracy.toFixed(4)}`;
  document.body.dataset.result = JSON.stringify(r);
};
worker.onerror = (e) => {
  out.textContent = `worker error: ${e.message}`;
  document.body.dataset.result = JSON.stringify({ error: `worker error: ${e.message}` });
};
