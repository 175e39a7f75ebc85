// `node --import tsx --import ./test/docs/register.mjs snippet.ts` runs a snippet that imports 'backprop-ts'.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
