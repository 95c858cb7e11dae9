// Online deployments: PUT (create, or a rolling update that keeps the old server until the
// new one is ready), PATCH (tags, sku), DELETE, all long-running; GET, list, getLogs. A
// create is refused up front for what Azure refuses synchronously (unknown assets or
// instance type, no code or environment) and fails as an operation for what Azure finds
// while provisioning: OutOfQuota, and ResourceNotReady when the container does not come up.
import { ArmError, notFound, userError } from './arm-http';
import { resolveAssetRef } from './assets';
import { sleep, type EmulatorContext, type Handler } from './context';
import { checkLocation, endpointId, endpointNamed, NAME_RULE } from './endpoints';
import { OperationFailure } from './lro';
import { coresNeeded, INSTANCE_CORES, outOfQuotaMessage } from './quota';
import { RuntimeStartError, startRuntime, type RuntimeSpec } from './runtime';
import { deploymentKey, deploymentsOf, LogTail, systemData, type DeploymentRecord } from './state';

type Body = {
  location?: string;
  tags?: Record<string, string>;
  identity?: Record<string, unknown>;
  kind?: string;
  sku?: Record<string, unknown>;
  properties?: Record<string, unknown>;
};

const DEFAULTS = {
  appInsightsEnabled: false,
  egressPublicNetworkAccess: 'Enabled',
  scaleSettings: { scaleType: 'Default' },
  requestSettings: { requestTimeout: 'PT5S', maxConcurrentRequestsPerInstance: 1, maxQueueWait: 'PT0.5S' },
  livenessProbe: { failureThreshold: 30, successThreshold: 1, timeout: 'PT2S', period: 'PT10S', initialDelay: 'PT10S' },
  readinessProbe: { failureThreshold: 30, successThreshold: 1, timeout: 'PT2S', period: 'PT10S', initialDelay: 'PT10S' },
  environmentVariables: {},
  properties: {},
  description: null,
};

