// The audit package as an auditor gets it: a real evaluation (real preprocess, the tiny model
// from the real train.py, a deployed champion in a PGlite registry) writes the page, and
// headless Chromium (Debian's `chromium`) renders it. Chromium is driven over
// --remote-debugging-pipe (no port), which reports every request the page makes: the page must
// make none but its own file, every plot must have drawn shapes, and the screenshot must show
// the charts' colours. A probe page that does load from the network proves the watch works.
import { MockActivityEnvironment } from '@temporalio/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, createScoringActivities, type ActivityDeps } from '../../activities';
import type { AuditPackage } from '../../activities/audit-package/model';
import type { EvaluateInput } from '../../activities/evaluate';
import type { PreparedDataset, PreprocessDataInput } from '../../activities/preprocess';
import type { PrepareRunInput } from '../../activities/training';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import { loadScorer } from '../../adapters/scoring/onnx-scorer';
import { artifactLayout } from '../../domain/artifact-layout';
import type { EvaluationSummary } from '../../domain/lifecycle';
import { parseSpec, type TrainingParams } from '../../domain/spec';
import { loadConfig } from '../../temporal.config';
import { tinyDataset, tinyModel, TINY_LABELS, TINY_PARAMS, type TinyModel } from './helpers/tiny-model';

const CHROMIUM = process.env.MLC_CHROMIUM ?? '/usr/bin/chromium';
const name = 'audit-test';
const env = new MockActivityEnvironment();
const call = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> => env.run<[A], R, typeof fn>(fn, input);

let dir: string;
let registry: Registry;
let store: FsArtifactStore;
let model: TinyModel;
let deps: ActivityDeps;
let summary: EvaluationSummary;
let pkg: AuditPackage;
let datasetHash: string;

/** A run prepared the way a lifecycle prepares one, holding the tiny model's files, registered as a version. */
async function trainedVersion(runKey: string, attempt: number, dataset: PreparedDataset, params: TrainingParams): Promise<{ runDir: string; version: number }> {
  const control = createControlActivities(deps);
  const { runDir } = await call((i: PrepareRunInput) => control.prepareTrainingRun(i), {
    model: name,
    runKey,
    generation: 1,
    attempt,
    datasetHash: dataset.datasetHash,
    datasetDir: dataset.datasetDir,
    labels: TINY_LABELS,
    params,
    pretrainedDir: null,
    cluster: 'local',
  });
  for (const file of ['DONE', 'labels.json', 'metrics.json', 'model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']) {
    await cp(path.join(model.dir, file), path.join(store.root, runDir, file));
  }
  const { version } = await call((i: { model: string; runKey: string; runDir: string }) => control.registerTrainedModel(i), { model: name, runKey, runDir });
  return { runDir, version };
}

beforeAll(async () => {
  model = await tinyModel();
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-audit-'));
  registry = await openRegistry({ dataDir: dir });
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  deps = {
    config: loadConfig({ ...process.env, MLC_DATA_ROOTS: dir }),
    registry,
    store,
    executor: () => {
      throw new Error('no cluster in this test');
    },
    loadScorer,
    temporal: null as never,
    endpointUrl: '',
    azureMl: () => {
      throw new Error('no Azure ML workspace in this test');
    },
  };
  // Real preprocessing, so the data report has duplicates and quarantined rows to show.
  const rows = tinyDataset(240, 11);
  const lines = [...rows, rows[0], rows[1]].map((r) => JSON.stringify(r));
  lines.push('{"text": "ไม่มีป้ายกำกับ", "label": "spam"}', 'not json');
  const data = path.join(dir, 'data.jsonl');
  await writeFile(data, lines.join('\n') + '\n');
  const spec = parseSpec({
    name,
    labels: TINY_LABELS,
    data: { path: data },
    roles: { auditors: ['alice'], deployers: ['bob'] },
    training: { params: TINY_PARAMS },
  });
  const dataset = await call((i: PreprocessDataInput) => createControlActivities(deps).preprocessData(i), {
    spec,
    specDir: dir,
    generation: 1,
    extraDataKeys: [],
  });
  datasetHash = dataset.datasetHash;

  // v1 is the champion: deployed. v2 is the version under audit.
  const champion = await trainedVersion('g1-a1', 1, dataset, spec.training.params);
  await registry.recordDeployment({
    model: name,
    version: champion.version,
    target: 'local',
    endpointUrl: 'http://127.0.0.1:1',
    artifactSha256: (await registry.getModelVersion(name, champion.version))!.sha256,
    actor: 'bob',
    deploymentKey: 'd1',
  });
  const challenger = await trainedVersion('g1-a2', 2, dataset, spec.training.params);
  summary = await call((i: EvaluateInput) => createScoringActivities(deps).evaluateModel(i), {
    model: name,
    version: challenger.version,
    runKey: 'g1-a2',
    runDir: challenger.runDir,
    datasetDir: dataset.datasetDir,
    labels: TINY_LABELS,
    gates: [{ metric: 'macro_f1', min: 0 }],
  });
  pkg = JSON.parse(await readFile(path.join(store.root, artifactLayout.evaluation(challenger.runDir), 'audit-package.json'), 'utf8')) as AuditPackage;
});

