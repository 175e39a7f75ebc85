/** Where a command writes: standard output, or a test's capture. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether output goes to a terminal (a live progress bar) or not (plain lines). */
  isTTY: boolean;
}

// `backprop eval ... | head`: when the reader goes away, stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
};
