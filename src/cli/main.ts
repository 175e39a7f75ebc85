import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { processIO, type CliIO } from './io.js';
import { TRAIN_HELP, trainCommand } from './train.js';
import { GRADCHECK_HELP, gradcheckCommand } from './gradcheck.js';
import { PLAYGROUND_HELP } from './playground.js';
import { COMPARE_OPTIMIZERS_HELP, compareOptimizersCommand } from './compareOptimizers.js';
import { EVAL_HELP, PREDICT_HELP, evalCommand, predictCommand } from './evalModel.js';

const HELP = `Usage: backprop <command> [flags]

Neural networks trained by error backpropagation (Deep Learning from Scratch, chapters 5-7).

Commands:
  train        train a network (default: the book's TwoLayerNet on the bundled digits)
  eval         a saved model's test accuracy and confusion matrix
  predict      classify PNG images of digits with a saved model
  gradcheck    compare backprop with numerical gradients
  compare-optimizers  SGD, Momentum, AdaGrad and Adam side by side on the digits (fig. 6-9)
  graph        draw a computational graph with its values and gradients
  playground   the browser playground: graph explorer, training, drawing a digit
  help [cmd]   this help, or a command's

Run 'backprop <command> --help' for its flags.
`;

const HELPS: Record<string, string> = { train: TRAIN_HELP, gradcheck: GRADCHECK_HELP, playground: PLAYGROUND_HELP, eval: EVAL_HELP, predict: PREDICT_HELP, 'compare-optimizers': COMPARE_OPTIMIZERS_HELP };

/**
 * Run the CLI with `argv` (without node and the script) and return the exit code:
 * 0 success, 1 failure (bad data, diverged training), 2 usage error.
 * Errors are printed as one line; set BACKPROP_DEBUG=1 for the stack.
 */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'train':
        await trainCommand(rest, io);
        return 0;
      case 'compare-optimizers':
        await compareOptimizersCommand(rest, io);
        return 0;
      case 'gradcheck':
        return await gradcheckCommand(rest, io);
      case 'graph': {
        const { graphCommand } = await import('./graph.js');
        await graphCommand(rest, (line) => io.out(line + '\n'));
        return 0;
      }
      case 'eval':
        await evalCommand(rest, io);
        return 0;
      case 'predict':
        await predictCommand(rest, io);
        return 0;
      case 'playground': {
        const { playgroundCommand } = await import('./playground.js');
        await playgroundCommand(rest, io); // returns once listening; the server runs until Ctrl-C
        return 0;
      }
      case 'help':
      case '--help':
      case '-h':
      case undefined:
        io.out(rest[0] && Object.hasOwn(HELPS, rest[0]) ? HELPS[rest[0]] : HELP); // hasOwn: 'help constructor' printed Object's source
        return command === undefined ? 2 : 0;
      case '--version':
        io.out(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version + '\n');
        return 0;
      default:
        throw new UsageError(`unknown command '${command}' (commands: train, eval, predict, gradcheck, compare-optimizers, graph, playground, help)`);
    }
  } catch (e) {
    const err = e as Error;
    if (process.env.BACKPROP_DEBUG) io.err(`${err.stack}\n`);
    // one line, even when a value or path given holds a newline (a graph's error shows the expression and a caret below)
    const message = command === 'graph' ? err.message : err.message.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
    io.err(`backprop: ${err.name === 'Error' ? 'error' : err.name}: ${message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
