/** This package's version, as in package.json (a test keeps them equal); recorded in exported models. */
export const VERSION = '0.1.0';

/** This package's npm name, recorded as the producer of exported models. */
export const PACKAGE_NAME = 'backprop-ts';
