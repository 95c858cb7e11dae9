// Online endpoints: PUT (create or full update, traffic included), PATCH (tags, identity),
// DELETE, all long-running; GET, list, listKeys. Azure's rules kept: names of 3–32 letters,
// digits and hyphens starting with a letter; the workspace's region; traffic that names
// only this endpoint's deployments, in whole percentages summing to 100 (or 0).
import { randomBytes } from 'node:crypto';
import { notFound, userError } from './arm-http';
import { sleep, type EmulatorContext, type Handler } from './context';
import { openFrontDoor } from './front-door';
import { deploymentKey, deploymentsOf, systemData, workspaceId, type EndpointRecord, type Traffic } from './state';

export const NAME_RULE = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;

type Body = { location?: string; tags?: Record<string, string>; identity?: Record<string, unknown>; kind?: string; properties?: Record<string, unknown> };

export const endpointHandlers: Record<string, Handler> = {
  'OnlineEndpoints.list': (ctx) => ({ status: 200, body: { value: [...ctx.state.endpoints.values()].map((e) => endpointBody(ctx, e)) } }),

  'OnlineEndpoints.get': (ctx, { params }) => ({ status: 200, body: endpointBody(ctx, endpointNamed(ctx, params.endpointName!)) }),

  'OnlineEndpoints.createOrUpdate': async (ctx, { params, body, operation, apiVersion }) => {
    const name = params.endpointName!;
    if (!NAME_RULE.test(name))
      throw userError(
        `Endpoint name ${JSON.stringify(name)} is invalid: it must be 3 to 32 characters, begin with a letter, end with a letter or digit, and contain only letters, digits and hyphens.`,
      );
    ctx.operations.assertIdle(`Updating endpoint ${name}`, name);
    const b = body as Body;
    checkLocation(ctx, b.location);
    const props = { ...(b.properties ?? {}) };
    const traffic = checkTraffic(ctx, name, props.traffic);
    const requestedKeys = props.keys as { primaryKey?: string; secondaryKey?: string } | undefined;
    delete props.traffic;
    delete props.keys;

    const existing = ctx.state.endpoints.get(name.toLowerCase());
    const endpoint: EndpointRecord = existing ?? {
      name,
      location: ctx.scope.location,
      tags: {},
      properties: {},
      traffic: {},
      keys: { primaryKey: newKey(), secondaryKey: newKey() },
      provisioningState: 'Creating',
      frontDoor: await openFrontDoor(ctx, name),
      systemData: systemData(),
    };
    endpoint.tags = b.tags ?? {};
    endpoint.identity = b.identity;
    endpoint.kind = b.kind;
    endpoint.properties = props;
    if (requestedKeys?.primaryKey) endpoint.keys.primaryKey = requestedKeys.primaryKey;
    if (requestedKeys?.secondaryKey) endpoint.keys.secondaryKey = requestedKeys.secondaryKey;
    endpoint.systemData = systemData(existing?.systemData);
    if (existing) endpoint.provisioningState = 'Updating';
    ctx.state.endpoints.set(name.toLowerCase(), endpoint);

    const started = ctx.operations.start(operation, { endpoint: name }, apiVersion, { resourcePath: endpointId(ctx, name) }, async () => {
      await sleep(ctx.operationMs());
      if (traffic) applyTraffic(ctx, endpoint, traffic);
      endpoint.provisioningState = 'Succeeded';
    });
    return { status: existing ? 200 : 201, body: endpointBody(ctx, endpoint), headers: started.headers };
  },

  'OnlineEndpoints.update': (ctx, { params, body, operation, apiVersion }) => {
    const endpoint = endpointNamed(ctx, params.endpointName!);
    ctx.operations.assertIdle(`Updating endpoint ${endpoint.name}`, endpoint.name);
    const b = body as Body;
    endpoint.provisioningState = 'Updating';
    const started = ctx.operations.start(
      operation,
      { endpoint: endpoint.name },
      apiVersion,
      { resourcePath: endpointId(ctx, endpoint.name), withLocation: true },
      async () => {
        await sleep(ctx.operationMs());
        if (b.tags !== undefined) endpoint.tags = b.tags;
        if (b.identity !== undefined) endpoint.identity = b.identity;
        endpoint.systemData = systemData(endpoint.systemData);
        endpoint.provisioningState = 'Succeeded';
      },
    );
    return { status: 202, body: endpointBody(ctx, endpoint), headers: started.headers };
  },

  'OnlineEndpoints.delete': (ctx, { params, operation, apiVersion }) => {
    const endpoint = ctx.state.endpoints.get(params.endpointName!.toLowerCase());
    if (!endpoint) return { status: 204 };
    ctx.operations.assertIdle(`Deleting endpoint ${endpoint.name}`, endpoint.name);
    endpoint.provisioningState = 'Deleting';
    const started = ctx.operations.start(operation, { endpoint: endpoint.name }, apiVersion, { withLocation: true }, async () => {
      await sleep(ctx.operationMs());
      for (const d of deploymentsOf(ctx.state, endpoint.name)) {
        await d.runtime?.stop();
        ctx.state.deployments.delete(deploymentKey(endpoint.name, d.name));
      }
      await endpoint.frontDoor.close();
      ctx.state.endpoints.delete(endpoint.name.toLowerCase());
    });
    return { status: 202, headers: started.headers };
  },

  'OnlineEndpoints.listKeys': (ctx, { params }) => {
    const endpoint = endpointNamed(ctx, params.endpointName!);
    if (String(endpoint.properties.authMode).toLowerCase() !== 'key')
      throw userError(`Endpoint ${endpoint.name} uses ${String(endpoint.properties.authMode)} authentication; keys exist only for authMode Key.`);
    return { status: 200, body: { ...endpoint.keys } };
  },

  'OnlineEndpoints.regenerateKeys': (ctx, { params, body, operation, apiVersion }) => {
    const endpoint = endpointNamed(ctx, params.endpointName!);
    ctx.operations.assertIdle(`Regenerating keys of endpoint ${endpoint.name}`, endpoint.name);
    const { keyType, keyValue } = body as { keyType: string; keyValue?: string };
    const started = ctx.operations.start(operation, { endpoint: endpoint.name }, apiVersion, { withLocation: true }, async () => {
      await sleep(ctx.operationMs());
      const key = keyValue ?? newKey();
      if (keyType.toLowerCase() === 'primary') endpoint.keys.primaryKey = key;
      else endpoint.keys.secondaryKey = key;
    });
    return { status: 202, headers: started.headers };
  },
};

