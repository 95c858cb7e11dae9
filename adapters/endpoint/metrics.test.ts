import { afterEach, describe, expect, it } from 'vitest';
import type { Scorer } from '../scoring/port';
import type { MonitoringSnapshot } from './monitoring-gauges';
import { parsePrometheusText, sampleValue } from './prometheus-text';
import { startEndpoint, type Endpoint, type EndpointOptions } from './server';

const KEY = 'k'.repeat(64);
const auth = { authorization: `Bearer ${KEY}` };

const scorer: Scorer = {
  labels: ['neg', 'pos'],
  predict: async (texts) =>
    texts.map((t) => (t.includes('good') ? { label: 'pos', probabilities: { neg: 0.1, pos: 0.9 } } : { label: 'neg', probabilities: { neg: 0.8, pos: 0.2 } })),
  close: async () => {},
};

const report = (accuracy: number): MonitoringSnapshot => ({
  model: 'thai-sentiment',
  version: 2,
  windowEnd: '2026-11-29T10:00:00.000Z',
  degraded: false,
  report: { predictions: 10, performance: { estimated: { accuracy: { value: accuracy, lower: accuracy - 0.05, upper: accuracy + 0.05 } } } },
});

describe('GET /metrics', () => {
  let ep: Endpoint;
  const errors: unknown[] = [];
  const start = async (over: Partial<EndpointOptions> = {}) =>
    (ep = await startEndpoint({
      host: '127.0.0.1',
      port: 0,
      apiKey: KEY,
      loadScorer: async () => scorer,
      resolveDeployment: async () => ({ model: 'thai-sentiment', version: 2, modelDir: '/m/v2', sha256: 'aa' }),
      logPredictions: async () => {},
      addFeedback: async () => 0,
      onError: (e) => errors.push(e),
      ...over,
    }));
  const scrape = async () => {
    const res = await fetch(`${ep.url}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };
  const score = (texts: string[]) =>
    fetch(`${ep.url}/score`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ texts }) });

  afterEach(async () => {
    await ep?.close();
    errors.length = 0;
  });

  it('is behind the API key', async () => {
    await start();
    const res = await fetch(`${ep.url}/metrics`);
    expect(res.status).toBe(401);
    expect((await fetch(`${ep.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${ep.url}/metrics`, { method: 'POST', headers: auth })).status).toBe(405);
  });

  it('counts answered predictions by version and label, and times each /score request by the version that served it', async () => {
    await start();
    expect((await score(['good', 'bad', 'good again'])).status).toBe(200);
    expect((await score(['so good'])).status).toBe(200);
    expect((await score([])).status).toBe(400); // refused before any version served it: not timed
    const samples = await scrape();
    const v2 = { model: 'thai-sentiment', version: '2' };
    expect(sampleValue(samples, 'mlc_endpoint_predictions_total', { ...v2, label: 'pos' })).toBe(3);
    expect(sampleValue(samples, 'mlc_endpoint_predictions_total', { ...v2, label: 'neg' })).toBe(1);
    expect(sampleValue(samples, 'mlc_endpoint_request_duration_seconds_count', { ...v2, status: '200' })).toBe(2);
    expect(sampleValue(samples, 'mlc_endpoint_request_duration_seconds_bucket', { ...v2, status: '200', le: '+Inf' })).toBe(2);
    expect(sampleValue(samples, 'mlc_endpoint_request_duration_seconds_sum', { ...v2, status: '200' })).toBeGreaterThan(0);
    expect(samples.filter((s) => s.name === 'mlc_endpoint_request_duration_seconds_count')).toHaveLength(1);
    // Without a monitoring reader there are no monitoring gauges at all.
    expect(samples.filter((s) => s.name.startsWith('mlc_monitoring_'))).toEqual([]);
  });

  it('counts the 429s and 503s clients were told to retry, by route and status, and nothing else', async () => {
    const scraper = 's'.repeat(64);
    await start({
      additionalApiKeys: [scraper],
      limits: { rateLimit: { max: 2, windowMs: 60_000 } },
      logPredictions: async (records) => {
        if (records.some((r) => r.text === 'unloggable')) throw new Error('registry down');
      },
    });
    expect((await score(['good'])).status).toBe(200);
    expect((await score(['unloggable'])).status).toBe(503); // never answered unlogged
    expect((await score(['good'])).status).toBe(429); // the key's third request in the window
    const res = await fetch(`${ep.url}/metrics`, { headers: { authorization: `Bearer ${scraper}` } });
    const samples = parsePrometheusText(await res.text());
    expect(sampleValue(samples, 'mlc_endpoint_refused_total', { route: '/score', status: '503' })).toBe(1);
    expect(sampleValue(samples, 'mlc_endpoint_refused_total', { route: '/score', status: '429' })).toBe(1);
    expect(samples.filter((s) => s.name === 'mlc_endpoint_refused_total')).toHaveLength(2);
  });

  it("exposes the process's own figures, the event-loop lag that makes it shed among them", async () => {
    await start();
    const samples = await scrape();
    for (const name of [
      'nodejs_eventloop_lag_max_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'process_cpu_user_seconds_total',
    ])
      expect(sampleValue(samples, name), name).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1024 * 1024);
  });

  it('reads the monitoring gauges at scrape time, reusing a read for cacheMs', async () => {
    let reads = 0;
    let accuracy = 0.8;
    await start({ monitoring: { read: async () => (reads++, [report(accuracy)]), cacheMs: 200 } });
    const v2 = { model: 'thai-sentiment', version: '2' };
    expect(sampleValue(await scrape(), 'mlc_monitoring_estimated_accuracy', v2)).toBe(0.8);
    accuracy = 0.6;
    expect(sampleValue(await scrape(), 'mlc_monitoring_estimated_accuracy', v2)).toBe(0.8);
    expect(reads).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    const samples = await scrape();
    expect(sampleValue(samples, 'mlc_monitoring_estimated_accuracy', v2)).toBe(0.6);
    expect(sampleValue(samples, 'mlc_monitoring_estimated_accuracy_lower', v2)).toBeCloseTo(0.55, 9);
    expect(sampleValue(samples, 'mlc_monitoring_read_ok')).toBe(1);
    expect(reads).toBe(2);
  });

  it('still answers when the registry cannot be read, keeping the last figures and saying they are stale', async () => {
    let fail = false;
    await start({ monitoring: { read: async () => (fail ? Promise.reject(new Error('database is down')) : [report(0.7)]), cacheMs: 0 } });
    await scrape();
    fail = true;
    const samples = await scrape();
    expect(sampleValue(samples, 'mlc_monitoring_read_ok')).toBe(0);
    expect(sampleValue(samples, 'mlc_monitoring_estimated_accuracy', { model: 'thai-sentiment' })).toBe(0.7);
    expect(errors).toEqual([expect.objectContaining({ message: 'database is down' })]);
  });

  it('drops the gauges of a model whose report is gone', async () => {
    let snapshots = [report(0.7), { ...report(0.9), model: 'other' }];
    await start({ monitoring: { read: async () => snapshots, cacheMs: 0 } });
    expect(sampleValue(await scrape(), 'mlc_monitoring_estimated_accuracy', { model: 'other' })).toBe(0.9);
    snapshots = [report(0.7)];
    const samples = await scrape();
    expect(sampleValue(samples, 'mlc_monitoring_estimated_accuracy', { model: 'other' })).toBeUndefined();
    expect(sampleValue(samples, 'mlc_monitoring_estimated_accuracy', { model: 'thai-sentiment' })).toBe(0.7);
  });
});