export const deploymentHandlers: Record<string, Handler> = {
  'OnlineDeployments.list': (ctx, { params }) => {
    const endpoint = endpointNamed(ctx, params.endpointName!);
    return { status: 200, body: { value: deploymentsOf(ctx.state, endpoint.name).map((d) => deploymentBody(ctx, d)) } };
  },

  'OnlineDeployments.get': (ctx, { params }) => ({
    status: 200,
    body: deploymentBody(ctx, deploymentNamed(ctx, params.endpointName!, params.deploymentName!)),
  }),

  'OnlineDeployments.createOrUpdate': (ctx, { params, body, operation, apiVersion }) => {
    const endpoint = ctx.state.endpoints.get(params.endpointName!.toLowerCase());
    if (!endpoint) throw new ArmError(404, 'ResourceNotFound', `Online endpoint ${params.endpointName} was not found; create it before its deployments.`);
    const name = params.deploymentName!;
    if (!NAME_RULE.test(name))
      throw userError(
        `Deployment name ${JSON.stringify(name)} is invalid: it must be 3 to 32 characters, begin with a letter, end with a letter or digit, and contain only letters, digits and hyphens.`,
      );
    ctx.operations.assertIdle(`Updating deployment ${name}`, endpoint.name, name);
    const b = body as Body;
    checkLocation(ctx, b.location);
    const props = b.properties ?? {};
    const { spec, instanceType, instances } = checkDeployment(ctx, props, b.sku);

    const key = deploymentKey(endpoint.name, name);
    const existing = ctx.state.deployments.get(key);
    const deployment: DeploymentRecord = existing ?? {
      endpoint: endpoint.name,
      name,
      location: ctx.scope.location,
      tags: {},
      sku: {},
      properties: {},
      provisioningState: 'Creating',
      logs: { StorageInitializer: new LogTail(), InferenceServer: new LogTail() },
      systemData: systemData(),
    };
    deployment.tags = b.tags ?? {};
    deployment.identity = b.identity;
    deployment.kind = b.kind;
    deployment.sku = { name: 'Default', tier: 'Standard', ...b.sku, capacity: instances };
    deployment.properties = props;
    deployment.systemData = systemData(existing?.systemData);
    deployment.provisioningState = existing ? 'Updating' : 'Creating';
    ctx.state.deployments.set(key, deployment);

    // Quota is decided now (other deployments' usage as it is), reported when Azure would.
    const used = usedCores(ctx, key);
    const needed = coresNeeded(instanceType, instances);
    const quota =
      ctx.faults.takeOutOfQuota() || used + needed > ctx.quotaCores
        ? outOfQuotaMessage(instanceType, ctx.scope.subscriptionId, used, ctx.quotaCores, needed)
        : undefined;
    const crash = ctx.faults.takeCrash();

    const started = ctx.operations.start(
      operation,
      { endpoint: endpoint.name, deployment: name },
      apiVersion,
      { resourcePath: `${endpointId(ctx, endpoint.name)}/deployments/${name}` },
      async () => {
        const ms = ctx.operationMs();
        try {
          if (quota) {
            await sleep(ms);
            throw new OperationFailure('OutOfQuota', quota);
          }
          const [, runtime] = await Promise.allSettled([sleep(ms), startRuntime(ctx, deployment, { ...spec, crash })]);
          if (runtime.status === 'rejected') {
            const err = runtime.reason as Error;
            const detail = err instanceof RuntimeStartError ? `${err.stage}: ${err.message}` : err.message;
            throw new OperationFailure(
              'ResourceNotReady',
              `User container has crashed or terminated: ${detail}. Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-resourcenotready`,
            );
          }
          const previous = deployment.runtime;
          deployment.runtime = runtime.value;
          deployment.provisioningState = 'Succeeded';
          await previous?.stop();
        } catch (err) {
          // A failed update leaves the old server serving, as a rolling update does.
          deployment.provisioningState = 'Failed';
          throw err;
        }
      },
    );
    return { status: existing ? 200 : 201, body: deploymentBody(ctx, deployment), headers: started.headers };
  },

  'OnlineDeployments.update': (ctx, { params, body, operation, apiVersion }) => {
    const deployment = deploymentNamed(ctx, params.endpointName!, params.deploymentName!);
    ctx.operations.assertIdle(`Updating deployment ${deployment.name}`, deployment.endpoint, deployment.name);
    const b = body as Body;
    deployment.provisioningState = 'Updating';
    const started = ctx.operations.start(
      operation,
      { endpoint: deployment.endpoint, deployment: deployment.name },
      apiVersion,
      { resourcePath: `${endpointId(ctx, deployment.endpoint)}/deployments/${deployment.name}`, withLocation: true },
      async () => {
        await sleep(ctx.operationMs());
        if (b.tags !== undefined) deployment.tags = b.tags;
        if (b.sku !== undefined) deployment.sku = { ...deployment.sku, ...b.sku };
        deployment.systemData = systemData(deployment.systemData);
        deployment.provisioningState = 'Succeeded';
      },
    );
    return { status: 202, body: deploymentBody(ctx, deployment), headers: started.headers };
  },

  'OnlineDeployments.delete': (ctx, { params, operation, apiVersion }) => {
    const endpoint = endpointNamed(ctx, params.endpointName!);
    const deployment = ctx.state.deployments.get(deploymentKey(endpoint.name, params.deploymentName!));
    if (!deployment) return { status: 204 };
    const weight = Object.entries(endpoint.traffic).find(([n]) => n.toLowerCase() === deployment.name.toLowerCase())?.[1] ?? 0;
    if (weight > 0)
      throw userError(`Deployment ${deployment.name} has ${weight}% of endpoint ${endpoint.name}'s traffic; set its traffic to 0 before deleting it.`);
    ctx.operations.assertIdle(`Deleting deployment ${deployment.name}`, endpoint.name, deployment.name);
    deployment.provisioningState = 'Deleting';
    const started = ctx.operations.start(operation, { endpoint: endpoint.name, deployment: deployment.name }, apiVersion, { withLocation: true }, async () => {
      await sleep(ctx.operationMs());
      await deployment.runtime?.stop();
      ctx.state.deployments.delete(deploymentKey(endpoint.name, deployment.name));
      delete endpoint.traffic[deployment.name];
    });
    return { status: 202, headers: started.headers };
  },

  'OnlineDeployments.getLogs': (ctx, { params, body }) => {
    const deployment = deploymentNamed(ctx, params.endpointName!, params.deploymentName!);
    const { containerType, tail } = (body ?? {}) as { containerType?: string; tail?: number };
    const which = containerType?.toLowerCase() === 'storageinitializer' ? 'StorageInitializer' : 'InferenceServer';
    return { status: 200, body: { content: deployment.logs[which].tail(tail) } };
  },
};

