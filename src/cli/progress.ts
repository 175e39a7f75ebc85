import type { EpochRecord } from '../train/train.js';

/** How a training run reports itself: a live bar on a terminal, plain lines otherwise. */
export class Progress {
  private lastDraw = 0;
  private last: EpochRecord | null = null;
  private readonly start = performance.now();

  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
    private readonly quiet: boolean,
  ) {}

  /** Redraw the bar, at most ten times a second. */
  iteration(i: number, loss: number): void {
    if (this.quiet || !this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && i !== this.total) return;
    this.lastDraw = now;
    const acc = this.last ? `  train ${this.last.trainAccuracy.toFixed(4)}  test ${this.last.testAccuracy.toFixed(4)}` : '';
    const secs = ((now - this.start) / 1000).toFixed(1);
    this.write(`\r${bar(i / this.total)} ${i}/${this.total}  loss ${loss.toFixed(4)}${acc}  ${secs}s\x1b[K`);
  }

  epoch(r: EpochRecord): void {
    this.last = r;
    if (this.quiet) return;
    const line = `epoch ${String(r.epoch).padStart(3)}  iter ${String(r.iteration).padStart(String(this.total).length)}/${this.total}  loss ${r.loss.toFixed(4)}  train acc ${r.trainAccuracy.toFixed(4)}  test acc ${r.testAccuracy.toFixed(4)}  ${r.seconds.toFixed(1)}s`;
    this.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }
}

/** A text progress bar, `[#####.....]`, for a fraction from 0 to 1. */
export function bar(fraction: number, width = 30): string {
  const filled = Math.max(0, Math.min(width, Math.round(width * fraction)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
