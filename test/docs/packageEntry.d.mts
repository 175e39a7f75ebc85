export declare const PACKAGE_NAME: 'backprop-ts';
/** Whether a specifier names the package or one of its subpaths. */
export declare function isPackageSpecifier(specifier: string): boolean;
/** The file URL of the source module that `specifier` names, in the package at `root` (this repository by default). */
export declare function packageEntry(specifier?: string, options?: { root?: URL; conditions?: string[] }): string;
/** The same as a path. */
export declare function packageEntryPath(specifier?: string): string;
