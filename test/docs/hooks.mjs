// Node module-resolution hook (module.register): 'backprop-ts' → the source module packageEntry
// picks, handed on to the next resolver (tsx's, which compiles .ts).
import { isPackageSpecifier, packageEntry } from './packageEntry.mjs';

export async function resolve(specifier, context, nextResolve) {
  return nextResolve(isPackageSpecifier(specifier) ? packageEntry(specifier) : specifier, context);
}
