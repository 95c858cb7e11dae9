// mlc runs on a real (in-memory) registry: the list shows what tells runs apart, `show` the
// curves and artifacts, `compare` the differences; each also as JSON for scripts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FsArtifactStore } from '../adapters/artifacts/fs-store';
import { openMemoryRegistry } from '../adapters/db/memory';
import type { Registry, RunSummary } from '../adapters/db/port';
import { CliError } from './cli-error';
import { compareRuns, curvesOf, formatRunDetail, formatRunList, runsCompareCommand, runsListCommand, runsShowCommand, splitParams } from './runs';

const summary = (runKey: string, params: Record<string, unknown>, metrics: Record<string, number>, extra: Partial<RunSummary> = {}): RunSummary => ({
  runKey,
  model: 'm',
  generation: 1,
  attempt: 1,
  trial: null,
  datasetHash: 'd'.repeat(64),
  cluster: 'local',
  params,
  artifactUri: `file:///runs/${runKey}`,
  state: 'succeeded',
  slurmJobId: '7',
  metrics,
  error: null,
  gitCommit: 'abcdef12'.repeat(5),
  createdAt: '2026-11-29T10:00:00.000Z',
  finishedAt: '2026-11-29T10:03:05.000Z',
  version: 1,
  ...extra,
});

function captured(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  return { lines, restore: () => spy.mockRestore() };
}

describe('formatting runs', () => {
  const a = summary('m-g1-a1', { epochs: 3, learningRate: 0.0005, seed: 13 }, { best_val_macro_f1: 0.61, test_macro_f1: 0.6, train_seconds: 185 });
  const b = summary(
    'm-g1-a2',
    { epochs: 3, learningRate: 0.001, seed: 13 },
    { best_val_macro_f1: 0.67 },
    { version: null, state: 'running', finishedAt: null },
  );

  it('lists state, duration, dataset, commit, headline metrics and the params that differ', () => {
    expect(splitParams([a, b])).toEqual({ varying: ['learningRate'], shared: { epochs: 3, seed: 13 } });
    const text = formatRunList('m', [b, a], Date.parse('2026-11-29T10:10:00.000Z'));
    const [head, first, second] = text.split('\n');
    expect(head).toMatch(/^run\s+version\s+state\s+started\s+duration\s+dataset\s+commit\s+best_val_macro_f1\s+test_macro_f1\s+learningRate$/);
    expect(first).toMatch(/^m-g1-a2\s+—\s+running\s+2026-11-29 10:00\s+10m00s…\s+dddddddddddd\s+abcdef12\s+0\.6700\s+—\s+0\.001$/);
    expect(second).toMatch(/^m-g1-a1\s+v1\s+succeeded .* 3m05s .* 0\.6100\s+0\.6000\s+0\.0005$/);
    expect(text).toContain('params of every run: epochs=3 seed=13');
    expect(formatRunList('m', [])).toContain('no runs recorded for m');
  });

  it('compares params and metrics, with B − A', () => {
    const c = compareRuns(a, b);
    expect(c.params).toEqual([
      { name: 'epochs', a: 3, b: 3, differs: false },
      { name: 'learningRate', a: 0.0005, b: 0.001, differs: true },
      { name: 'seed', a: 13, b: 13, differs: false },
    ]);
    expect(c.metrics.find((m) => m.name === 'best_val_macro_f1')?.delta).toBeCloseTo(0.06);
    expect(c.metrics.find((m) => m.name === 'test_macro_f1')).toEqual({ name: 'test_macro_f1', a: 0.6, b: null, delta: null });
  });

  it('orders curves per epoch first, each by step', () => {
    const curves = curvesOf([
      { metric: 'loss', step: 20, epoch: null, value: 1 },
      { metric: 'loss', step: 10, epoch: null, value: 2 },
      { metric: 'val_macro_f1', step: 15, epoch: 1, value: 0.5 },
    ]);
    expect(curves.map((c) => [c.metric, c.perEpoch, c.points.map((p) => p.step)])).toEqual([
      ['val_macro_f1', true, [15]],
      ['loss', false, [10, 20]],
    ]);
  });
});

