// Prometheus metrics of the endpoint, served by GET /metrics (text exposition format) behind the
// API key: the latency of /score requests by the model version that served them, predictions
// by version and label, requests refused with 429 or 503 (what clients were asked to retry), the
// process's own figures (prom-client's defaults: event-loop lag, which past its bound makes the
// endpoint shed, heap, CPU, GC), and the last monitoring run's figures per model (monitoring-gauges.ts).
// The monitoring figures are pulled from the registry when Prometheus scrapes, not pushed by
// the monitoring workflow, and kept a few seconds so that several scrapers cost one read.
// Each endpoint has a registry of its own: two endpoints in one process (tests, the bench)
// never share or clash over a metric.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MONITORING_GAUGES, monitoringGaugeValues, type GaugeName, type MonitoringSnapshot } from './monitoring-gauges';

/** From a single text scored at once to a request that waited out a long queue (the time limit is 30 s). */
const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsOptions {
  /** Each model's latest monitoring report; absent: no monitoring gauges. */
  readMonitoring?: () => Promise<MonitoringSnapshot[]>;
  /** How long a read of the monitoring reports is reused. */
  monitoringCacheMs: number;
  /** Told when reading the reports failed; the scrape still answers, with mlc_monitoring_read_ok 0. */
  onError: (error: unknown) => void;
}

export class EndpointMetrics {
  private readonly registry = new Registry();
  private readonly latency = new Histogram({
    name: 'mlc_endpoint_request_duration_seconds',
    help: 'Time from receiving a /score request to answering it, by the model version that served it and the HTTP status.',
    labelNames: ['model', 'version', 'status'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });
  private readonly predictions = new Counter({
    name: 'mlc_endpoint_predictions_total',
    help: 'Predictions answered (each one logged first), by model version and predicted label.',
    labelNames: ['model', 'version', 'label'] as const,
    registers: [this.registry],
  });
  private readonly refused = new Counter({
    name: 'mlc_endpoint_refused_total',
    help: 'Requests answered 429 (a rate limit) or 503 (shed under load, a full queue, the time limit, or a model or log unavailable), by route and status: each told its client to retry.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly readOk: Gauge | null = null;
  private readonly gauges = new Map<GaugeName, Gauge<string>>();
  private cache: { at: number; snapshots: Promise<MonitoringSnapshot[]> } | null = null;

  constructor(private readonly options: MetricsOptions) {
    collectDefaultMetrics({ register: this.registry });
    if (!options.readMonitoring) return;
    this.readOk = new Gauge({
      name: 'mlc_monitoring_read_ok',
      help: 'Whether the last read of the monitoring reports from the registry succeeded (1) or not (0).',
      registers: [this.registry],
    });
    for (const [name, { help, labels }] of Object.entries(MONITORING_GAUGES))
      this.gauges.set(name as GaugeName, new Gauge({ name, help, labelNames: ['model', 'version', ...labels], registers: [this.registry] }));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observeRequest(model: string, version: number, status: number, seconds: number): void {
    this.latency.observe({ model, version: String(version), status: String(status) }, seconds);
  }

  /** Counts a 429 or 503 answer; other statuses are not refusals to retry. */
  countRefusal(route: string, status: number): void {
    if (status === 429 || status === 503) this.refused.inc({ route, status: String(status) });
  }

  countPredictions(model: string, version: number, predictions: readonly { label: string }[]): void {
    const v = String(version);
    for (const p of predictions) this.predictions.inc({ model, version: v, label: p.label });
  }

  /** The exposition text, with the monitoring gauges as the registry holds them now (or a few seconds ago). */
  async render(): Promise<string> {
    if (this.options.readMonitoring) await this.refreshMonitoring(this.options.readMonitoring);
    return this.registry.metrics();
  }

  private async refreshMonitoring(read: () => Promise<MonitoringSnapshot[]>): Promise<void> {
    const now = Date.now();
    if (!this.cache || now - this.cache.at >= this.options.monitoringCacheMs) this.cache = { at: now, snapshots: read() };
    let snapshots: MonitoringSnapshot[];
    try {
      snapshots = await this.cache.snapshots;
    } catch (error) {
      this.cache = null; // the next scrape tries again
      this.options.onError(error);
      this.readOk?.set(0);
      return; // the gauges keep the last values read: stale beats absent, and read_ok says so
    }
    // Reset first, so a model no longer deployed (or a feature no longer tested) disappears.
    for (const g of this.gauges.values()) g.reset();
    for (const s of snapshots) for (const { name, labels, value } of monitoringGaugeValues(s)) this.gauges.get(name)!.set(labels, value);
    this.readOk?.set(1);
  }
}
