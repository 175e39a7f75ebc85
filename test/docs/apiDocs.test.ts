import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { docExamples, importedNames, isPackageName, root, runSnippet, typeCheck, writeSnippets, type DocExample } from './snippets.js';

/** The main entry points, each with a runnable example in its doc comment. */
const MAIN = ['Tensor', 'TwoLayerNet', 'Affine', 'SoftmaxWithLoss', 'train', 'Trainer', 'useBackend'];

describe('API reference', () => {
  it('TypeDoc finds a doc comment on every exported symbol and member (typedoc.json validation)', () => {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none'], { cwd: root, encoding: 'utf8' });
    // eslint-disable-next-line no-control-regex
    const output = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
    assert.equal(r.status, 0, `npm run docs would fail:\n${output}`);
  });
});

describe('doc-comment examples that import the package run as written', () => {
  // An example is runnable when it is a ```ts block that imports 'backprop-ts'; others are illustrations.
  const runnable: DocExample[] = docExamples().filter((e) => importedNames(e.code).some(isPackageName));
  let files: string[] = [];
  before(() => {
    files = writeSnippets('docs-examples', runnable.map((e) => ({ name: `${e.file.replace(/[/.]/g, '_')}-line-${e.line}`, code: e.code })));
  });

  it(`the main entry points have one: ${MAIN.join(', ')}`, () => {
    const documented = new Set(runnable.map((e) => e.symbol));
    assert.deepEqual(MAIN.filter((name) => !documented.has(name)), []);
  });

  it('they type-check (strict, no unused names)', () => {
    assert.deepEqual(typeCheck(files), []);
  });

  runnable.forEach((e, i) => {
    it(`${e.symbol} (${e.file}:${e.line})`, { skip: e.fragment }, (t) => {
      const r = runSnippet(files[i]);
      t.diagnostic(`${r.seconds.toFixed(1)} s; stdout: ${r.stdout.trim().replace(/\n/g, ' | ')}`);
      assert.equal(r.status, 0, `${e.file}:${e.line} failed:\n${r.stderr}`);
      assert.doesNotMatch(r.stdout, /\bNaN\b/);
    });
  });
});