describe('mlc runs commands', () => {
  let registry: Registry;
  let store: FsArtifactStore;
  beforeAll(async () => {
    registry = await openMemoryRegistry();
    store = new FsArtifactStore(await mkdtemp(path.join(tmpdir(), 'mlc-runs-')));
    const run = (runKey: string, lr: number) => ({
      runKey,
      model: 'm',
      generation: 1,
      attempt: Number(runKey.slice(-1)),
      datasetHash: 'h1',
      cluster: 'local',
      params: { epochs: 2, learningRate: lr },
      artifactUri: store.uriOf(`models/m/runs/${runKey}`),
    });
    await registry.createRun(run('m-g1-a1', 0.0005));
    await registry.createRun(run('m-g1-a2', 0.001));
    await registry.updateRun('m-g1-a1', { state: 'succeeded', finished: true, metrics: { best_val_macro_f1: 0.6 }, gitCommit: 'f'.repeat(40) });
    await registry.recordMetricHistory('m-g1-a1', [
      { metric: 'val_macro_f1', step: 15, epoch: 1, value: 0.4 },
      { metric: 'val_macro_f1', step: 30, epoch: 2, value: 0.6 },
      ...Array.from({ length: 100 }, (_, i) => ({ metric: 'loss', step: (i + 1) * 10, epoch: null, value: 2 - i / 100 })),
    ]);
    await store.put('models/m/runs/m-g1-a1/model.onnx', 'onnx bytes');
    await store.put('models/m/runs/m-g1-a1/checkpoints/last.pt', 'ckpt');
    await store.writeManifest('models/m/runs/m-g1-a1');
  }, 120_000); // PGlite starts and migrates in seconds, far slower on a busy machine
  afterAll(() => registry.close());

  it('lists the runs, newest first, as text and JSON', async () => {
    const out = captured();
    try {
      await runsListCommand(registry, 'm', {});
      await runsListCommand(registry, 'm', { json: true });
    } finally {
      out.restore();
    }
    expect(out.lines[0]).toMatch(/learningRate/);
    expect(out.lines[0]!.indexOf('m-g1-a2')).toBeLessThan(out.lines[0]!.indexOf('m-g1-a1'));
    const json = JSON.parse(out.lines[1]!) as { runKey: string; gitCommit: string | null; durationSeconds: number }[];
    expect(json.map((r) => r.runKey)).toEqual(['m-g1-a2', 'm-g1-a1']);
    expect(json[1]!.gitCommit).toBe('f'.repeat(40));
    expect(json[1]!.durationSeconds).toBeGreaterThanOrEqual(0);
  });

  it('shows one run with sparklines and its files', async () => {
    const out = captured();
    try {
      await runsShowCommand(registry, 'm-g1-a1', {}, async () => store);
    } finally {
      out.restore();
    }
    const text = out.lines.join('\n');
    expect(text).toMatch(/commit\s+f{40}/);
    expect(text).toMatch(/val_macro_f1\s+▁█ {2}0\.4000 → 0\.6000 {2}\(min 0\.4000, max 0\.6000; 2 points, epochs 1–2\)/);
    expect(text).toMatch(/loss \(per step\)\s+█[▁-█]{38}▁ {2}2 → 1\.0100 {2}\(min 1\.0100, max 2; 100 points, steps 10–1000\)/);
    expect(text).toMatch(/model\.onnx\s+10 B/);
    expect(text).toMatch(/checkpoints\/\s+1 file, 4 B/);
  });

  it('lists a run still training (no manifest yet) without sizes it does not know', async () => {
    const run = (await registry.describeRun('m-g1-a2'))!;
    const listed = [{ key: 'progress.json', size: -1 }, ...['last.pt', 'best.pt'].map((f) => ({ key: `checkpoints/${f}`, size: -1 }))];
    const text = formatRunDetail(run, [], { uri: run.artifactUri, files: listed });
    expect(text).toMatch(/^ {2}progress\.json$/m);
    expect(text).toMatch(/^ {2}checkpoints\/ +2 files$/m);
  });

  it('says when the artifact store cannot be opened, and still shows the run', async () => {
    const out = captured();
    try {
      await runsShowCommand(registry, 'm-g1-a2', {}, () => Promise.reject(new Error('no credential')));
    } finally {
      out.restore();
    }
    expect(out.lines.join('\n')).toContain('(not listed: cannot open the artifact store: no credential)');
    expect(out.lines.join('\n')).toContain('curves     none recorded');
  });

  it('compares two runs, and names a missing one', async () => {
    const out = captured();
    try {
      await runsCompareCommand(registry, 'm-g1-a1', 'm-g1-a2', {});
    } finally {
      out.restore();
    }
    expect(out.lines.join('\n')).toMatch(/learningRate\s+0\.0005\s+0\.001\s+≠/);
    const missing = await runsCompareCommand(registry, 'm-g1-a1', 'nope', {}).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(CliError);
    expect((missing as CliError).message).toContain('mlc runs <model> lists the run keys');
  });
});
