/**
 * A progress line on stderr for long operations. On a terminal it is redrawn in place at most ten times a
 * second; otherwise (a pipe, a log file) a line is printed at each quarter, and only when the work is big
 * enough for that to help.
 */
export class Progress {
  private lastDraw = 0;
  private lastQuarter = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Below this many items nothing is printed when stderr is not a terminal. */
    private readonly quietBelow = 1000,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(done: number): void {
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(done)}`);
      return;
    }
    if (this.total < this.quietBelow) return;
    const quarter = Math.floor((done * 4) / Math.max(1, this.total));
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.stream.write(`${this.line(done)}\n`);
    }
  }

  /** Clears the line on a terminal. */
  finish(): void {
    if (this.tty && this.lastDraw > 0) this.stream.write('\r\x1b[K');
  }

  private line(done: number): string {
    const pct = this.total === 0 ? 100 : Math.floor((done * 100) / this.total);
    return `${this.label}: ${done}/${this.total} (${pct}%)`;
  }
}