afterAll(async () => {
  await registry?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the audit package of an evaluated version', () => {
  it('lies beside evaluation.json, with its data as JSON and the model card kept', async () => {
    const folder = path.dirname(path.join(store.root, summary.auditPackageKey));
    expect(summary.auditPackageKey.endsWith('/audit-package.html')).toBe(true);
    for (const file of ['audit-package.html', 'audit-package.json', 'evaluation.json', 'model-card.md']) expect(existsSync(path.join(folder, file))).toBe(true);
    expect(pkg.version).toBe(2);
    expect(Object.keys(pkg.intervals.metrics).sort()).toEqual(['accuracy', 'macro_f1', 'macro_precision', 'macro_recall']);
    for (const l of TINY_LABELS) expect(pkg.intervals.perClass[l]!.recall.value).toBe(pkg.report.perClass[l]!.recall);
    expect(pkg.calibration.bins.reduce((s, b) => s + b.count, 0)).toBe(pkg.report.n);
    expect(summary.metrics.test_ece).toBe(pkg.calibration.ece);
  });

  it('reads the lineage and the data report that training and preprocess left, and says what nobody recorded', () => {
    expect(pkg.lineage.datasetHash).toBe(datasetHash);
    expect(pkg.lineage.params).toMatchObject({ epochs: TINY_PARAMS.epochs, hiddenSize: TINY_PARAMS.hiddenSize });
    expect(pkg.lineage.cluster).toBe('local');
    expect(pkg.lineage.trainSeconds).toBeGreaterThan(0);
    expect(pkg.lineage.evaluationVersions.scorer).toMatch(/^onnxruntime-node \d+\.\d+/);
    expect(pkg.training.epochs[0]).toMatchObject({ epoch: 1 });
    expect(pkg.data).toMatchObject({ duplicatesRemoved: 2, quarantinedByReason: expect.objectContaining({ malformed: 1 }) });
  });

  it('scores the deployed champion on the challenger’s own test rows', () => {
    expect(pkg.champion.status).toBe('compared');
    if (pkg.champion.status !== 'compared') return;
    const { champion } = pkg.champion;
    expect(champion.version).toBe(1);
    expect(champion.report.n).toBe(pkg.report.n);
    // The same model files: the same predictions, so every paired difference is exactly zero.
    expect(champion.agreement).toBe(1);
    expect(champion.differences.macro_f1).toEqual({ value: 0, lower: 0, upper: 0 });
  });

  it('explains the most confident errors and a sample per class token by token, through the ONNX model', () => {
    expect(pkg.explanations.status).toBe('explained');
    if (pkg.explanations.status !== 'explained') return;
    const { items } = pkg.explanations;
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(30);
    expect(new Set(items.filter((i) => i.kind === 'sample').map((i) => i.label))).toEqual(new Set(TINY_LABELS));
    for (const item of items) {
      // Readable pieces: joined, they are the text (no cut Thai character or emoji).
      expect(item.attribution.tokens.map((t) => t.text).join('')).toBe(item.text);
      expect(item.attribution.tokens.some((t) => t.text.includes('\uFFFD'))).toBe(false);
      expect(item.attribution.label).toBe(item.predicted);
      expect(item.attribution.probability).toBeCloseTo(item.confidence, 5);
      expect(item.attribution.tokens.every((t) => t.weight === null || Number.isFinite(t.weight))).toBe(true);
    }
    expect(items.some((i) => i.attribution.tokens.some((t) => t.weight !== null && Math.abs(t.weight) > 1e-6))).toBe(true);
  });

  it('weighs only the tokens the model reads, from the same scores predict gives', async () => {
    const scorer = await loadScorer(model.dir);
    try {
      const long = 'อาหารอร่อยมาก ชอบมาก great '.repeat(8);
      const [whole] = await scorer.predict([long]);
      const explained = await scorer.explain!(long, whole!.label);
      expect(explained.probability).toBeCloseTo(whole!.probabilities[whole!.label]!, 6);
      expect(explained.tokens.map((t) => t.text).join('')).toBe(long);
      // maxLength 32 (30 after <s> and </s>): the rest is never read, so it has no weight.
      const read = explained.tokens.filter((t) => t.weight !== null);
      expect(read.length).toBeGreaterThan(5);
      expect(read.length).toBeLessThanOrEqual(TINY_PARAMS.maxLength - 2);
      expect(explained.tokens[explained.tokens.length - 1]!.weight).toBeNull();
      await expect(scorer.explain!('x', 'no-such-label')).rejects.toThrow(/cannot explain label "no-such-label"/);
    } finally {
      await scorer.close();
    }
  });

  it('renders in headless Chromium: every plot drawn, nothing requested from anywhere', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found: install Debian's chromium (scripts/setup.sh does; or apt-get install -y chromium), or set MLC_CHROMIUM`);
    const page = path.join(store.root, summary.auditPackageKey);
    const probe = path.join(dir, 'probe.html');
    await writeFile(probe, '<!doctype html><img src="http://audit-probe.invalid/p.png"><link rel="stylesheet" href="https://audit-probe.invalid/s.css">');
    const browser = await Browser.launch(dir);
    try {
      // The watch sees a page that does load from the network...
      const control = await browser.open(probe);
      expect(control.requests.filter((u) => u.includes('audit-probe.invalid'))).toHaveLength(2);
      // ...and the audit page loads nothing but itself.
      const audit = await browser.open(page);
      expect(audit.requests).toEqual([`file://${page}`]);
      const dom = (await browser.evaluate(INSPECT_PAGE)) as PageFacts;
      expect(dom.scripts).toBe(0);
      expect(dom.external).toEqual([]);
      expect(dom.charts.map((c) => c.id)).toEqual([
        'metrics',
        'per-class',
        'confusion',
        'reliability',
        'confidence',
        'loss-per-epoch',
        'validation-per-epoch',
        'loss-per-step',
        'slices',
        'champion-vs-challenger',
        'champion-difference',
        'data-per-label',
      ]);
      for (const chart of dom.charts) {
        expect(chart.width, chart.id).toBeGreaterThan(100);
        expect(chart.drawn, `${chart.id} has shapes with an area`).toBeGreaterThan(0);
      }
      expect(dom.charts.find((c) => c.id === 'confusion')!.drawn).toBeGreaterThanOrEqual(9);
      expect(dom.highlighted).toBeGreaterThan(0);
      expect(dom.text).toContain('Champion vs challenger');

      const png = await browser.screenshot();
      await writeFile(path.join(dir, 'audit-page.png'), png);
      const image = decodePng(png);
      expect([image.width, image.height]).toEqual([1280, 4000]);
      // The charts' colours are on screen, not just in the markup.
      expect(countColour(image, [0x00, 0x72, 0xb2])).toBeGreaterThan(2000);
      expect(countColour(image, [0xe6, 0x9f, 0x00])).toBeGreaterThan(500);
    } finally {
      await browser.close();
    }
  });
});

