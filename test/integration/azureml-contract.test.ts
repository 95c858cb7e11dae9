// The Azure ML contract emulator driven by the real SDK client (@azure/arm-machinelearning,
// API 2022-10-01) against Azurite and the real inference server: the resources our deploy
// adapter uses, Azure's long-running operations (and resuming one from saved poller state),
// bodies refused by the SDK's own mappers, and each injected failure as the SDK sees it.
import { AzureMachineLearningWorkspaces, type OnlineDeployment, type OnlineEndpoint } from '@azure/arm-machinelearning';
import { isRestError } from '@azure/core-rest-pipeline';
import { BlobServiceClient } from '@azure/storage-blob';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY, startAzurite, type Azurite } from '../../infra/azure-emulated/azurite';
import { fixedCredential, startAzureMlEmulator, type AzureMlEmulator } from '../../infra/azure-emulated/contract-server/index';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(repoRoot, 'test/fixtures/azureml-echo');
const ENDPOINT = 'echo-endpoint';
const poll = { updateIntervalInMs: 50 };

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** The SDK's error for a failed call: a RestError with the ARM code, or an LRO's Error. */
async function failure(p: Promise<unknown>): Promise<{ status?: number; code?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isRestError(err)) return { status: err.statusCode, code: err.code, message: err.message };
    return { message: (err as Error).message };
  }
  throw new Error('expected the call to fail');
}

