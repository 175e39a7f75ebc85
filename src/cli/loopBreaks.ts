/** How often a long loop gives the event loop a turn, in milliseconds. */
const EVERY_MS = 50;

/**
 * Lets a long synchronous loop (training) notice what arrives through the event loop: Ctrl-C,
 * and stdout closing under it (`backprop train | head -2`: the EPIPE handler in io.ts ends the
 * process). `pause()` yields at most every 50 ms; with `watchInterrupt` the first SIGINT sets
 * `interrupted` for the loop to stop cleanly, and a second one exits at once (130).
 *
 * @example
 * const breaks = new LoopBreaks({ watchInterrupt: true });
 * try {
 *   while (!trainer.done && !breaks.interrupted) { trainer.trainStep(); await breaks.pause(); }
 * } finally { breaks.dispose(); }
 */
export class LoopBreaks {
  /** Whether SIGINT has arrived since the watch began. */
  interrupted = false;
  private last = performance.now();
  private readonly onInterrupt = (): void => {
    if (this.interrupted) process.exit(130);
    this.interrupted = true;
  };

  constructor(private readonly options: { watchInterrupt?: boolean } = {}) {
    if (options.watchInterrupt) process.on('SIGINT', this.onInterrupt);
  }

  /** Give the event loop a turn if the last was EVERY_MS ago or more. */
  async pause(): Promise<void> {
    if (performance.now() - this.last < EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }

  /** Stop watching SIGINT: Ctrl-C ends the process again. */
  dispose(): void {
    if (this.options.watchInterrupt) process.off('SIGINT', this.onInterrupt);
  }
}
