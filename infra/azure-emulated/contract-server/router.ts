// The ARM front: every request is logged, authenticated, maybe throttled (an armed fault),
// matched to one of the SDK's operation specs (or to an operation's status/result URL),
// checked for api-version, scope, URL names and body, and only then handed to a handler.
// Refusals use ARM's codes: 401 AuthenticationFailed, 429 with Retry-After, 400
// MissingApiVersionParameter / NoRegisteredProviderFound / UserError, 404, 409 Conflict.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ArmError, readJson, sendArmError, sendJson } from './arm-http';
import { checkBearer } from './auth';
import type { ArmResponse, EmulatorContext, Handler } from './context';
import type { Operation } from './sdk-contract';
import { PROVIDER, type RequestLogEntry } from './state';
import { describeProblems, validateBody } from './validate-body';

export function armRequestListener(ctx: EmulatorContext, token: string, handlers: Record<string, Handler>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const entry: RequestLogEntry = {
      at: new Date().toISOString(),
      method: req.method ?? 'GET',
      path: url.pathname,
      apiVersion: url.searchParams.get('api-version'),
      status: 0,
    };
    ctx.state.requests.push(entry);
    const requestId = randomUUID();
    const common = { 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': (req.headers['x-ms-client-request-id'] as string | undefined) ?? requestId };
    handle(ctx, token, handlers, req, url, entry)
      .then((r) => {
        entry.status = r.status;
        sendJson(res, r.status, r.body, { ...common, ...r.headers });
      })
      .catch((err: unknown) => {
        const armError = err instanceof ArmError ? err : new ArmError(500, 'InternalServerError', `The emulator failed: ${(err as Error).message}`);
        entry.status = armError.status;
        entry.code = armError.code;
        req.resume();
        sendArmError(res, new ArmError(armError.status, armError.code, armError.message, { ...common, ...armError.headers }));
      });
  };
}

async function handle(
  ctx: EmulatorContext,
  token: string,
  handlers: Record<string, Handler>,
  req: IncomingMessage,
  url: URL,
  entry: RequestLogEntry,
): Promise<ArmResponse> {
  checkBearer(req, token);
  const throttle = ctx.faults.takeThrottle();
  if (throttle !== undefined) {
    throw new ArmError(
      429,
      'TooManyRequests',
      `The request is being throttled as the limit has been reached for this subscription. Please try again after ${throttle} seconds.`,
      { 'Retry-After': String(throttle) },
    );
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const apiVersion = checkApiVersion(ctx, url);

  const lro = new RegExp(`^/subscriptions/([^/]+)/providers/${PROVIDER}/locations/([^/]+)/(mfeOperationsStatus|mfeOperationResults)/([^/]+)$`, 'i').exec(
    url.pathname,
  );
  if (lro && method === 'GET') {
    entry.operation = lro[3];
    return lro[3]!.toLowerCase() === 'mfeoperationsstatus' ? operationStatus(ctx, lro[4]!) : operationResult(ctx, handlers, lro[4]!, apiVersion);
  }

  const candidates = ctx.contract.operations.filter((o) => o.pattern.test(url.pathname));
  if (candidates.length === 0)
    throw new ArmError(404, 'InvalidResourceType', `No resource type matches ${url.pathname} in namespace ${PROVIDER} for api version '${apiVersion}'.`);
  const op = candidates.find((o) => o.spec.httpMethod === method);
  if (!op) throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
  entry.operation = op.name;
  const params = op.pattern.exec(url.pathname)!.groups ?? {};
  for (const k of Object.keys(params)) params[k] = decodeURIComponent(params[k]!);
  checkScope(ctx, params);
  checkUrlParameters(op, params);

  const body = await readJson(req);
  if (op.spec.requestBody) {
    const problems = validateBody(ctx.contract, op.spec.requestBody.mapper, body);
    if (problems.length) throw new ArmError(400, 'UserError', describeProblems(problems));
  }
  const handler = handlers[op.name];
  if (!handler)
    throw new ArmError(501, 'NotImplemented', `${op.name} (${method} ${op.spec.path}) is a real Azure ML operation that this emulator does not implement.`);
  return handler(ctx, { operation: op.name, params, body, apiVersion });
}

function checkApiVersion(ctx: EmulatorContext, url: URL): string {
  const given = url.searchParams.getAll('api-version');
  if (given.length === 0)
    throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  const wrong = given.find((v) => v !== ctx.contract.apiVersion);
  if (wrong !== undefined) {
    throw new ArmError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location '${ctx.scope.location}' and API version '${wrong}' for type 'workspaces'. The supported api-versions are '${ctx.contract.apiVersion}'.`,
    );
  }
  return ctx.contract.apiVersion;
}

function checkScope(ctx: EmulatorContext, params: Record<string, string>) {
  if (params.subscriptionId !== undefined && params.subscriptionId !== ctx.scope.subscriptionId) {
    throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${params.subscriptionId}' could not be found.`);
  }
  if (params.resourceGroupName !== undefined && params.resourceGroupName.toLowerCase() !== ctx.scope.resourceGroup.toLowerCase()) {
    throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${params.resourceGroupName}' could not be found.`);
  }
  if (params.workspaceName !== undefined && params.workspaceName.toLowerCase() !== ctx.scope.workspace.toLowerCase()) {
    throw new ArmError(
      404,
      'ResourceNotFound',
      `The Resource '${PROVIDER}/workspaces/${params.workspaceName}' under resource group '${params.resourceGroupName}' was not found.`,
    );
  }
}

