// The built-in local deployment endpoint: node:http, no framework. It serves whatever version
// the registry says is deployed (asked per request, so a deploy or rollback takes effect on
// the next request), logs every prediction before answering, and takes labelled feedback.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { FeedbackRecord, PredictionRecord } from '../db/port';
import type { LoadScorer } from '../scoring/port';
import { ScorerPool, type Deployment } from './scorer-pool';
import { normalizeText } from '../../domain/dataset';

export type { Deployment } from './scorer-pool';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_TEXTS = 256;
export const MAX_TEXT_CHARS = 5000;
export const MAX_FEEDBACK_ITEMS = 1000;

const text = z.string().max(MAX_TEXT_CHARS);
const modelName = z.string().min(1).max(63);
export const scoreRequestSchema = z.strictObject({
  model: modelName.optional(),
  texts: z.array(text).min(1).max(MAX_TEXTS),
});
// An analyst often holds the request id of what was served rather than a clean copy of the
// text; monitoring joins it to the logged prediction. A batch request serves several texts
// under one id, so the text may come too, to pick one of them.
const feedbackItemSchema = z
  .strictObject({ text: text.optional(), requestId: z.string().min(1).max(200).optional(), label: z.string().min(1).max(64) })
  .refine((item) => !!item.text?.trim() || item.requestId !== undefined, {
    message: 'names nothing to judge: give "text" (the text that was scored), "requestId" (the requestId its /score answer returned), or both',
  });
export const feedbackRequestSchema = z.strictObject({
  model: modelName,
  items: z.array(feedbackItemSchema).min(1).max(MAX_FEEDBACK_ITEMS),
  /** Who labelled these (a tool, a team); "endpoint" when absent. */
  source: z.string().min(1).max(64).optional(),
});

export interface EndpointOptions {
  host: string;
  /** 0 picks a free port; the returned url has the real one. */
  port: number;
  apiKey: string;
  /** The deployment that serves `model` (or the default model when absent); null: none. */
  resolveDeployment: (model?: string) => Promise<Deployment | null>;
  loadScorer: LoadScorer;
  logPredictions: (records: PredictionRecord[]) => Promise<void>;
  addFeedback: (records: FeedbackRecord[]) => Promise<number>;
  /** Told about failures the client only sees as a 5xx (load, logging, internal errors). */
  onError?: (error: unknown, context: { requestId: string; route: string }) => void;
}

