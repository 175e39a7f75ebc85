// Where the name 'backprop-ts' leads, for running and type-checking documentation snippets
// against the repository's current sources, as a user's `import ... from 'backprop-ts'`.
//
// With package.json named 'backprop-ts' and an `exports` map, the entry comes from that map
// (conditions node + import, as Node resolves a self-reference), and a target in dist/ is mapped
// to its source in src/ (dist/node.js → src/node.ts), so tests need no build and never run a
// stale one. Without an exports map for that name, 'backprop-ts' is src/index.ts.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exports as resolveExports } from 'resolve.exports';

export const PACKAGE_NAME = 'backprop-ts';
const repoRoot = new URL('../../', import.meta.url);

/** Whether a specifier names the package or one of its subpaths. */
export function isPackageSpecifier(specifier) {
  return specifier === PACKAGE_NAME || specifier.startsWith(`${PACKAGE_NAME}/`);
}

/**
 * The file URL of the source module that `specifier` ('backprop-ts' or 'backprop-ts/sub') names,
 * in the package at `root` (a folder URL ending in '/'; this repository by default).
 */
export function packageEntry(specifier = PACKAGE_NAME, { root = repoRoot, conditions = ['node', 'import'] } = {}) {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  const subpath = specifier === PACKAGE_NAME ? '.' : `.${specifier.slice(PACKAGE_NAME.length)}`;
  if (pkg.name !== PACKAGE_NAME || pkg.exports === undefined) {
    if (subpath === '.') return new URL('src/index.ts', root).href;
    throw new Error(`${specifier}: package.json has no exports map for ${PACKAGE_NAME}, so only the bare name resolves (to src/index.ts)`);
  }
  const targets = resolveExports(pkg, subpath, { conditions, unsafe: false }) ?? [];
  for (const target of targets) {
    const built = new URL(target, root);
    const rel = target.replace(/^\.\//, '');
    if (rel.startsWith('dist/') && /\.(m?js|d\.ts)$/.test(rel)) {
      const source = new URL(`src/${rel.slice(5).replace(/(\.d)?\.ts$|\.m?js$/, '.ts')}`, root);
      if (existsSync(source)) return source.href;
    }
    if (existsSync(built)) return built.href;
  }
  throw new Error(`${specifier}: the exports map of package.json gives ${JSON.stringify(targets)}, and neither it nor a matching src/ file exists`);
}

/** The same as a path. */
export function packageEntryPath(specifier = PACKAGE_NAME) {
  return fileURLToPath(packageEntry(specifier));
}

