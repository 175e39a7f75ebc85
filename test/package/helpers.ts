/**
 * The package as a user gets it: packed by `npm pack` (from the built dist/ and web/dist/) and installed
 * from the tarball, by name, into a new project in a temporary folder, from npm's cache (filled
 * by the repository's own `npm ci`) without the network where it can.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs npm in `cwd`; fails with its output. */
export function npm(cwd: string, args: string[]): string {
  const r = spawnSync(NPM, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm pack` of the repository, as built, into `dest`; returns the tarball's path. */
export function packTarball(dest: string): string {
  npm(ROOT, ['pack', '--silent', '--ignore-scripts', '--pack-destination', dest]);
  const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack wrote no tarball into ${dest}`);
  return join(dest, tgz);
}

/** A new project (type module) with the tarball installed; returns its folder. */
export function installTarball(tarball: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  npm(dir, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball]);
  return dir;
}

/** The files of the tarball, as `tar -tzf` lists them (without the leading package/). */
export function tarballFiles(tarball: string): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
}
