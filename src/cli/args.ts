import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';
import { suggestion } from './suggest.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flag values by name (strings, or booleans for switches) and the positional arguments. */
export interface ParsedFlags<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string };
  positionals: string[];
}

/**
 * Parse a command's flags strictly: an unknown flag, a missing value or a stray argument is a
 * UsageError that names it.
 */
export function parseFlags<O extends Options>(command: string, args: string[], options: O, allowPositionals = false): ParsedFlags<O> {
  // `--lr -0.5`: take a negative number as the flag's value (parseArgs would call it ambiguous).
  args = args.flatMap((a, i) => {
    const name = a.startsWith('--') ? a.slice(2) : null;
    if (name && options[name]?.type === 'string' && /^-[\d.]/.test(args[i + 1] ?? '')) return [`${a}=${args[i + 1]}`];
    if (i > 0 && /^-[\d.]/.test(a) && args[i - 1].startsWith('--') && options[args[i - 1].slice(2)]?.type === 'string') return [];
    return [a];
  });
  try {
    return parseArgs({ args, options, strict: true, allowPositionals }) as unknown as ParsedFlags<O>;
  } catch (e) {
    const err = e as Error & { code?: string };
    const msg = err.message
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/^Unknown option/, 'unknown flag')
      .replace(/\s*\n\s*/g, ' ') // one line
      .replace(/^(unknown flag '--?([^'=]*)[^']*')/, (m, _, name: string) => m + suggestion(name, Object.keys(options), '--')); // did you mean --iters?
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`${command}: ${msg} (see backprop ${command} --help)`);
    }
    throw e;
  }
}

/** A whole number flag within [min, max]. */
export function intFlag(flag: string, value: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got '${value}'`);
  if (n < min || n > max) {
    throw new UsageError(`--${flag} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}, got ${n}`);
  }
  return n;
}

/** A positive finite number flag. */
export function positiveFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got '${value}'`);
  if (n <= 0) throw new UsageError(`--${flag} must be greater than 0, got ${n}`);
  return n;
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(flag: string, value: string | undefined, fallback: T, choices: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got '${value}'`);
  return value as T;
}
