/** Where a command writes: standard output, or a test's capture. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether output goes to a terminal (a live progress bar) or not (plain lines). */
  isTTY: boolean;
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
};
