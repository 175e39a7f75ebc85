import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageEntry, PACKAGE_NAME } from './packageEntry.mjs';
import { codeBlocks, importedNames, isPackageName, root, runSnippet, typeCheck, writeSnippets } from './snippets.js';
import { UsageError as CliUsageError } from '../../src/cli/errors.js';
import * as library from '../../src/index.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const snippets = codeBlocks(readme).filter((b) => b.lang === 'ts' || b.lang === 'typescript');

describe('README: every TypeScript block type-checks and runs against the package by name', () => {
  let files: string[] = [];
  before(() => {
    files = writeSnippets('docs-readme', snippets.map((s) => ({ name: `readme-line-${s.line}`, code: s.code })));
  });

  it('has TypeScript blocks, each importing from the package name', () => {
    assert.ok(snippets.length >= 3, `found ${snippets.length} ts blocks`);
    for (const s of snippets) {
      const names = importedNames(s.code);
      assert.ok(names.length > 0 || s.fragment, `README line ${s.line}: imports nothing`);
      for (const name of names) {
        assert.ok(isPackageName(name) || name.startsWith('node:'), `README line ${s.line}: imports '${name}'; a user imports '${PACKAGE_NAME}'`);
      }
    }
  });

  it('type-checks (strict, no unused names)', () => {
    assert.deepEqual(typeCheck(files), []);
  });

  snippets.forEach((s, i) => {
    it(`runs the block at README line ${s.line}${s.fragment ? ' (a fragment: type-checked only)' : ''}`, { skip: s.fragment }, (t) => {
      const r = runSnippet(files[i]);
      t.diagnostic(`${r.seconds.toFixed(1)} s; stdout: ${r.stdout.trim().replace(/\n/g, ' | ')}`);
      assert.equal(r.status, 0, `README line ${s.line} failed:\n${r.stderr}`);
      if (/console\.log/.test(s.code)) assert.notEqual(r.stdout.trim(), '', 'printed nothing');
      assert.doesNotMatch(r.stdout, /\bNaN\b/);
    });
  });
});

describe('the block extractor', () => {
  it('finds fenced blocks with their language and line, and marks fragments', () => {
    const md = 'text\n```ts\nconst a = 1;\n```\n\n```sh\nnpm test\n```\n````ts\n// fragment\nx;\n````\n';
    assert.deepEqual(codeBlocks(md), [
      { line: 2, lang: 'ts', code: 'const a = 1;\n', fragment: false },
      { line: 6, lang: 'sh', code: 'npm test\n', fragment: false },
      { line: 9, lang: 'ts', code: '// fragment\nx;\n', fragment: true },
    ]);
  });
});

describe("the name 'backprop-ts' leads to the sources, before and after an exports map", () => {
  const make = (pkg: object) => {
    const dir = mkdtempSync(join(tmpdir(), 'backprop-entry-'));
    mkdirSync(join(dir, 'src'));
    for (const f of ['index.ts', 'node.ts']) writeFileSync(join(dir, 'src', f), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    return { dir, root: new URL(`file://${dir}/`) };
  };
  it('without an exports map (or under another name): src/index.ts; a subpath is an error', () => {
    const { dir, root } = make({ name: 'backprop', main: 'dist/index.js' });
    try {
      assert.equal(packageEntry('backprop-ts', { root }), new URL('src/index.ts', root).href);
      assert.throws(() => packageEntry('backprop-ts/node', { root }), /no exports map for backprop-ts/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
  it('with one: the node/import target, dist/*.js mapped to src/*.ts; a subpath by its own entry', () => {
    const { dir, root } = make({
      name: 'backprop-ts', type: 'module',
      exports: { '.': { types: './dist/node.d.ts', browser: './dist/index.js', node: './dist/node.js', default: './dist/index.js' }, './core': './dist/index.js' },
    });
    try {
      assert.equal(packageEntry('backprop-ts', { root }), new URL('src/node.ts', root).href);
      assert.equal(packageEntry('backprop-ts/core', { root }), new URL('src/index.ts', root).href);
      assert.throws(() => packageEntry('backprop-ts/missing', { root }), /Missing "\.\/missing" specifier/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('the errors the README lists are exported by the library', () => {
  it('ShapeError, DataError, TrainingError, UsageError: Error classes; the CLI throws the same UsageError', () => {
    const listed = /Errors are classes[^\n]*(?:\n[^\n-][^\n]*)*/.exec(readme)?.[0] ?? '';
    const names = [...listed.matchAll(/`(\w+Error)`/g)].map((m) => m[1]);
    assert.deepEqual(names, ['ShapeError', 'DataError', 'TrainingError', 'UsageError']);
    for (const name of names) {
      const cls = (library as Record<string, unknown>)[name] as (new (m: string) => Error) | undefined;
      assert.equal(typeof cls, 'function', `${name} is not exported`);
      const e = new cls!('x');
      assert.ok(e instanceof Error);
      assert.equal(e.name, name);
    }
    assert.equal(library.UsageError, CliUsageError);
  });
});