export function endpointNamed(ctx: EmulatorContext, name: string): EndpointRecord {
  const e = ctx.state.endpoints.get(name.toLowerCase());
  if (!e) throw notFound(`Online endpoint ${name}`);
  return e;
}

export function endpointId(ctx: EmulatorContext, name: string): string {
  return `${workspaceId(ctx.scope)}/onlineEndpoints/${name}`;
}

export function checkLocation(ctx: EmulatorContext, location: string | undefined): void {
  const norm = (s: string) => s.replace(/\s+/g, '').toLowerCase();
  if (location !== undefined && norm(location) !== norm(ctx.scope.location)) {
    throw userError(
      `location ${JSON.stringify(location)} differs from the workspace's region ${ctx.scope.location}; online endpoints and deployments live in their workspace's region.`,
    );
  }
}

function checkTraffic(ctx: EmulatorContext, endpoint: string, traffic: unknown): Traffic | undefined {
  if (traffic === undefined || traffic === null) return undefined;
  const t = traffic as Traffic;
  const existing = new Map(deploymentsOf(ctx.state, endpoint).map((d) => [d.name.toLowerCase(), d.name]));
  const normalised: Traffic = {};
  for (const [name, weight] of Object.entries(t)) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 100)
      throw userError(`properties.traffic.${name}: traffic must be a whole percentage between 0 and 100, got ${weight}.`);
    const actual = existing.get(name.toLowerCase());
    if (!actual)
      throw userError(
        `properties.traffic: traffic is given to deployment ${name}, which does not exist on endpoint ${endpoint}. Deployments: ${[...existing.values()].join(', ') || '(none)'}.`,
      );
    normalised[actual] = weight;
  }
  const sum = Object.values(normalised).reduce((a, b) => a + b, 0);
  if (sum !== 100 && sum !== 0)
    throw userError(`properties.traffic: the traffic of endpoint ${endpoint} must add up to 100 (or be 0 everywhere); it adds up to ${sum}.`);
  return normalised;
}

function applyTraffic(ctx: EmulatorContext, endpoint: EndpointRecord, traffic: Traffic) {
  const delay = ctx.faults.takeTrafficDelay();
  if (delay !== undefined) endpoint.staleTraffic = { traffic: { ...endpoint.traffic }, until: Date.now() + delay };
  endpoint.traffic = traffic;
}

export function visibleTraffic(endpoint: EndpointRecord): Traffic {
  if (endpoint.staleTraffic && Date.now() < endpoint.staleTraffic.until) return endpoint.staleTraffic.traffic;
  return endpoint.traffic;
}

function newKey(): string {
  return randomBytes(24).toString('base64url');
}

export function endpointBody(ctx: EmulatorContext, e: EndpointRecord) {
  return {
    id: endpointId(ctx, e.name),
    name: e.name,
    type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
    location: e.location,
    tags: e.tags,
    kind: e.kind ?? 'Managed',
    identity: e.identity ?? { type: 'SystemAssigned', principalId: ctx.workspaceGuid, tenantId: '00000000-0000-0000-0000-000000000000' },
    properties: {
      description: null,
      properties: {},
      publicNetworkAccess: 'Enabled',
      ...e.properties,
      traffic: visibleTraffic(e),
      // Azure never returns keys here; listKeys does.
      keys: null,
      scoringUri: e.frontDoor.scoringUri,
      swaggerUri: e.frontDoor.swaggerUri,
      provisioningState: e.provisioningState,
    },
    systemData: e.systemData,
  };
}