describe('Azure ML contract emulator, driven by @azure/arm-machinelearning', () => {
  let azurite: Azurite;
  let aml: AzureMlEmulator;
  let client: AzureMachineLearningWorkspaces;
  let rg: string;
  let ws: string;
  let codeUri: string;
  let modelUri: string;
  let keys: { primaryKey?: string; secondaryKey?: string };
  let scoringUri: string;

  const id = (path: string) => `/subscriptions/${aml.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}/${path}`;

  const https = (url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: options.method ?? 'GET', headers: options.headers, ca: aml.caPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown = text;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode!, headers: res.headers, json });
        });
      });
      req.on('error', reject);
      req.end(options.body);
    });

  /** A raw ARM call, for what the SDK would never send. */
  const arm = (method: string, path: string, body?: unknown, opts: { token?: string | null; apiVersion?: string | null; rawBody?: string } = {}) => {
    const apiVersion = opts.apiVersion === undefined ? '2022-10-01' : opts.apiVersion;
    const token = opts.token === undefined ? aml.token : opts.token;
    return https(`${aml.armEndpoint}${id(path)}${apiVersion ? `?api-version=${apiVersion}` : ''}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      ...(opts.rawBody !== undefined ? { body: opts.rawBody } : body !== undefined && { body: JSON.stringify(body) }),
    });
  };

  const score = (body: unknown, headers: Record<string, string> = {}, key = keys.primaryKey) =>
    https(scoringUri, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }), ...headers },
      body: JSON.stringify(body),
    });

  const deploymentBody = (label: string, extra: Partial<OnlineDeployment['properties']> = {}, capacity = 1): OnlineDeployment => ({
    location: aml.location,
    sku: { name: 'Default', capacity },
    properties: {
      endpointComputeType: 'Managed',
      instanceType: 'Standard_DS3_v2',
      model: id('models/echo/versions/1'),
      codeConfiguration: { codeId: id('codes/echo-code/versions/1'), scoringScript: 'score.py' },
      environmentId: id('environments/echo-env/versions/1'),
      environmentVariables: { ECHO_LABEL: label },
      ...extra,
    },
  });

  const setTraffic = async (traffic: Record<string, number>) => {
    const current = await client.onlineEndpoints.get(rg, ws, ENDPOINT);
    const body: OnlineEndpoint = { location: current.location, properties: { ...current.properties, traffic } };
    return client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, ENDPOINT, body, poll);
  };

  const requestsFor = (method: string, suffix: string) => aml.state.requests.filter((r) => r.method === method && r.path.endsWith(suffix));

  beforeAll(async () => {
    azurite = await startAzurite();
    const azmlinfsrv = process.env.MLC_AZMLINFSRV ?? join(repoRoot, '.venv-serving/bin/azmlinfsrv');
    if (!existsSync(azmlinfsrv))
      throw new Error(`The Azure ML inference server is not at ${azmlinfsrv}: create .venv-serving (scripts/setup.sh) or set MLC_AZMLINFSRV.`);
    aml = await startAzureMlEmulator({ azurite, opDurationMs: [300, 600], seed: 7 });
    rg = aml.resourceGroup;
    ws = aml.workspace;
    client = new AzureMachineLearningWorkspaces(aml.credential, aml.subscriptionId, { endpoint: aml.armEndpoint, tlsOptions: { ca: aml.caPem } });

    // The fixture uploaded to the default datastore, as the CLI uploads code and models.
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(aml.datastore.containerName);
    for (const file of ['code/score.py', 'model/model.txt']) {
      const content = await readFile(join(fixture, file));
      await container.getBlockBlobClient(`LocalUpload/0123abcd/${file}`).uploadData(content);
    }
    codeUri = `${aml.datastore.containerUrl}/LocalUpload/0123abcd/code`;
    modelUri = `azureml://datastores/workspaceblobstore/paths/LocalUpload/0123abcd/model`;
  });

  afterAll(async () => {
    await aml?.stop();
    await azurite?.stop();
  });

  it('answers the workspace and its default blob datastore, whose key is the storage key', async () => {
    const workspace = await client.workspaces.get(rg, ws);
    expect(workspace.name).toBe(ws);
    const store = await client.datastores.get(rg, ws, 'workspaceblobstore');
    expect(store.properties).toMatchObject({
      datastoreType: 'AzureBlob',
      containerName: aml.datastore.containerName,
      accountName: 'devstoreaccount1',
      isDefault: true,
    });
    expect(await client.datastores.listSecrets(rg, ws, 'workspaceblobstore')).toEqual({ secretsType: 'AccountKey', key: DEV_KEY });
  });

  it('refuses a missing or wrong bearer token with 401 AuthenticationFailed', async () => {
    const stranger = new AzureMachineLearningWorkspaces(fixedCredential('not-the-token'), aml.subscriptionId, {
      endpoint: aml.armEndpoint,
      tlsOptions: { ca: aml.caPem },
    });
    expect(await failure(stranger.workspaces.get(rg, ws))).toMatchObject({ status: 401, code: 'AuthenticationFailed' });
    const bare = await arm('GET', '', undefined, { token: null });
    expect(bare.status).toBe(401);
    expect(bare.json.error).toMatchObject({ code: 'AuthenticationFailed', message: expect.stringContaining("'Authorization' header is missing") });
  });

  it('registers code, environment and model versions; a version cannot change its files', async () => {
    await client.codeVersions.createOrUpdate(rg, ws, 'echo-code', '1', { properties: { codeUri } });
    await client.environmentVersions.createOrUpdate(rg, ws, 'echo-env', '1', {
      properties: { image: 'mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest' },
    });
    const model = await client.modelVersions.createOrUpdate(rg, ws, 'echo', '1', { properties: { modelUri, modelType: 'custom_model' } });
    expect(model.id).toBe(id('models/echo/versions/1'));
    expect((await client.codeVersions.get(rg, ws, 'echo-code', '1')).properties.codeUri).toBe(codeUri);
    expect((await client.codeContainers.get(rg, ws, 'echo-code')).properties.latestVersion).toBe('1');
    // Same content again: fine (idempotent). Other files under the same version: refused.
    await client.codeVersions.createOrUpdate(rg, ws, 'echo-code', '1', { properties: { codeUri, description: 'again' } });
    expect(await failure(client.codeVersions.createOrUpdate(rg, ws, 'echo-code', '1', { properties: { codeUri: `${codeUri}-other` } }))).toMatchObject({
      status: 400,
      code: 'UserError',
      message: expect.stringContaining('without increasing the version'),
    });
  });

  it('creates an endpoint by a long-running PUT (201, Azure-AsyncOperation, polls, final GET) and lists its keys', async () => {
    const created = await client.onlineEndpoints.beginCreateOrUpdateAndWait(
      rg,
      ws,
      ENDPOINT,
      { location: aml.location, properties: { authMode: 'Key' } },
      poll,
    );
    expect(created.properties.provisioningState).toBe('Succeeded');
    expect(created.properties.scoringUri).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/score$/);
    scoringUri = created.properties.scoringUri!;
    const puts = requestsFor('PUT', `/onlineEndpoints/${ENDPOINT}`);
    expect(puts.map((r) => r.status)).toEqual([201]);
    const polls = aml.state.requests.filter((r) => r.operation === 'mfeOperationsStatus');
    expect(polls.length).toBeGreaterThan(0);
    expect(requestsFor('GET', `/onlineEndpoints/${ENDPOINT}`).length).toBeGreaterThan(0);
    keys = await client.onlineEndpoints.listKeys(rg, ws, ENDPOINT);
    expect(keys.primaryKey).toBeTruthy();
    expect(keys.secondaryKey).toBeTruthy();
    const listed: string[] = [];
    for await (const e of client.onlineEndpoints.list(rg, ws)) listed.push(e.name!);
    expect(listed).toEqual([ENDPOINT]);
    // PATCH (tags): 202 with a Location too; the SDK reads the result there.
    const patched = await client.onlineEndpoints.beginUpdateAndWait(rg, ws, ENDPOINT, { tags: { team: 'ml' } }, poll);
    expect(patched.tags).toEqual({ team: 'ml' });
    expect(requestsFor('PATCH', `/onlineEndpoints/${ENDPOINT}`).map((r) => r.status)).toEqual([202]);
    expect(aml.state.requests.filter((r) => r.operation === 'mfeOperationResults').map((r) => r.status)).toEqual([200]);
  });

  it('creates a deployment that runs the real inference server on the downloaded code and model', async () => {
    const blue = await client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, ENDPOINT, 'blue', deploymentBody('blue'), poll);
    expect(blue.properties).toMatchObject({ provisioningState: 'Succeeded', endpointComputeType: 'Managed', instanceType: 'Standard_DS3_v2' });
    const server = await client.onlineDeployments.getLogs(rg, ws, ENDPOINT, 'blue', { containerType: 'InferenceServer', tail: 200 });
    expect(server.content).toContain('echo model loaded: echo-model-v1');
    const storage = await client.onlineDeployments.getLogs(rg, ws, ENDPOINT, 'blue', { containerType: 'StorageInitializer' });
    expect(storage.content).toContain('LocalUpload/0123abcd/model/model.txt');
    const names: string[] = [];
    for await (const d of client.onlineDeployments.list(rg, ws, ENDPOINT)) names.push(d.name!);
    expect(names).toEqual(['blue']);
  });

  it('scores through the scoringUri: key required, routed by traffic or by the deployment header, request id passed through', async () => {
    expect((await score({ x: 1 })).status).toBe(404); // no traffic yet, no header
    await setTraffic({ blue: 100 });
    const ok = await score({ x: 1 });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ input: { x: 1 }, model: 'echo-model-v1', label: 'blue' });
    expect(ok.headers['azureml-model-deployment']).toBe('blue');
    expect(ok.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const mine = await score({ x: 2 }, { 'x-ms-request-id': 'my-request-1', 'azureml-model-deployment': 'blue' });
    expect(mine.status).toBe(200);
    expect(mine.headers['x-ms-request-id']).toBe('my-request-1');
    expect((await score({ x: 3 }, { 'azureml-model-deployment': 'nope' })).status).toBe(404);
    expect((await score({ x: 4 }, {}, 'wrong-key')).status).toBe(401);
    expect((await score({ x: 5 }, {}, keys.secondaryKey)).status).toBe(200);
    const modelError = await score({ fail: true });
    expect(modelError.status).toBe(424);
    expect(modelError.headers['ms-azureml-model-error-statuscode']).toBe('500');
  });

  it('refuses traffic that does not add up to 100 or names a deployment the endpoint lacks', async () => {
    expect(await failure(setTraffic({ blue: 60 }))).toMatchObject({ status: 400, code: 'UserError', message: expect.stringContaining('add up to 100') });
    expect(await failure(setTraffic({ blue: 50, ghost: 50 }))).toMatchObject({ status: 400, code: 'UserError', message: expect.stringContaining('ghost') });
  });

  it('resumes a deployment create from serialized poller state: one PUT, polled to the end by a second poller', async () => {
    aml.faults.slowNextOperations(1500);
    const first = await client.onlineDeployments.beginCreateOrUpdate(rg, ws, ENDPOINT, 'green', deploymentBody('green'), poll);
    const saved = first.toString();
    first.stopPolling();
    expect(JSON.parse(saved).state.config.operationLocation).toContain('/mfeOperationsStatus/');
    // A new client, as a retried activity in a fresh worker would have.
    const again = new AzureMachineLearningWorkspaces(aml.credential, aml.subscriptionId, { endpoint: aml.armEndpoint, tlsOptions: { ca: aml.caPem } });
    const resumed = await again.onlineDeployments.beginCreateOrUpdate(rg, ws, ENDPOINT, 'green', deploymentBody('green'), { resumeFrom: saved, ...poll });
    const green = await resumed.pollUntilDone();
    expect(green.properties.provisioningState).toBe('Succeeded');
    expect(requestsFor('PUT', `/onlineEndpoints/${ENDPOINT}/deployments/green`)).toHaveLength(1);
  });

  it('splits traffic between deployments by weight', async () => {
    await setTraffic({ blue: 50, green: 50 });
    const labels = new Set<string>();
    for (let i = 0; i < 20; i++) labels.add((await score({ i })).json.label);
    expect(labels).toEqual(new Set(['blue', 'green']));
  });

  it('refuses bodies that do not fit the SDK models, naming the JSON path', async () => {
    const put = (body: unknown) => arm('PUT', 'onlineEndpoints/raw-endpoint', body);
    const refused = async (body: unknown, text: string) => {
      const r = await put(body);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('UserError');
      expect(r.json.error.message).toContain(text);
    };
    await refused({ location: aml.location, properties: { authMode: 'Key', bogus: 1 } }, 'properties.bogus: unknown property');
    await refused({ properties: { authMode: 'Key' } }, 'location: required property missing');
    await refused({ location: aml.location, properties: {} }, 'properties.authMode: required property missing');
    await refused({ location: aml.location, properties: { authMode: 'Key', traffic: { blue: '100' } } }, 'properties.traffic.blue: expected a number');
    await refused({ location: aml.location, properties: { authMode: 'Password' } }, 'properties.authMode: "Password" is not one of AMLToken, Key, AADToken');
    await refused({ location: aml.location, properties: { authMode: 'Key', provisioningState: 'Succeeded' } }, 'properties.provisioningState: is read-only');
    const badDeployment = await arm('PUT', `onlineEndpoints/${ENDPOINT}/deployments/raw`, {
      location: aml.location,
      properties: { endpointComputeType: 'Serverless' },
    });
    expect(badDeployment.json.error.message).toContain('properties.endpointComputeType: the string "Serverless" is not one of Kubernetes, Managed');
    const badProbe = await arm('PUT', `onlineEndpoints/${ENDPOINT}/deployments/raw`, {
      location: aml.location,
      properties: { endpointComputeType: 'Managed', requestSettings: { requestTimeout: '5s' } },
    });
    expect(badProbe.json.error.message).toContain('properties.requestSettings.requestTimeout: expected an ISO 8601 duration');
    expect((await arm('GET', `onlineEndpoints/${ENDPOINT}`, undefined, { apiVersion: null })).json.error.code).toBe('MissingApiVersionParameter');
    expect((await arm('GET', `onlineEndpoints/${ENDPOINT}`, undefined, { apiVersion: '2023-04-01' })).json.error.code).toBe('NoRegisteredProviderFound');
    expect((await arm('PUT', 'onlineEndpoints/raw-endpoint', undefined, { rawBody: '{not json' })).json.error.code).toBe('InvalidRequestContent');
    expect(aml.state.endpoints.has('raw-endpoint')).toBe(false);
  });

  it('fails a deployment with OutOfQuota when asked to (injected) and when the cores do not fit (real)', async () => {
    aml.faults.outOfQuotaOnNextDeployment();
    const injected = await failure(client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, ENDPOINT, 'quota-a', deploymentBody('quota'), poll));
    expect(injected.message).toMatch(/OutOfQuota\. Not enough quota available for Standard_DS3_v2 .*Additional needed: 8/);
    expect((await client.onlineDeployments.get(rg, ws, ENDPOINT, 'quota-a')).properties.provisioningState).toBe('Failed');
    const real = await failure(client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, ENDPOINT, 'quota-b', deploymentBody('quota', {}, 30), poll));
    expect(real.message).toMatch(/OutOfQuota.*Additional needed: 144/);
    for (const d of ['quota-a', 'quota-b']) await client.onlineDeployments.beginDeleteAndWait(rg, ws, ENDPOINT, d, poll);
  });

  it('fails a deployment whose container crashes with ResourceNotReady, its traceback in getLogs', async () => {
    aml.faults.crashNextDeployment();
    const crashed = await failure(client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, ENDPOINT, 'crashy', deploymentBody('crashy'), poll));
    expect(crashed.message).toMatch(/ResourceNotReady\. User container has crashed or terminated/);
    const logs = await client.onlineDeployments.getLogs(rg, ws, ENDPOINT, 'crashy', { tail: 100 });
    expect(logs.content).toContain('injected fault: the scoring container crashed in init()');
    expect(logs.content).toContain('Worker failed to boot');
    await client.onlineDeployments.beginDeleteAndWait(rg, ws, ENDPOINT, 'crashy', poll);
  });

  it('answers 409 Conflict to an endpoint change while one of its operations runs', async () => {
    aml.faults.slowNextOperations(2000);
    const running = await client.onlineDeployments.beginUpdate(rg, ws, ENDPOINT, 'green', { tags: { step: 'slow' } }, poll);
    expect(await failure(setTraffic({ blue: 100, green: 0 }))).toMatchObject({
      status: 409,
      code: 'Conflict',
      message: expect.stringContaining('an operation is in progress on this endpoint'),
    });
    expect(await failure(client.onlineEndpoints.beginDeleteAndWait(rg, ws, ENDPOINT, poll))).toMatchObject({ status: 409, code: 'Conflict' });
    const updated = await running.pollUntilDone();
    expect(updated.tags).toEqual({ step: 'slow' });
  });

  it('throttles with 429 and Retry-After: the SDK retries a few, then gives up with the 429', async () => {
    const before = aml.state.requests.length;
    aml.faults.throttleNextRequests(2, 1);
    await client.onlineEndpoints.get(rg, ws, ENDPOINT);
    expect(aml.state.requests.slice(before).map((r) => r.status)).toEqual([429, 429, 200]);
    aml.faults.throttleNextRequests(10, 0);
    expect(await failure(client.onlineEndpoints.get(rg, ws, ENDPOINT))).toMatchObject({ status: 429, code: 'TooManyRequests' });
    aml.faults.clear();
  });

  it('shows a traffic change in GET only after a delay, while routing by it at once', async () => {
    aml.faults.delayNextTrafficVisibility(2500);
    const done = await setTraffic({ blue: 0, green: 100 });
    expect(done.properties.traffic).toEqual({ blue: 50, green: 50 });
    expect((await score({ n: 1 })).json.label).toBe('green');
    await new Promise((r) => setTimeout(r, 2600));
    expect((await client.onlineEndpoints.get(rg, ws, ENDPOINT)).properties.traffic).toEqual({ blue: 0, green: 100 });
  });

  it('makes a deployment answer 500s on demand (a failing rollout step)', async () => {
    aml.faults.failScoring(ENDPOINT, 'green');
    expect((await score({ n: 2 })).status).toBe(500);
    expect((await score({ n: 3 }, { 'azureml-model-deployment': 'blue' })).status).toBe(200);
    aml.faults.restoreScoring(ENDPOINT, 'green');
    expect((await score({ n: 4 })).status).toBe(200);
  });

  it('deletes deployments (not while they have traffic) and the endpoint, stopping their servers', async () => {
    const pids = ['blue', 'green'].map((d) => aml.state.deployments.get(`${ENDPOINT}/${d}`)!.runtime!.server.pid);
    expect(await failure(client.onlineDeployments.beginDeleteAndWait(rg, ws, ENDPOINT, 'green', poll))).toMatchObject({
      status: 400,
      code: 'UserError',
      message: expect.stringContaining('set its traffic to 0'),
    });
    await client.onlineDeployments.beginDeleteAndWait(rg, ws, ENDPOINT, 'blue', poll);
    expect(alive(pids[0]!)).toBe(false);
    expect(await failure(client.onlineDeployments.get(rg, ws, ENDPOINT, 'blue'))).toMatchObject({ status: 404 });
    await client.onlineEndpoints.beginDeleteAndWait(rg, ws, ENDPOINT, poll);
    expect(alive(pids[1]!)).toBe(false);
    expect(await failure(client.onlineEndpoints.get(rg, ws, ENDPOINT))).toMatchObject({ status: 404, code: 'ResourceNotFound' });
    await expect(score({ gone: true })).rejects.toThrow();
    // Deleting what is gone is not an error (204).
    await client.onlineEndpoints.beginDeleteAndWait(rg, ws, ENDPOINT, poll);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