export interface Endpoint {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares hashes so neither the key's content nor its length leaks through timing. */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return timingSafeEqual(sha256(match ? match[1]!.trim() : ''), expected) && !!match;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > MAX_BODY_BYTES)
    throw new HttpError(413, `request body is ${declared} bytes; the limit is ${MAX_BODY_BYTES} (1 MiB): send fewer texts per request`);
  // Events, not for-await: leaving a for-await early destroys the socket, and the client would
  // see a reset instead of the 413. Past the limit we stop keeping bytes but read to the end.
  const raw = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size <= MAX_BODY_BYTES) chunks.push(part);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes (1 MiB): send fewer texts per request`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
  if (!raw.trim()) throw new HttpError(400, 'request body is empty; send JSON');
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
  throw new HttpError(400, `invalid request body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  if (!options.apiKey) throw new Error('startEndpoint: apiKey is empty; use loadEndpointKey()');
  const expectedKey = sha256(options.apiKey);
  const report = options.onError ?? (() => {});
  const pool = new ScorerPool(options.loadScorer, (error, d) => report(error, { requestId: '-', route: `close ${d.model} v${d.version}` }));

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

  async function withScorer<T>(deployment: Deployment, use: (lease: Awaited<ReturnType<ScorerPool['acquire']>>) => Promise<T>): Promise<T> {
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

  async function score(req: IncomingMessage, requestId: string) {
    const body = parse(scoreRequestSchema, await readJsonBody(req));
    const deployment = await deploymentFor(body.model);
    return withScorer(deployment, async ({ scorer, deployment: served }) => {
      let predictions;
      try {
        // The same normalization the training data went through (NFC, whitespace, ZWSP).
        predictions = await scorer.predict(body.texts.map(normalizeText));
      } catch (e) {
        throw new HttpError(500, `scoring failed with model ${served.model} v${served.version}: ${(e as Error).message}`);
      }
      const records: PredictionRecord[] = predictions.map((p, i) => ({
        model: served.model,
        version: served.version,
        requestId,
        text: body.texts[i]!,
        label: p.label,
        probabilities: p.probabilities,
      }));
      try {
        await options.logPredictions(records);
      } catch (e) {
        // Monitoring is built on these rows; an answer we could not record is not given.
        throw new HttpError(503, `predictions could not be logged, so none are returned: ${(e as Error).message}`, {}, { 'retry-after': '5' });
      }
      return {
        model: served.model,
        version: served.version,
        requestId,
        predictions: predictions.map((p) => ({ label: p.label, probabilities: p.probabilities })),
      };
    });
  }

  async function feedback(req: IncomingMessage) {
    const body = parse(feedbackRequestSchema, await readJsonBody(req));
    const deployment = await deploymentFor(body.model);
    const labels = await withScorer(deployment, async ({ scorer }) => scorer.labels);
    const issues = body.items.flatMap((item, i) =>
      labels.includes(item.label) ? [] : [{ path: `items.${i}.label`, message: `"${item.label}" is not one of the model's labels: ${labels.join(', ')}` }],
    );
    if (issues.length) throw new HttpError(400, `invalid request body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
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
  async function health(req: IncomingMessage) {
    const model = new URL(req.url ?? '/', 'http://endpoint').searchParams.get('model');
    if (model) await withScorer(await deploymentFor(model), async () => undefined);
    return { status: 'ok', models: pool.loaded().map(({ model: m, version, sha256 }) => ({ model: m, version, sha256 })) };
  }

  const routes: Record<string, { method: string; auth: boolean; handle: (req: IncomingMessage, requestId: string) => Promise<unknown> }> = {
    '/health': { method: 'GET', auth: false, handle: health },
    '/score': { method: 'POST', auth: true, handle: score },
    '/feedback': { method: 'POST', auth: true, handle: (req) => feedback(req) },
  };

  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = randomUUID();
    const path = new URL(req.url ?? '/', 'http://endpoint').pathname;
    const route = routes[path];
    try {
      if (!route) throw new HttpError(404, `no route ${req.method} ${path}; routes: GET /health, POST /score, POST /feedback`);
      if (req.method !== route.method) throw new HttpError(405, `${path} takes ${route.method}`, {}, { allow: route.method });
      if (route.auth && !authorized(req, expectedKey)) {
        throw new HttpError(
          401,
          'missing or wrong API key: send "Authorization: Bearer <key>" (the key is MLC_ENDPOINT_KEY or .data/secrets/endpoint.key)',
          {},
          { 'www-authenticate': 'Bearer' },
        );
      }
      send(res, 200, await route.handle(req, requestId), { 'x-request-id': requestId });
    } catch (e) {
      if (e instanceof HttpError) {
        if (e.status >= 500) report(e, { requestId, route: path });
        send(res, e.status, { error: e.message, requestId, ...e.extra }, { 'x-request-id': requestId, ...e.headers });
      } else {
        report(e, { requestId, route: path });
        if (!res.headersSent) send(res, 500, { error: 'internal error; the endpoint logged it with this requestId', requestId }, { 'x-request-id': requestId });
      }
    }
  };
  // answer() turns every failure into a reply; should writing that reply fail too (a client
  // gone mid-send), the socket is already lost, so record it rather than leave it unhandled.
  const server = createServer((req, res) => {
    answer(req, res).catch((e: unknown) => report(e, { requestId: '-', route: req.url ?? '/' }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await stopped;
      await pool.close();
    },
  };
}