interface PageFacts {
  charts: { id: string; shapes: number; drawn: number; width: number; height: number }[];
  external: string[];
  scripts: number;
  highlighted: number;
  text: string;
}

/** Runs in the page (sent as text: this project compiles without the DOM library): what is drawn, what could load. */
const INSPECT_PAGE = `(() => {
  const charts = [...document.querySelectorAll('figure.chart')].map((f) => {
    const svg = f.querySelector('svg');
    const shapes = [...svg.querySelectorAll('rect, path, circle')];
    const drawn = shapes.filter((s) => { const box = s.getBBox(); return box.width > 0 || box.height > 0; }).length;
    const rect = svg.getBoundingClientRect();
    return { id: f.dataset.chart || '', shapes: shapes.length, drawn, width: rect.width, height: rect.height };
  });
  const external = [...document.querySelectorAll('[src], [href]')]
    .map((e) => e.getAttribute('src') || e.getAttribute('href') || '')
    .filter((u) => !u.startsWith('#'));
  return {
    charts,
    external,
    scripts: document.querySelectorAll('script').length,
    highlighted: document.querySelectorAll('.tokens span[style]').length,
    text: document.body.innerText,
  };
})()`;

/**
 * Headless Chromium over --remote-debugging-pipe: JSON messages, NUL-terminated, on fds 3 and 4.
 * Network events of the page's own session say exactly what the page asked for; a proxy that
 * refuses everything keeps Chromium's own background calls (and any slip of the page) local.
 */
class Browser {
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(m: CdpMessage) => void>();
  private sessionId = '';

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

  static async launch(workDir: string): Promise<Browser> {
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
        '--proxy-bypass-list=<-loopback>',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const browser = new Browser(child, proxy);
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

  /** Navigates and waits for the load event (plus a moment for late requests); returns every URL the page requested. */
  async open(file: string): Promise<{ requests: string[] }> {
    const requests: string[] = [];
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    const listener = (m: CdpMessage) => {
      if (m.sessionId !== this.sessionId) return;
      if (m.method === 'Network.requestWillBeSent') requests.push((m.params as { request: { url: string } }).request.url);
      if (m.method === 'Page.loadEventFired') loaded();
    };
    this.listeners.add(listener);
    try {
      await this.send('Page.navigate', { url: `file://${file}` }, true);
      await load;
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { requests };
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
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
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

function countColour(image: ReturnType<typeof decodePng>, [r, g, b]: [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += image.channels) {
    if (Math.abs(image.pixels[i]! - r) <= 6 && Math.abs(image.pixels[i + 1]! - g) <= 6 && Math.abs(image.pixels[i + 2]! - b) <= 6) n++;
  }
  return n;
}
