// A one-line progress indicator: redrawn in place on a terminal, one line per change in
// logs and CI, so long waits are visible either way.
const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  private frame = 0;
  private last = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = Date.now();

  update(text: string): void {
    if (!this.tty) {
      if (text !== this.last) process.stderr.write(`… ${text}\n`);
    } else {
      this.timer ??= setInterval(() => this.draw(), 100);
    }
    this.last = text;
    this.draw();
  }

  done(text: string): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`✓ ${text}\n`);
  }

  fail(text: string): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`✗ ${text}\n`);
  }

  private draw(): void {
    if (!this.tty) return;
    const secs = Math.round((Date.now() - this.started) / 1000);
    process.stderr.write(`\r\x1b[2K${frames[this.frame++ % frames.length]} ${this.last} (${secs}s)`);
  }
}
