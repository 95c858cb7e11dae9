// GET /metrics on the endpoint as the worker runs it: the real ONNX model scored in a worker
// thread, predictions logged into a real registry (embedded PGlite), and the monitoring gauges
// read from that registry's monitoring reports when scraped.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import { parsePrometheusText, sampleValue, type Sample } from '../../adapters/endpoint/prometheus-text';
import { loadScorerInThread } from '../../adapters/endpoint/scorer-thread';
import { startEndpoint, type Endpoint } from '../../adapters/endpoint/server';
import type { MonitoringReport } from '../../domain/monitoring/report';
import { repoRoot } from '../../temporal.config';
import { latestMonitoringReader } from '../../workers/serving';
import { tinyDataset, tinyModel } from './helpers/tiny-model';

const KEY = randomBytes(32).toString('hex');
const MODEL = 'thai-sentiment';

describe('endpoint /metrics on a real model and registry', () => {
  let work: string;
  let registry: Registry;
  let endpoint: Endpoint;

  const scrape = async (headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) => fetch(`${endpoint.url}/metrics`, { headers });
  const samples = async (): Promise<Sample[]> => {
    const res = await scrape();
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  const v1 = { model: MODEL, version: '1' };

  beforeAll(async () => {
    const model = await tinyModel();
    work = await mkdtemp(join(tmpdir(), 'mlc-endpoint-metrics-'));
    registry = await openRegistry({ dataDir: work });
    const sha256 = createHash('sha256')
      .update(await readFile(join(model.dir, 'model.onnx')))
      .digest('hex');
    await registry.recordDeployment({
      model: MODEL,
      version: 1,
      target: 'local',
      endpointUrl: 'http://e',
      artifactSha256: sha256,
      actor: 'ops',
      deploymentKey: 'd1',
    });
    endpoint = await startEndpoint({
      host: '127.0.0.1',
      port: 0,
      apiKey: KEY,
      loadScorer: loadScorerInThread,
      resolveDeployment: async () => ({ model: MODEL, version: 1, modelDir: model.dir, sha256 }),
      logPredictions: (records) => registry.logPredictions(records),
      addFeedback: (records) => registry.addFeedback(records),
      monitoring: { read: latestMonitoringReader(registry), cacheMs: 0 },
    });
  });

  afterAll(async () => {
    await endpoint?.close();
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses a scrape without the key, or with a wrong one', async () => {
    expect((await scrape({})).status).toBe(401);
    expect((await scrape({ authorization: 'Bearer not-the-key' })).status).toBe(401);
  });

  it('counts what it answered, by label, and times every request, as the registry logged them', async () => {
    const bodies = tinyDataset(9, 3).map((r, i) => (i % 3 ? [r.text] : [r.text, `${r.text} ดีมาก`]));
    const answers = await Promise.all(
      bodies.map(async (texts) => {
        const res = await fetch(`${endpoint.url}/score`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ texts }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { predictions: { label: string }[] };
      }),
    );
    const labels = answers.flatMap((a) => a.predictions.map((p) => p.label));
    const got = await samples();
    for (const label of new Set(labels))
      expect(sampleValue(got, 'mlc_endpoint_predictions_total', { ...v1, label })).toBe(labels.filter((l) => l === label).length);
    const logged = await registry.predictionsSince(MODEL, new Date(0).toISOString());
    expect(logged.map((r) => r.label).sort()).toEqual([...labels].sort());
    expect(sampleValue(got, 'mlc_endpoint_request_duration_seconds_count', { ...v1, status: '200' })).toBe(bodies.length);
    const within30s = sampleValue(got, 'mlc_endpoint_request_duration_seconds_bucket', { ...v1, status: '200', le: '30' });
    expect(within30s).toBe(bodies.length);
    // No monitoring run yet: no gauges for the model, and the registry was read fine.
    expect(sampleValue(got, 'mlc_monitoring_read_ok')).toBe(1);
    expect(got.filter((s) => s.name.startsWith('mlc_monitoring_') && s.labels.model === MODEL)).toEqual([]);
  });

  it('shows the last monitoring run of the deployed model as gauges once it is recorded', async () => {
    const report: Partial<MonitoringReport> = {
      schema: 'mlc.monitoring-report/2',
      model: MODEL,
      version: 1,
      predictions: 12,
      judged: true,
      breached: true,
      features: [
        {
          feature: 'text_chars',
          title: 'text length (characters)',
          kind: 'input',
          type: 'numeric',
          test: 'ks',
          value: 0.0004,
          threshold: 0.05,
          p: 0.0001,
          adjustedP: 0.0004,
          effect: 0.42,
          effectThreshold: 0.1,
          psi: 0.9,
          referenceRows: 300,
          currentRows: 12,
          drifted: true,
        },
      ],
      embedding: { referenceRows: 300, currentRows: 12, dimensions: 32, auc: 0.83, aucThreshold: 0.55, mmd2: 0.05, mmdP: 0.01, bandwidth: 1.2, drifted: true },
      performance: {
        estimated: { rows: 12, accuracy: { value: 0.61, lower: 0.5, upper: 0.72 }, macroF1: { value: 0.55, lower: 0.4, upper: 0.7 }, perClassF1: {} },
        realized: null,
        threshold: 0.7,
        calibrator: { kind: 'identity' },
        reference: { testAccuracy: 0.8, estimatedTestAccuracy: 0.79 },
      },
    };
    await registry.saveMonitoringReport({
      model: MODEL,
      version: 1,
      windowStart: '2026-11-29T09:00:00.000Z',
      windowEnd: '2026-11-29T10:00:00.000Z',
      report,
      degraded: false,
      reportKey: 'metrics-test-1',
    });
    const got = await samples();
    expect(sampleValue(got, 'mlc_monitoring_estimated_accuracy', v1)).toBe(0.61);
    expect(sampleValue(got, 'mlc_monitoring_estimated_accuracy_lower', v1)).toBe(0.5);
    expect(sampleValue(got, 'mlc_monitoring_estimated_macro_f1', v1)).toBe(0.55);
    expect(sampleValue(got, 'mlc_monitoring_breached', v1)).toBe(1);
    expect(sampleValue(got, 'mlc_monitoring_degraded', v1)).toBe(0);
    expect(sampleValue(got, 'mlc_monitoring_window_end_timestamp_seconds', v1)).toBe(Date.parse('2026-11-29T10:00:00.000Z') / 1000);
    expect(sampleValue(got, 'mlc_monitoring_feature_drifted', { ...v1, feature: 'text_chars' })).toBe(1);
    expect(sampleValue(got, 'mlc_monitoring_feature_drift_statistic', { ...v1, feature: 'text_chars', test: 'ks' })).toBe(0.0004);
    expect(sampleValue(got, 'mlc_monitoring_feature_psi', { ...v1, feature: 'text_chars' })).toBe(0.9);
    expect(sampleValue(got, 'mlc_monitoring_embedding_drift_auc', v1)).toBe(0.83);
    // The request metrics are still there beside them.
    expect(sampleValue(got, 'mlc_endpoint_request_duration_seconds_count', { ...v1, status: '200' })).toBe(9);
  });

  it('gives the demo its event-loop line (scripts/endpoint-lag.ts), and says when the endpoint cannot be read, refuses its key or lacks the figures', async () => {
    const lag = (port: string, key = KEY) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/endpoint-lag.ts'], {
        cwd: repoRoot,
        env: { ...process.env, MLC_CONFIG: '', MLC_ENDPOINT_HOST: '127.0.0.1', MLC_ENDPOINT_PORT: port, MLC_ENDPOINT_KEY: key },
      });
    const { stdout } = await lag(new URL(endpoint.url).port);
    const line =
      /^endpoint event loop since its last scrape: longest delay [\d,]+ ms, p99 [\d,]+ ms \(it sheds requests past 1,000 ms\); 0 requests refused \(429 or 503\)\n$/;
    expect(stdout).toMatch(line);
    const refused = await lag(new URL(endpoint.url).port, 'not-the-key').catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^endpoint-lag: endpoint answered 401: missing or wrong API key: .*MLC_ENDPOINT_KEY/),
    });
    // An endpoint without the process figures: an older worker's.
    const older = createServer((_req, res) => res.end('mlc_endpoint_refused_total 0\n'));
    await new Promise<void>((r) => older.listen(0, '127.0.0.1', r));
    try {
      const bare = await lag(String((older.address() as AddressInfo).port)).catch((e: { code: number; stderr: string }) => e);
      expect(bare).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(
          /^endpoint-lag: http:\/\/127\.0\.0\.1:\d+\/metrics has no nodejs_eventloop_lag_max_seconds: .*Restart it \(npm run worker\)\n$/,
        ),
      });
    } finally {
      older.close();
    }
    const down = await lag('1').catch((e: { code: number; stderr: string }) => e);
    expect(down).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /^endpoint-lag: Cannot reach the endpoint at http:\/\/127\.0\.0\.1:1 \(.*\)\. It runs inside the worker: npm run worker\.\n$/,
      ),
    });
  });
});