function deploymentNamed(ctx: EmulatorContext, endpointName: string, name: string): DeploymentRecord {
  const endpoint = endpointNamed(ctx, endpointName);
  const d = ctx.state.deployments.get(deploymentKey(endpoint.name, name));
  if (!d) throw notFound(`Deployment ${name} of online endpoint ${endpoint.name}`);
  return d;
}

function usedCores(ctx: EmulatorContext, except: string): number {
  let used = 0;
  for (const [key, d] of ctx.state.deployments) {
    if (key === except || d.provisioningState === 'Failed' || !d.runtime) continue;
    used += coresNeeded(String(d.properties.instanceType), Number(d.sku.capacity ?? 1));
  }
  return used;
}

/** What Azure refuses before starting anything; returns what the runtime needs. */
function checkDeployment(ctx: EmulatorContext, props: Record<string, unknown>, sku: Record<string, unknown> | undefined) {
  if (props.endpointComputeType !== 'Managed')
    throw userError(
      `properties.endpointComputeType: ${String(props.endpointComputeType)} deployments need an attached Kubernetes compute, which this workspace does not have; use Managed.`,
    );
  const requested = props.instanceType as string | undefined;
  if (!requested) throw userError('properties.instanceType: a managed online deployment needs an instance type (e.g. Standard_DS3_v2).');
  const instanceType = Object.keys(INSTANCE_CORES).find((t) => t.toLowerCase() === requested.toLowerCase());
  if (!instanceType)
    throw userError(
      `properties.instanceType: ${requested} is not a supported instance type for managed online endpoints. Supported: ${Object.keys(INSTANCE_CORES).join(', ')}.`,
    );
  const instances = sku?.capacity === undefined ? 1 : Number(sku.capacity);
  if (!Number.isInteger(instances) || instances < 1)
    throw userError(`sku.capacity: the instance count must be a whole number of at least 1, got ${String(sku?.capacity)}.`);

  const code = props.codeConfiguration as { codeId?: string; scoringScript: string } | undefined;
  if (!code?.codeId)
    throw userError(
      'properties.codeConfiguration.codeId: this emulator runs custom-model deployments, which need a code asset and a scoring script (MLflow no-code deployments are not emulated).',
    );
  const codeVersion = resolveAssetRef(ctx, 'codes', code.codeId, 'properties.codeConfiguration.codeId');
  const environmentId = props.environmentId as string | undefined;
  if (!environmentId) throw userError('properties.environmentId: a deployment with a scoring script needs an environment.');
  resolveAssetRef(ctx, 'environments', environmentId, 'properties.environmentId');
  let model: RuntimeSpec['model'];
  const modelId = props.model as string | undefined;
  if (modelId) {
    const m = resolveAssetRef(ctx, 'models', modelId, 'properties.model');
    if (m === 'registry') throw userError('properties.model: registry models are not emulated.');
    model = { name: m.name, version: m.version, uri: String(m.properties.modelUri) };
  }
  if (codeVersion === 'registry') throw userError('properties.codeConfiguration.codeId: registry code is not emulated.');
  const spec: Omit<RuntimeSpec, 'crash'> = {
    code: { uri: String(codeVersion.properties.codeUri), scoringScript: code.scoringScript },
    ...(model && { model }),
    environmentVariables: (props.environmentVariables ?? {}) as Record<string, string>,
  };
  return { spec, instanceType, instances };
}

export function deploymentBody(ctx: EmulatorContext, d: DeploymentRecord) {
  return {
    id: `${endpointId(ctx, d.endpoint)}/deployments/${d.name}`,
    name: d.name,
    type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
    location: d.location,
    tags: d.tags,
    kind: d.kind ?? 'Managed',
    sku: d.sku,
    ...(d.identity && { identity: d.identity }),
    properties: { ...DEFAULTS, ...d.properties, provisioningState: d.provisioningState },
    systemData: d.systemData,
  };
}
