import { readFileSync } from 'node:fs';
import { Interrupted, UsageError } from './errors.js';
import { processIO, type CliIO } from './io.js';
import { trainCommand } from './train.js';
import { gradcheckCommand } from './gradcheck.js';
import { compareOptimizersCommand } from './compareOptimizers.js';
import { evalCommand, predictCommand } from './evalModel.js';
import { dataCommand } from './data.js';
import { exportCommand } from './export.js';
import { suggestion } from './suggest.js';

/** What a command does, in one line, and how it runs (returning the exit code). */
interface Command {
  summary: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** A command that returns nothing, as one that exits 0. */
const ok = (f: (args: string[], io: CliIO) => Promise<unknown>) => async (args: string[], io: CliIO): Promise<number> => {
  await f(args, io);
  return 0;
};

/** The commands, in the order `backprop help` lists them: a new command is one line here. */
const COMMANDS: Record<string, Command> = {
  train: { summary: "train a network (default: the book's TwoLayerNet on the bundled digits)", run: ok(trainCommand) },
  eval: { summary: "a saved model's test accuracy and confusion matrix", run: ok(evalCommand) },
  predict: { summary: 'classify PNG images of digits with a saved model', run: ok(predictCommand) },
  export: { summary: 'a saved model as ONNX (--onnx) or TF.js (--tfjs) files for other runtimes', run: ok(exportCommand) },
  gradcheck: { summary: 'compare backprop with numerical gradients', run: gradcheckCommand },
  'compare-optimizers': { summary: 'SGD, Momentum, AdaGrad and Adam side by side on the digits (fig. 6-9)', run: ok(compareOptimizersCommand) },
  data: { summary: 'download MNIST or Fashion-MNIST (60,000 + 10,000 images), verified, into the cache', run: dataCommand },
  graph: { summary: 'draw a computational graph with its values and gradients', run: ok(async (a, io) => (await import('./graph.js')).graphCommand(a, (line) => io.out(line + '\n'))) },
  // returns once listening; the server runs until Ctrl-C
  playground: { summary: 'the browser playground: graph explorer, training, drawing a digit', run: ok(async (a, io) => (await import('./playground.js')).playgroundCommand(a, io)) },
};

const NAMES = Object.keys(COMMANDS);
const WIDTH = Math.max(...NAMES.map((n) => n.length), 'help [cmd]'.length) + 2;

const HELP = `Usage: backprop <command> [flags]

Neural networks trained by error backpropagation (Deep Learning from Scratch, chapters 5-7).

Commands:
${[...NAMES.map((n) => [n, COMMANDS[n].summary]), ['help [cmd]', "this help, or a command's"]].map(([n, s]) => `  ${n.padEnd(WIDTH)}${s}\n`).join('')}
Run 'backprop <command> --help' for its flags.
`;

/**
 * Run the CLI with `argv` (without node and the script) and return the exit code:
 * 0 success, 1 failure (bad data, diverged training), 2 usage error, 130 interrupted (Ctrl-C).
 * Errors are printed as one line; set BACKPROP_DEBUG=1 for the stack.
 */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && Object.hasOwn(COMMANDS, command)) return await COMMANDS[command].run(rest, io);
    switch (command) {
      case 'help':
      case '--help':
      case '-h':
      case undefined: {
        const topic = rest[0];
        if (topic === undefined || topic === 'help') {
          io.out(HELP);
          return command === undefined ? 2 : 0;
        }
        if (!Object.hasOwn(COMMANDS, topic)) throw new UsageError(`no help on '${topic}'${suggestion(topic, NAMES)} (commands: ${NAMES.join(', ')})`);
        return await COMMANDS[topic].run(['--help'], io);
      }
      case '--version':
        io.out(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version + '\n');
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'${suggestion(command, [...NAMES, 'help'])} (commands: ${[...NAMES, 'help'].join(', ')})`);
    }
  } catch (e) {
    const err = e as Error;
    if (process.env.BACKPROP_DEBUG) io.err(`${err.stack}\n`);
    if (e instanceof Interrupted) {
      io.err(`backprop: ${err.message}\n`);
      return 130;
    }
    // one line, even when a value or path given holds a newline (a graph's error shows the expression and a caret below)
    const message = command === 'graph' ? err.message : err.message.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
    io.err(`backprop: ${err.name === 'Error' ? 'error' : err.name}: ${message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