/** Names in the path against the spec's own constraints (endpoint and deployment names have a pattern). */
function checkUrlParameters(op: Operation, params: Record<string, string>) {
  for (const p of op.spec.urlParameters ?? []) {
    const name = p.mapper.serializedName;
    const value = name ? params[name] : undefined;
    const c = p.mapper.constraints as { Pattern?: RegExp; MinLength?: number; MaxLength?: number } | undefined;
    if (value === undefined || !c) continue;
    if (
      (c.Pattern && !c.Pattern.test(value)) ||
      (c.MinLength !== undefined && value.length < c.MinLength) ||
      (c.MaxLength !== undefined && value.length > c.MaxLength)
    ) {
      throw new ArmError(400, 'UserError', `${name} ${JSON.stringify(value)} is not a valid name${c.Pattern ? ` (it must match ${c.Pattern})` : ''}.`);
    }
  }
}

function operationStatus(ctx: EmulatorContext, id: string): ArmResponse {
  const body = ctx.operations.statusBody(id);
  return { status: 200, body, headers: body.status === 'InProgress' ? ctx.operations.retryAfter() : {} };
}

/** The Location URL: 202 while running, then the resource (PUT/PATCH) or 204 (DELETE). */
async function operationResult(ctx: EmulatorContext, handlers: Record<string, Handler>, id: string, apiVersion: string): Promise<ArmResponse> {
  const op = ctx.operations.get(id);
  if (!op) throw new ArmError(404, 'ResourceNotFound', `Operation ${id} was not found.`);
  if (op.status === 'InProgress')
    return {
      status: 202,
      headers: { Location: `${ctx.armEndpoint()}${ctx.operations.resultPath(id)}?api-version=${apiVersion}&type=async`, ...ctx.operations.retryAfter() },
    };
  if (op.status === 'Failed') throw new ArmError(op.error!.code === 'InternalServerError' ? 500 : 400, op.error!.code, op.error!.message);
  if (!op.resourcePath) return { status: 204 };
  const get = ctx.contract.operations.find((o) => o.spec.httpMethod === 'GET' && o.pattern.test(op.resourcePath!));
  const handler = get && handlers[get.name];
  if (!get || !handler) return { status: 204 };
  const params = get.pattern.exec(op.resourcePath)!.groups ?? {};
  return handler(ctx, { operation: get.name, params, body: undefined, apiVersion });
}
