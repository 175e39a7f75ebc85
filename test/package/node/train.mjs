// A Node script in a fresh project: the package imported by name, trained with no backend call
// (the default), then again after useBackend('js'); prints one JSON line of what it measured.
import { loadBundledDigits, useBackend } from 'backprop-ts';
import { trainTwoLayer } from './trainTwoLayer.js';

const ITERATIONS = Number(process.argv[2] ?? 200);
const digits = loadBundledDigits();
const byDefault = trainTwoLayer(digits, ITERATIONS);
await useBackend('js');
const js = trainTwoLayer(digits, ITERATIONS);
console.log(JSON.stringify({ iterations: ITERATIONS, default: byDefault, js }));
