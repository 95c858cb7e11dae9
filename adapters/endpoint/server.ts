// The built-in local deployment endpoint, on fastify. It serves whatever version the registry
// says is deployed (asked per request, so a deploy or rollback takes effect on the next
// request), scores concurrent /score requests in micro-batches per deployed version, logs
// every prediction before answering (or right after, with predictionLogging 'after-answer'),
// and takes labelled feedback. It refuses what it cannot serve well rather than slowing down
// for everyone: per-key rate limits (429), big bodies (413), requests past their time limit and
// load past the process's bounds (503), each with Retry-After where retrying helps. GET /metrics serves Prometheus metrics (metrics.ts).
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FeedbackRecord, PredictionRecord } from '../db/port';
import type { LoadScorer } from '../scoring/port';
import { normalizeText } from '../../domain/dataset';
import { ApiKeys } from './api-keys';
import { exemptFromPressure, registerGuards } from './guards';
import { HttpError, invalidBody, parseBody, toHttpError } from './http-error';
import { resolveLimits, type EndpointLimits, type EndpointLimitsInput } from './limits';
import { EndpointMetrics } from './metrics';
import { QueueFullError, type PredictionLogging } from './micro-batcher';
import type { MonitoringSnapshot } from './monitoring-gauges';
import { ScoreBatchers, type VersionBatchStats } from './score-batchers';
import { BLANK_TEXT, feedbackRequestSchema, scoreRequestSchema } from './schemas';
import { ScorerPool, type Deployment, type Lease } from './scorer-pool';

export type { Deployment } from './scorer-pool';
export type { MonitoringSnapshot } from './monitoring-gauges';
export { DEFAULT_ENDPOINT_LIMITS, MAX_BODY_BYTES, type EndpointLimits, type EndpointLimitsInput } from './limits';
export { MAX_FEEDBACK_ITEMS, MAX_TEXT_CHARS, MAX_TEXTS, feedbackRequestSchema, scoreRequestSchema } from './schemas';

export interface EndpointOptions {
  host: string;
  /** 0 picks a free port; the returned url has the real one. */
  port: number;
  apiKey: string;
  /** More keys accepted besides apiKey (one per client, or the next key during a rotation); each has its own rate limit. */
  additionalApiKeys?: readonly string[];
  /** The deployment that serves `model` (or the default model when absent); null: none. */
  resolveDeployment: (model?: string) => Promise<Deployment | null>;
  loadScorer: LoadScorer;
  logPredictions: (records: PredictionRecord[]) => Promise<void>;
  /**
   * 'before-answer' (default): a /score answer waits until its predictions are logged.
   * 'after-answer': answered once scored, logged right behind, retried while the log is down;
   * faster, but what was answered just before a crash may be missing from monitoring.
   */
  predictionLogging?: PredictionLogging;
  addFeedback: (records: FeedbackRecord[]) => Promise<number>;
  /** Told about failures the client only sees as a 5xx (load, logging, internal errors); not about shed load. */
  onError?: (error: unknown, context: { requestId: string; route: string }) => void;
  /** Rate, size, time, pressure and batching limits; what is absent comes from DEFAULT_ENDPOINT_LIMITS. */
  limits?: EndpointLimitsInput;
  /** The audit package page of a model version (self-contained HTML); null: there is none. Absent: not served here. */
  auditPage?: (model: string, version: number) => Promise<string | null>;
  /**
   * Each deployed model's latest monitoring report, for /metrics' gauges; read when Prometheus
   * scrapes, and reused for cacheMs (default 5 s). Absent: /metrics has no monitoring gauges.
   */
  monitoring?: { read: () => Promise<MonitoringSnapshot[]>; cacheMs?: number };
}

