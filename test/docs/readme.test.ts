import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { packageEntry, packageEntryPath, PACKAGE_NAME } from './packageEntry.mjs';
import { UsageError as CliUsageError } from '../../src/cli/errors.js';
import * as library from '../../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const register = new URL('register.mjs', import.meta.url).href;
const tsx = import.meta.resolve('tsx'); // by URL: the snippets run in an empty temporary folder
// Inside the repository, so its package.json ("type": "module") makes each snippet an ES module.
const snippetDir = join(root, 'test-output', 'docs-snippets');

/** A fenced code block of a Markdown file. */
export interface Snippet {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** Says `// fragment`: type-checked only, not run. */
  fragment: boolean;
}

/** The fenced code blocks of a Markdown text, with their languages and lines. */
export function codeBlocks(markdown: string): Snippet[] {
  const blocks: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trimStart().startsWith(fence)) body.push(lines[j++]);
    const code = body.join('\n') + '\n';
    blocks.push({ line: i + 1, lang: open[3], code, fragment: /^\s*\/\/\s*fragment\b/m.test(code) });
    i = j;
  }
  return blocks;
}

/** Type-check files as the project does (strict, noUnusedLocals), with `backprop-ts` resolved as the snippets run it. */
function typeCheck(files: string[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  });
  assert.ok(config);
  const options: ts.CompilerOptions = {
    ...config.options, noEmit: true, rootDir: root, baseUrl: root,
    paths: { [PACKAGE_NAME]: [packageEntryPath()] },
  };
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${d.file!.fileName}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const snippets = codeBlocks(readme).filter((b) => b.lang === 'ts' || b.lang === 'typescript');
const fileOf = (s: Snippet) => join(snippetDir, `readme-line-${s.line}.ts`);

describe('README: every TypeScript block type-checks and runs against the package by name', () => {
  before(() => {
    rmSync(snippetDir, { recursive: true, force: true });
    mkdirSync(snippetDir, { recursive: true });
    for (const s of snippets) writeFileSync(fileOf(s), s.code);
  });

  it('has TypeScript blocks, each importing from the package name', () => {
    assert.ok(snippets.length >= 3, `found ${snippets.length} ts blocks`);
    for (const s of snippets) {
      const imports = [...s.code.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      assert.ok(imports.length > 0 || s.fragment, `README line ${s.line}: imports nothing`);
      for (const name of imports) {
        assert.ok(name === PACKAGE_NAME || name.startsWith(`${PACKAGE_NAME}/`) || name.startsWith('node:'),
          `README line ${s.line}: imports '${name}'; a user imports '${PACKAGE_NAME}'`);
      }
    }
  });

  it('type-checks (strict, no unused names)', () => {
    assert.deepEqual(typeCheck(snippets.map(fileOf)), []);
  });

  for (const s of snippets) {
    it(`runs the block at README line ${s.line}${s.fragment ? ' (a fragment: type-checked only)' : ''}`, { skip: s.fragment }, (t) => {
      const cwd = mkdtempSync(join(tmpdir(), 'backprop-readme-'));
      try {
        const started = performance.now();
        const r = spawnSync(process.execPath, ['--import', tsx, '--import', register, fileOf(s)], {
          cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' },
        });
        t.diagnostic(`${((performance.now() - started) / 1000).toFixed(1)} s; stdout: ${r.stdout.trim().replace(/\n/g, ' | ')}`);
        assert.equal(r.status, 0, `README line ${s.line} failed:\n${r.stderr}${r.error ? String(r.error) : ''}`);
        if (/console\.log/.test(s.code)) assert.notEqual(r.stdout.trim(), '', 'printed nothing');
        assert.doesNotMatch(r.stdout, /\bNaN\b/);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  }
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
