// The workspace, its datastores, and versioned assets (code, environments, models), as
// Azure ML keeps them: synchronous PUT/GET, a version PUT creates its container, and a
// version's content cannot change without a new version (Azure: "cannot be replaced …
// without increasing the version"). Deployments resolve their references here.
import { ArmError, notFound, userError } from './arm-http';
import type { EmulatorContext, Handler } from './context';
import { systemData, workspaceId, type AssetContainer, type AssetKind, type AssetVersion } from './state';

const TYPES: Record<AssetKind, string> = { codes: 'codes', environments: 'environments', models: 'models' };
/** Properties that make up a version's content; the rest (description, tags…) may change. */
const CONTENT: Record<AssetKind, string[]> = {
  codes: ['codeUri'],
  environments: ['image', 'condaFile', 'build', 'inferenceConfig', 'osType'],
  models: ['modelUri', 'modelType'],
};

export const assetHandlers: Record<string, Handler> = {
  'Workspaces.get': (ctx) => ({ status: 200, body: workspaceBody(ctx) }),

  'Datastores.get': (ctx, { params }) => ({ status: 200, body: datastoreBody(ctx, datastore(ctx, params.name!)) }),
  'Datastores.list': (ctx) => ({ status: 200, body: { value: [...ctx.datastores.values()].map((d) => datastoreBody(ctx, d)) } }),
  'Datastores.listSecrets': (ctx, { params }) => {
    datastore(ctx, params.name!);
    return { status: 200, body: { secretsType: 'AccountKey', key: ctx.blob.accountKey } };
  },

  ...versionedAsset('codes', 'Code'),
  ...versionedAsset('environments', 'Environment'),
  ...versionedAsset('models', 'Model'),
};

function versionedAsset(kind: AssetKind, group: string): Record<string, Handler> {
  const containers = (ctx: EmulatorContext) => ctx.state.assets[kind];
  const container = (ctx: EmulatorContext, name: string) => {
    const found = containers(ctx).get(name.toLowerCase());
    if (!found) throw notFound(`${group} container ${name}`);
    return found;
  };
  return {
    [`${group}Containers.get`]: (ctx, { params }) => ({ status: 200, body: containerBody(ctx, container(ctx, params.name!)) }),
    [`${group}Containers.list`]: (ctx) => ({ status: 200, body: { value: [...containers(ctx).values()].map((c) => containerBody(ctx, c)) } }),
    [`${group}Containers.createOrUpdate`]: (ctx, { params, body }) => {
      const props = (body as { properties?: Record<string, unknown> }).properties ?? {};
      const existing = containers(ctx).get(params.name!.toLowerCase());
      const c: AssetContainer = existing ?? { kind, name: params.name!, properties: {}, versions: new Map(), systemData: systemData() };
      c.properties = props;
      c.systemData = systemData(existing?.systemData);
      containers(ctx).set(c.name.toLowerCase(), c);
      return { status: existing ? 200 : 201, body: containerBody(ctx, c) };
    },
    [`${group}Versions.get`]: (ctx, { params }) => {
      const v = container(ctx, params.name!).versions.get(params.version!.toLowerCase());
      if (!v) throw notFound(`${group} version ${params.name}:${params.version}`);
      return { status: 200, body: versionBody(ctx, v) };
    },
    [`${group}Versions.list`]: (ctx, { params }) => ({
      status: 200,
      body: { value: [...container(ctx, params.name!).versions.values()].map((v) => versionBody(ctx, v)) },
    }),
    [`${group}Versions.createOrUpdate`]: (ctx, { params, body }) => {
      const props = (body as { properties?: Record<string, unknown> }).properties ?? {};
      checkVersionContent(kind, props);
      let c = containers(ctx).get(params.name!.toLowerCase());
      if (!c) {
        c = { kind, name: params.name!, properties: {}, versions: new Map(), systemData: systemData() };
        containers(ctx).set(c.name.toLowerCase(), c);
      }
      const existing = c.versions.get(params.version!.toLowerCase());
      if (existing) {
        for (const key of CONTENT[kind]) {
          if (JSON.stringify(existing.properties[key] ?? null) !== JSON.stringify(props[key] ?? null)) {
            throw userError(
              `Value of property ${key} for ${kind.slice(0, -1)} ${c.name}:${existing.version} cannot be replaced to ${JSON.stringify(props[key] ?? null)} without increasing the version.`,
            );
          }
        }
      }
      const v: AssetVersion = { kind, name: c.name, version: params.version!, properties: props, systemData: systemData(existing?.systemData) };
      c.versions.set(v.version.toLowerCase(), v);
      return { status: existing ? 200 : 201, body: versionBody(ctx, v) };
    },
  };
}

function checkVersionContent(kind: AssetKind, props: Record<string, unknown>) {
  if (kind === 'codes' && !props.codeUri) throw userError('properties.codeUri: a code version needs the URI of its files.');
  if (kind === 'models' && !props.modelUri) throw userError('properties.modelUri: a model version needs the URI of its files.');
  if (kind === 'environments' && !props.image && !props.build) throw userError('properties: an environment version needs an image or a build context.');
}

