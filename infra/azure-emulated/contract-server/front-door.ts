// An endpoint's scoring front door, at its scoringUri (https with the emulator's
// certificate, or http when the emulator is started with scoringTls: false). As Azure's
// gateway: a key in `Authorization: Bearer`, routing by the `azureml-model-deployment`
// header or else by the traffic weights (a seeded draw), a request id passed to the model
// and returned, a model's non-200 turned into 424 with the model's status in
// ms-azureml-model-error-statuscode, and 404 when no deployment can take the request.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { EmulatorContext } from './context';
import { deploymentKey, type DeploymentRecord, type EndpointRecord } from './state';

export interface FrontDoor {
  port: number;
  scoringUri: string;
  swaggerUri: string;
  close(): Promise<void>;
}

const NO_ROUTE =
  'No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route. Please see https://aka.ms/mir-endpoint-routing for more info.';

export async function openFrontDoor(ctx: EmulatorContext, endpointName: string): Promise<FrontDoor> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    score(ctx, endpointName, req, res).catch((err: Error) => {
      if (!res.headersSent) reply(res, 500, { message: `The emulator's front door failed: ${err.message}` });
      else res.destroy(err);
    });
  };
  const server: Server = ctx.scoringTls ? createHttpsServer({ key: ctx.cert.key, cert: ctx.cert.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const base = `${ctx.scoringTls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    port,
    scoringUri: `${base}/score`,
    swaggerUri: `${base}/swagger.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}

async function score(ctx: EmulatorContext, endpointName: string, req: IncomingMessage, res: ServerResponse) {
  const requestId = (req.headers['x-ms-request-id'] as string | undefined) ?? randomUUID();
  const log = (status: number, deployment?: string) =>
    ctx.state.scoring.push({ at: new Date().toISOString(), endpoint: endpointName, ...(deployment && { deployment }), requestId, status });
  const headers: Record<string, string> = { 'x-ms-request-id': requestId, 'x-request-id': requestId };

  const endpoint = ctx.state.endpoints.get(endpointName.toLowerCase());
  const path = (req.url ?? '/').split('?')[0];
  if (!endpoint || path !== '/score' || req.method !== 'POST') {
    log(404);
    return reply(res, 404, { message: `No route for ${req.method} ${path} on endpoint ${endpointName}; score with POST /score.` }, headers);
  }
  const key = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (String(endpoint.properties.authMode).toLowerCase() !== 'key') {
    log(401);
    return reply(
      res,
      401,
      {
        message: `Endpoint ${endpointName} uses ${String(endpoint.properties.authMode)} authentication, which this emulator's front door does not accept; use authMode Key.`,
      },
      headers,
    );
  }
  if (!key || (key !== endpoint.keys.primaryKey && key !== endpoint.keys.secondaryKey)) {
    log(401);
    return reply(
      res,
      401,
      { message: 'Key-based authentication failed: the Authorization header must be "Bearer <endpoint key>" with a key from listKeys.' },
      headers,
    );
  }

  const chosen = route(ctx, endpoint, req.headers['azureml-model-deployment'] as string | undefined);
  if ('error' in chosen) {
    log(chosen.status);
    return reply(res, chosen.status, { message: chosen.error }, headers);
  }
  const deployment = chosen.deployment;
  headers['azureml-model-deployment'] = deployment.name;

  const body = await readAll(req);
  const injected = ctx.faults.scoringFailure(endpoint.name, deployment.name, endpoint.traffic[deployment.name] ?? 0);
  if (injected !== undefined) {
    log(injected, deployment.name);
    return reply(res, injected, { message: `Internal server error (injected fault on deployment ${deployment.name}).` }, headers);
  }
  const server = deployment.runtime?.server;
  if (!server?.isRunning()) {
    log(502, deployment.name);
    return reply(res, 502, { message: `Deployment ${deployment.name}'s container is not running.` }, headers);
  }
  const timeoutMs = durationMs(deployment.properties.requestSettings) ?? 5000;
  let upstream: Response;
  try {
    upstream = await fetch(`http://127.0.0.1:${server.port}/score`, {
      method: 'POST',
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/json',
        'x-ms-request-id': requestId,
        ...(req.headers['x-ms-client-request-id'] && { 'x-ms-client-request-id': req.headers['x-ms-client-request-id'] as string }),
        'azureml-model-deployment': deployment.name,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    log(timedOut ? 408 : 502, deployment.name);
    return reply(
      res,
      timedOut ? 408 : 502,
      {
        message: timedOut
          ? `Request timed out after ${timeoutMs} ms (requestSettings.requestTimeout).`
          : `Deployment ${deployment.name} did not answer: ${(err as Error).message}`,
      },
      headers,
    );
  }
  const text = await upstream.text();
  const passed: Record<string, string> = { ...headers, 'Content-Type': upstream.headers.get('content-type') ?? 'application/json' };
  for (const h of ['x-ms-run-function-failed', 'x-ms-server-version', 'x-ms-client-request-id']) {
    const v = upstream.headers.get(h);
    if (v) passed[h] = v;
  }
  if (upstream.status !== 200) {
    passed['ms-azureml-model-error-statuscode'] = String(upstream.status);
    passed['ms-azureml-model-error-reason'] = 'model_error';
    log(424, deployment.name);
    res.writeHead(424, passed);
    return res.end(text);
  }
  log(200, deployment.name);
  res.writeHead(200, passed);
  res.end(text);
}

function route(
  ctx: EmulatorContext,
  endpoint: EndpointRecord,
  header: string | undefined,
): { deployment: DeploymentRecord } | { status: number; error: string } {
  if (header) {
    const d = ctx.state.deployments.get(deploymentKey(endpoint.name, header));
    if (!d) return { status: 404, error: `Deployment ${header} does not exist on endpoint ${endpoint.name} (azureml-model-deployment header).` };
    return { deployment: d };
  }
  const weighted = Object.entries(endpoint.traffic).filter(([, w]) => w > 0);
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  if (total <= 0) return { status: 404, error: NO_ROUTE };
  let draw = ctx.rand() * total;
  for (const [name, w] of weighted) {
    draw -= w;
    if (draw < 0) {
      const d = ctx.state.deployments.get(deploymentKey(endpoint.name, name));
      return d ? { deployment: d } : { status: 404, error: NO_ROUTE };
    }
  }
  return { status: 404, error: NO_ROUTE };
}

/** PT5S, PT0.5S, PT1M: what requestSettings.requestTimeout is written as. */
function durationMs(settings: unknown): number | undefined {
  const value = (settings as { requestTimeout?: string } | undefined)?.requestTimeout;
  const m = value ? /^PT(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(value) : null;
  if (!m || (!m[1] && !m[2])) return undefined;
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
