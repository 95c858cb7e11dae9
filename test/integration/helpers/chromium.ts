// Headless Chromium (Debian's `chromium`) for tests that open a generated page: driven over
// --remote-debugging-pipe (no port), which reports every request the page makes, behind a
// proxy that refuses everything but the origins a test names. Shared by the audit package's and
// the monitoring report's tests (no origin: the page must load nothing) and the Web UI's.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { inflateSync } from 'node:zlib';

export const CHROMIUM = process.env.MLC_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium over --remote-debugging-pipe: JSON messages, NUL-terminated, on fds 3 and 4.
 * Network events of the page's own session say exactly what the page asked for; a proxy that
 * refuses everything keeps Chromium's own background calls (and any slip of the page) local.
 */
export class Browser {
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(m: CdpMessage) => void>();
  private sessionId = '';
  /** Every URL the page has requested since launch, in order. */
  readonly requests: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly proxy: Server,
  ) {
    const output = child.stdio[4] as Readable;
    output.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const message = JSON.parse(this.buffer.slice(0, end)) as CdpMessage;
        this.buffer = this.buffer.slice(end + 1);
        const waiter = message.id !== undefined ? this.waiting.get(message.id) : undefined;
        if (waiter) {
          this.waiting.delete(message.id!);
          if (message.error) waiter.reject(new Error(`chromium: ${message.error.message}`));
          else waiter.resolve(message);
        } else this.listeners.forEach((l) => l(message));
      }
    });
  }

  /** `reachable`: the only origins (host:port) the page may reach, beside its own files; nothing by default. */
  static async launch(workDir: string, reachable: string[] = []): Promise<Browser> {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found: install Debian's chromium (scripts/setup.sh does; or apt-get install -y chromium), or set MLC_CHROMIUM`);
    const proxy = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    const child = spawn(
      CHROMIUM,
      [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--window-size=1280,4000',
        '--hide-scrollbars',
        '--remote-debugging-pipe',
        `--user-data-dir=${path.join(workDir, 'chromium-profile')}`,
        `--proxy-server=http://127.0.0.1:${port}`,
        `--proxy-bypass-list=${['<-loopback>', ...reachable].join(';')}`,
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const browser = new Browser(child, proxy);
    browser.listeners.add((m) => {
      if (m.sessionId === browser.sessionId && m.method === 'Network.requestWillBeSent')
        browser.requests.push((m.params as { request: { url: string } }).request.url);
    });
    const { targetId } = (await browser.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    browser.sessionId = ((await browser.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string }).sessionId;
    await browser.send('Network.enable', {}, true);
    await browser.send('Page.enable', {}, true);
    await browser.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 4000, deviceScaleFactor: 1, mobile: false }, true);
    return browser;
  }

  send(method: string, params: object = {}, inPage = false, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not answer ${method} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m.result ?? {});
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      (this.child.stdio[3] as Writable).write(JSON.stringify({ id, method, params, ...(inPage ? { sessionId: this.sessionId } : {}) }) + '\0');
    });
  }

  /**
   * Navigates to a file (an absolute path) or a URL and waits for the load event (plus a moment
   * for late requests); returns every URL the page requested meanwhile.
   */
  async open(fileOrUrl: string): Promise<{ requests: string[] }> {
    const first = this.requests.length;
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    const listener = (m: CdpMessage) => {
      if (m.sessionId === this.sessionId && m.method === 'Page.loadEventFired') loaded();
    };
    this.listeners.add(listener);
    try {
      await this.send('Page.navigate', { url: fileOrUrl.startsWith('/') ? `file://${fileOrUrl}` : fileOrUrl }, true);
      await load;
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { requests: this.requests.slice(first) };
    } finally {
      this.listeners.delete(listener);
    }
  }

  async evaluate(expression: string): Promise<unknown> {
    const result = (await this.send('Runtime.evaluate', { expression, returnByValue: true }, true)) as {
      result: { value: unknown };
      exceptionDetails?: { text: string };
    };
    if (result.exceptionDetails) throw new Error(`in the page: ${result.exceptionDetails.text}`);
    return result.result.value;
  }

  async screenshot(): Promise<Buffer> {
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png' }, true)) as { data: string };
    return Buffer.from(data, 'base64');
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => undefined);
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      setTimeout(() => this.child.kill('SIGKILL'), 5_000).unref();
      await exited;
    }
    await new Promise((resolve) => this.proxy.close(resolve));
  }
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: unknown;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** Just enough PNG for Chromium's screenshots: 8-bit RGB or RGBA, not interlaced. */
export function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('expected an 8-bit, non-interlaced PNG');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      if (!channels) throw new Error(`PNG colour type ${data[9]} not handled`);
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

export function countColour(image: ReturnType<typeof decodePng>, [r, g, b]: [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += image.channels) {
    if (Math.abs(image.pixels[i]! - r) <= 6 && Math.abs(image.pixels[i + 1]! - g) <= 6 && Math.abs(image.pixels[i + 2]! - b) <= 6) n++;
  }
  return n;
}