/** The page forbids every request; the header says so again for browsers that read only headers. */
const AUDIT_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export interface Endpoint {
  url: string;
  limits: EndpointLimits;
  /** How /score requests were batched, per deployed version served since start. */
  batchStats(): VersionBatchStats[];
  /** Resolves once every answer given so far is logged (at once, before-answer), or after timeoutMs; to the texts still unlogged. */
  whenLogged(timeoutMs: number): Promise<number>;
  /** Stops taking requests, waits up to 10 s for the prediction log to catch up, unloads the models. */
  close(): Promise<void>;
}

const ROUTES = 'routes: GET /health, POST /score, POST /feedback, GET /metrics, GET /models/<model>/versions/<n>/audit';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const UNAUTHORIZED = 'missing or wrong API key: send "Authorization: Bearer <key>" (the key is MLC_ENDPOINT_KEY or .data/secrets/endpoint.key)';

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  if (!options.apiKey) throw new Error('startEndpoint: apiKey is empty; use loadEndpointKey()');
  const limits = resolveLimits(options.limits);
  const keys = new ApiKeys([options.apiKey, ...(options.additionalApiKeys ?? [])]);
  const report = options.onError ?? (() => {});
  const pool = new ScorerPool(options.loadScorer, (error, d) => report(error, { requestId: '-', route: `close ${d.model} v${d.version}` }));
  const retryAfter = { 'retry-after': String(limits.pressure.retryAfterSeconds) };
  // The rate limit and the key check both ask; hashing the key once per request is enough.
  const identities = new WeakMap<FastifyRequest, string | null>();
  const identityOf = (req: FastifyRequest): string | null => {
    let identity = identities.get(req);
    if (identity === undefined) identities.set(req, (identity = keys.identify(req.headers.authorization)));
    return identity;
  };

  const app = Fastify({
    logger: false,
    genReqId: () => randomUUID(),
    bodyLimit: limits.maxBodyBytes,
    exposeHeadRoutes: false,
  });
  app.setErrorHandler((error, req, reply) => {
    const route = req.url.split('?')[0]!;
    const http = toHttpError(error, limits);
    if (!http) {
      report(error, { requestId: req.id, route });
      return reply.code(500).send({ error: 'internal error; the endpoint logged it with this requestId', requestId: req.id });
    }
    if (http.status >= 500 && !http.shed) report(http, { requestId: req.id, route });
    return reply
      .code(http.status)
      .headers(http.headers)
      .send({ error: http.message, requestId: req.id, ...http.extra });
  });

  // Every body is JSON, whatever its content-type says. JSON.parse makes "__proto__" an own
  // key, which the strict schemas refuse, so no prototype is ever touched. fastify closes the
  // connection after a parse error, as the client may still be sending.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, raw, done) => {
    const body = raw.toString();
    if (!body.trim()) return done(new HttpError(400, 'request body is empty; send JSON'), undefined);
    try {
      done(null, JSON.parse(body));
    } catch (e) {
      done(new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });

  const metrics = new EndpointMetrics({
    ...(options.monitoring && { readMonitoring: options.monitoring.read }),
    monitoringCacheMs: options.monitoring?.cacheMs ?? 5000,
    onError: (error) => report(error, { requestId: '-', route: 'GET /metrics (reading monitoring reports)' }),
  });
  await registerGuards(app, limits, identityOf);
  // Every route's 429s and 503s, the guards' own refusals included (their hooks run first, this one after the answer).
  app.addHook('onResponse', async (req, reply) => metrics.countRefusal(req.routeOptions.url ?? 'unmatched', reply.statusCode));
  app.setNotFoundHandler((req) => {
    throw new HttpError(404, `no route ${req.method} ${req.url.split('?')[0]}; ${ROUTES}`);
  });

  async function deploymentFor(model: string | undefined): Promise<Deployment> {
    let deployment: Deployment | null;
    try {
      deployment = await options.resolveDeployment(model);
    } catch (e) {
      throw new HttpError(503, `could not look up the deployment${model ? ` of ${model}` : ''}: ${(e as Error).message}`);
    }
    if (!deployment) {
      if (model) pool.retire(model); // undeployed: unload it rather than keep it warm forever
      throw new HttpError(
        404,
        model ? `no version of model "${model}" is deployed here` : 'no model is deployed here; deploy one (mlc deploy) or name one with "model"',
      );
    }
    return deployment;
  }

  async function withScorer<T>(deployment: Deployment, use: (lease: Lease) => Promise<T>): Promise<T> {
    let lease;
    try {
      lease = await pool.acquire(deployment);
    } catch (e) {
      throw new HttpError(
        503,
        `model ${deployment.model} v${deployment.version} could not be loaded from ${deployment.modelDir}: ${(e as Error).message}`,
        {},
        { 'retry-after': '30' },
      );
    }
    try {
      return await use(lease);
    } finally {
      lease.release();
    }
  }

  const batchers = new ScoreBatchers(options.logPredictions, limits.batching, {
    logging: options.predictionLogging ?? 'before-answer',
    onLogError: (error, { texts, retryInMs }) =>
      report(error, {
        requestId: '-',
        route: `prediction log: ${texts} answered texts not logged yet, next try in ${Math.round(retryInMs / 1000)} s (is the registry's database up?)`,
      }),
  });
  /** The version that served a /score request, for its latency once answered. */
  const servedBy = new WeakMap<FastifyRequest, Deployment>();

  async function score(req: FastifyRequest, reply: FastifyReply) {
    const body = parseBody(scoreRequestSchema, req.body);
    // The same normalization the training data went through (NFC, whitespace, ZWSP).
    const normalized = body.texts.map(normalizeText);
    refuseBlankTexts(normalized);
    const deployment = await deploymentFor(body.model);
    return withScorer(deployment, async (lease) => {
      servedBy.set(req, lease.deployment);
      // Answered already (the time limit) or the client left: drop the texts if still queued.
      const gone = new AbortController();
      const onClose = () => gone.abort(new Error('the request was answered or abandoned before it was scored'));
      reply.raw.once('close', onClose);
      let predictions;
      try {
        predictions = await batchers.for(lease).submit({ requestId: req.id, texts: body.texts }, normalized, gone.signal);
      } catch (e) {
        if (e instanceof QueueFullError)
          throw new HttpError(
            503,
            `model ${lease.deployment.model} v${lease.deployment.version} has ${e.pendingTexts} texts waiting (the limit is ${e.limit}): retry after ${limits.pressure.retryAfterSeconds} s`,
            {},
            retryAfter,
            true,
          );
        throw e;
      } finally {
        reply.raw.off('close', onClose);
      }
      // Past the time limit the client got a 503 instead: these were logged, never answered.
      if (!reply.sent) metrics.countPredictions(lease.deployment.model, lease.deployment.version, predictions);
      return {
        model: lease.deployment.model,
        version: lease.deployment.version,
        requestId: req.id,
        predictions: predictions.map((p) => ({ label: p.label, probabilities: p.probabilities })),
      };
    });
  }

  async function feedback(req: FastifyRequest) {
    const body = parseBody(feedbackRequestSchema, req.body);
    const deployment = await deploymentFor(body.model);
    const labels = await withScorer(deployment, async ({ scorer }) => scorer.labels);
    const issues = body.items.flatMap((item, i) =>
      labels.includes(item.label) ? [] : [{ path: `items.${i}.label`, message: `"${item.label}" is not one of the model's labels: ${labels.join(', ')}` }],
    );
    if (issues.length) throw invalidBody(issues);
    const source = body.source ?? 'endpoint';
    const accepted = await options.addFeedback(
      body.items.map(({ text: t, requestId, label }): FeedbackRecord =>
        requestId ? { model: body.model, requestId, ...(t?.trim() ? { text: t } : {}), label, source } : { model: body.model, text: t!, label, source },
      ),
    );
    return { accepted };
  }

  /**
   * `GET /health?model=m` also loads m's deployed version, so a deployer (or a load balancer)
   * learns that the new version is serving, not merely recorded.
   */
  async function health(req: FastifyRequest) {
    const model = (req.query as Record<string, string | undefined>).model;
    if (model) await withScorer(await deploymentFor(model), async () => undefined);
    else await retireUndeployed();
    return { status: 'ok', models: pool.loaded().map(({ model: m, version, sha256 }) => ({ model: m, version, sha256 })) };
  }

  /** A model taken off (mlc stop --undeploy) since it was loaded is unloaded, so /health never lists it. */
  async function retireUndeployed(): Promise<void> {
    await Promise.all(
      pool.loaded().map(async ({ model }) => {
        // A registry that does not answer says nothing about the model: keep it.
        const active = await options.resolveDeployment(model).catch(() => undefined);
        if (active === null) pool.retire(model);
      }),
    );
  }

  // Checked before the body is read, after the rate limit (which counts refused keys per address).
  const requireKey = async (req: FastifyRequest) => {
    if (!identityOf(req)) throw new HttpError(401, UNAUTHORIZED, {}, { 'www-authenticate': 'Bearer' });
  };
  // Every answer to a /score request that reached a deployed version, refusals included (a 503 is latency too).
  const observeLatency = async (req: FastifyRequest, reply: FastifyReply) => {
    const served = servedBy.get(req);
    if (served) metrics.observeRequest(served.model, served.version, reply.statusCode, reply.elapsedTime / 1000);
  };
  const scrape = async (_req: FastifyRequest, reply: FastifyReply) => reply.header('content-type', metrics.contentType).send(await metrics.render());
  const routes = [
    { url: '/health', method: 'GET', handler: health },
    { url: '/score', method: 'POST', handler: score, preParsing: requireKey, onResponse: observeLatency },
    { url: '/feedback', method: 'POST', handler: feedback, preParsing: requireKey },
    // Scraped even while the process sheds load: the overload is what Prometheus must see then.
    { url: '/metrics', method: 'GET', handler: scrape, preParsing: requireKey, config: exemptFromPressure },
  ] as const;
  for (const { url, method, ...rest } of routes) {
    app.route({ url, method, ...rest });
    app.route({
      url,
      method: METHODS.filter((m) => m !== method),
      config: { rateLimit: false },
      handler: async () => {
        throw new HttpError(405, `${url} takes ${method}`, {}, { allow: method });
      },
    });
  }

  // An auditor reads the package where the model serves, behind the same key as /score.
  app.route({
    url: '/models/:model/versions/:version/audit',
    method: 'GET',
    preParsing: requireKey,
    handler: async (req, reply) => {
      const { model, version } = req.params as { model: string; version: string };
      const n = Number(version);
      if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `version "${version}" is not a version number`);
      if (!options.auditPage) throw new HttpError(404, 'this endpoint does not serve audit packages');
      const page = await options.auditPage(model, n);
      if (page === null) throw new HttpError(404, `no audit package for ${model} v${n}: the version is unknown or was never evaluated`);
      return reply.headers(AUDIT_PAGE_HEADERS).send(page);
    },
  });

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    limits,
    batchStats: () => batchers.stats(),
    whenLogged: (timeoutMs) => batchers.whenLogged(timeoutMs),
    async close() {
      await app.close();
      const unlogged = await batchers.whenLogged(10_000);
      if (unlogged > 0)
        report(new Error(`${unlogged} answered predictions were never logged: the prediction log stayed down while the endpoint closed`), {
          requestId: '-',
          route: 'close',
        });
      await pool.close();
    },
  };
}

/** A text with nothing left once normalized gives the model nothing to judge: its answer would mean
 *  nothing and, logged, would count as traffic in monitoring. Preprocessing quarantines such rows. */
function refuseBlankTexts(normalized: string[]): void {
  const issues = normalized.flatMap((t, i) => (t ? [] : [{ path: `texts.${i}`, message: BLANK_TEXT }]));
  if (issues.length) throw invalidBody(issues);
}