/** A version a deployment names: an ARM id of this workspace, or azureml:<name>:<version>. */
export function resolveAssetRef(ctx: EmulatorContext, kind: AssetKind, ref: string, field: string): AssetVersion | 'registry' {
  const ws = workspaceId(ctx.scope);
  let name: string | undefined;
  let version: string | undefined;
  const arm = new RegExp(
    `^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.MachineLearningServices/workspaces/[^/]+)/${TYPES[kind]}/([^/]+)/versions/([^/]+)$`,
    'i',
  ).exec(ref);
  const short = /^azureml:([^:/]+):([^:/]+)$/i.exec(ref);
  if (arm) {
    if (arm[1]!.toLowerCase() !== ws.toLowerCase()) throw userError(`${field}: ${ref} is in another workspace; this workspace is ${ws}.`);
    [name, version] = [arm[2], arm[3]];
  } else if (short) {
    [name, version] = [short[1], short[2]];
  } else if (kind === 'environments' && /^azureml:\/\/registries\/[^/]+\/environments\/[^/]+\/(versions\/[^/]+|labels\/[^/]+)$/i.test(ref)) {
    return 'registry';
  } else {
    throw userError(`${field}: ${JSON.stringify(ref)} is not an asset id (expected ${ws}/${TYPES[kind]}/<name>/versions/<version>).`);
  }
  const found = ctx.state.assets[kind].get(name!.toLowerCase())?.versions.get(version!.toLowerCase());
  if (!found) throw new ArmError(400, 'UserError', `${field}: Could not find asset with ID: ${ref}`);
  return found;
}

export function assetId(ctx: EmulatorContext, kind: AssetKind, name: string, version?: string): string {
  return `${workspaceId(ctx.scope)}/${TYPES[kind]}/${name}${version === undefined ? '' : `/versions/${version}`}`;
}

function versionBody(ctx: EmulatorContext, v: AssetVersion) {
  const extra =
    v.kind === 'environments' ? { environmentType: 'UserCreated' } : v.kind === 'models' ? { modelType: v.properties.modelType ?? 'custom_model' } : {};
  return {
    id: assetId(ctx, v.kind, v.name, v.version),
    name: v.version,
    type: `Microsoft.MachineLearningServices/workspaces/${TYPES[v.kind]}/versions`,
    properties: { description: null, tags: {}, properties: {}, isAnonymous: false, isArchived: false, ...v.properties, ...extra },
    systemData: v.systemData,
  };
}

function containerBody(ctx: EmulatorContext, c: AssetContainer) {
  const versions = [...c.versions.values()].map((v) => v.version);
  const numeric = versions.map(Number).filter(Number.isInteger);
  return {
    id: assetId(ctx, c.kind, c.name),
    name: c.name,
    type: `Microsoft.MachineLearningServices/workspaces/${TYPES[c.kind]}`,
    properties: {
      description: null,
      tags: {},
      properties: {},
      isArchived: false,
      ...c.properties,
      latestVersion: versions.at(-1) ?? null,
      nextVersion: String(numeric.length ? Math.max(...numeric) + 1 : 1),
    },
    systemData: c.systemData,
  };
}

function datastore(ctx: EmulatorContext, name: string) {
  const d = ctx.datastores.get(name.toLowerCase());
  if (!d) throw notFound(`Datastore ${name}`);
  return d;
}

function datastoreBody(ctx: EmulatorContext, d: { name: string; containerName: string; isDefault: boolean; systemData: unknown }) {
  const endpoint = new URL(ctx.blob.endpoint);
  return {
    id: `${workspaceId(ctx.scope)}/datastores/${d.name}`,
    name: d.name,
    type: 'Microsoft.MachineLearningServices/workspaces/datastores',
    properties: {
      datastoreType: 'AzureBlob',
      accountName: ctx.blob.accountName,
      containerName: d.containerName,
      // Azure has the cloud's storage suffix here (core.windows.net); Azurite is path-style,
      // so this is its host:port and clients take the blob endpoint from their configuration.
      endpoint: endpoint.host,
      protocol: endpoint.protocol.replace(':', ''),
      serviceDataAccessAuthIdentity: 'None',
      credentials: { credentialsType: 'AccountKey' },
      isDefault: d.isDefault,
      description: null,
      tags: {},
      properties: {},
    },
    systemData: d.systemData,
  };
}

function workspaceBody(ctx: EmulatorContext) {
  const id = workspaceId(ctx.scope);
  return {
    id,
    name: ctx.scope.workspace,
    type: 'Microsoft.MachineLearningServices/workspaces',
    location: ctx.scope.location,
    tags: {},
    identity: { type: 'SystemAssigned', principalId: ctx.workspaceGuid, tenantId: '00000000-0000-0000-0000-000000000000' },
    sku: { name: 'Basic', tier: 'Basic' },
    properties: {
      workspaceId: ctx.workspaceGuid,
      friendlyName: ctx.scope.workspace,
      description: 'Azure ML contract emulator',
      storageAccount: `/subscriptions/${ctx.scope.subscriptionId}/resourceGroups/${ctx.scope.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${ctx.blob.accountName}`,
      provisioningState: 'Succeeded',
      publicNetworkAccess: 'Enabled',
      discoveryUrl: `${ctx.armEndpoint()}/discovery`,
      mlFlowTrackingUri: `azureml:/${id}`,
    },
    systemData: { ...systemData(), createdAt: new Date(0).toISOString() },
  };
}
