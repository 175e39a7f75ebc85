// Documentation code that runs: fenced blocks of Markdown and of doc comments, type-checked as
// the project's own code and run as a user runs them, importing the package by its name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { packageEntryPath, PACKAGE_NAME } from './packageEntry.mjs';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const register = new URL('register.mjs', import.meta.url).href;
const tsx = import.meta.resolve('tsx'); // by URL: the snippets run in an empty temporary folder

/** A fenced code block. */
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

/** A ```ts block in a doc comment of a source file, and the symbol the comment documents. */
export interface DocExample extends Snippet {
  /** Relative to the repository, e.g. src/layers/Affine.ts. */
  file: string;
  symbol: string;
}

/** Every ```ts block of the doc comments under `dir` (lines are the file's). */
export function docExamples(dir = join(root, 'src')): DocExample[] {
  const found: DocExample[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(?:export\s+)?(?:(?:abstract|async|declare|default)\s+)*(?:class|function|interface|const|type|let)?\s*(\w+)?/g)) {
      const first = text.slice(0, m.index).split('\n').length;
      const body = m[1].split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n');
      for (const b of codeBlocks(body)) {
        if (b.lang === 'ts') found.push({ ...b, line: first + b.line - 1, file: relative(root, path), symbol: m[2] ?? '' });
      }
    }
  }
  return found;
}

/** Write each snippet to its own .ts file in the repository's (git-ignored) test-output/, so "type": "module" applies. */
export function writeSnippets(folder: string, snippets: { name: string; code: string }[]): string[] {
  const dir = join(root, 'test-output', folder);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return snippets.map(({ name, code }) => {
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, code);
    return file;
  });
}

/** Type-check files as the project does (strict, noUnusedLocals), with `backprop-ts` resolved as the snippets run it. */
export function typeCheck(files: string[]): string[] {
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
      return `${relative(root, d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

/** The package names a snippet imports from. */
export function importedNames(code: string): string[] {
  return [...code.matchAll(/(?:from|import)\s+'([^']+)'/g)].map((m) => m[1]);
}

/** Whether a name is the package (or a subpath of it), as a user imports it. */
export const isPackageName = (name: string): boolean => name === PACKAGE_NAME || name.startsWith(`${PACKAGE_NAME}/`);

/** Run a snippet file as a user would (node with tsx), in an empty temporary folder; 'backprop-ts' resolves through test/docs/hooks.mjs. */
export function runSnippet(file: string): { status: number | null; stdout: string; stderr: string; seconds: number } {
  const cwd = mkdtempSync(join(tmpdir(), 'backprop-snippet-'));
  try {
    const started = performance.now();
    const r = spawnSync(process.execPath, ['--import', tsx, '--import', register, file], {
      cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' },
    });
    const stderr = r.stderr + (r.error ? String(r.error) : '');
    return { status: r.status, stdout: r.stdout, stderr, seconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
