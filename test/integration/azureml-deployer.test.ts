// The Azure ML adapter (adapters/azureml) against the emulated stack: what a deployer sees
// when Azure succeeds, and when it fails the ways Azure fails — each surfacing as a named
// error that says the fix, with permanence decided by the error class.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceClients } from '../../adapters/azureml/client';
import { AzureMlDeployer, type RegisteredAssets } from '../../adapters/azureml/deployer';
import {
  AzureAuthError,
  AzureConfigError,
  AzureConflictError,
  AzureDeploymentCrashedError,
  AzureQuotaError,
  AzureThrottledError,
} from '../../adapters/azureml/errors';
import { buildDeployablePackage, type DeployablePackage } from '../../adapters/azureml/package';
import { EMULATED_BLOB_ENV, EMULATED_WORKSPACE, startEmulatedAzure, type EmulatedAzure } from '../../infra/azure-emulated/stack';
import { deploymentsToPrune } from '../../domain/rollout';
import { loadConfig, type WorkspaceConfig } from '../../temporal.config';
import { tinyModel } from './helpers/tiny-model';

let azure: EmulatedAzure;
let workspace: WorkspaceConfig;
let deployer: AzureMlDeployer;
let pkg: DeployablePackage;
let assets: RegisteredAssets;
const MODEL = 'deployer-test';
const ENDPOINT = 'deployer-test-ep';
const sha = 'a'.repeat(64);
const tags = { model: MODEL, version: '1', sha256: sha };

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

const request = (deployment: string) => ({
  endpoint: ENDPOINT,
  deployment,
  assets,
  instanceType: 'Standard_DS3_v2',
  instanceCount: 1,
  environmentVariables: {},
  tags,
});

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-deployer-'));
  azure = await startEmulatedAzure(dir, { opDurationMs: 200, retryAfterSeconds: 0 });
  process.env[EMULATED_BLOB_ENV] = azure.env[EMULATED_BLOB_ENV];
  workspace = loadConfig({ ...process.env, ...azure.env }).workspaces[EMULATED_WORKSPACE]!;
  deployer = new AzureMlDeployer(workspaceClients(workspace));
  pkg = await buildDeployablePackage((await tinyModel()).dir, { model: MODEL, version: 1 });
});

afterAll(async () => {
  await azure?.stop();
  delete process.env[EMULATED_BLOB_ENV];
});

describe('AzureMlDeployer on the emulated workspace', () => {
  it('uploads write-once and registers assets idempotently; an existing model version with other bytes is refused', async () => {
    const codeUri = await deployer.upload(`azureml/${MODEL}/v1/code`, pkg.code);
    const modelUri = await deployer.upload(`azureml/${MODEL}/v1/model`, pkg.model);
    // A rerun after a crash finds the same bytes and goes on.
    expect(await deployer.upload(`azureml/${MODEL}/v1/model`, pkg.model)).toBe(modelUri);
    const container = await deployer.clients.datastore();
    const onnx = await container.getBlobClient(`azureml/${MODEL}/v1/model/model.onnx`).getProperties();
    expect(onnx.metadata?.sha256).toBe(
      createHash('sha256')
        .update(pkg.model.find((f) => f.name === 'model.onnx')!.bytes)
        .digest('hex'),
    );

    const register = () =>
      deployer.registerAssets({
        model: MODEL,
        version: 1,
        packageSha256: pkg.sha256,
        codeUri,
        modelUri,
        condaFile: pkg.condaFile,
        condaSha256: 'c'.repeat(64),
        tags,
      });
    assets = await register();
    expect(await register()).toEqual(assets);
    expect(assets.modelId).toMatch(new RegExp(`/models/${MODEL}/versions/1$`));

    const other = await failure(
      deployer.registerAssets({
        model: MODEL,
        version: 1,
        packageSha256: pkg.sha256,
        codeUri,
        modelUri,
        condaFile: pkg.condaFile,
        condaSha256: 'c'.repeat(64),
        tags: { ...tags, sha256: 'b'.repeat(64) },
      }),
    );
    expect(other).toBeInstanceOf(AzureConfigError);
    expect(other.message).toMatch(/already exists .* immutable/);
  });

  it('creates the endpoint and a deployment that serves; traffic is set by a full PUT and awaited until Azure shows it', async () => {
    await deployer.ensureEndpoint(ENDPOINT, tags);
    await deployer.createDeployment(request('version-1'));
    expect((await deployer.score(ENDPOINT, ['ร้านนี้อร่อยมาก'], 'version-1')).ok).toBe(true);
    azure.emulator.faults.delayNextTrafficVisibility(1500);
    const started = Date.now();
    await deployer.setTraffic(ENDPOINT, { 'version-1': 100 }, { pollIntervalMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(await deployer.traffic(ENDPOINT)).toEqual({ 'version-1': 100 });
    const routed = await deployer.score(ENDPOINT, ['ส่งของช้ามาก']);
    expect(routed).toMatchObject({ ok: true, deployment: 'version-1' });
    expect(azure.emulator.state.requests.filter((r) => r.operation === 'OnlineEndpoints.update')).toEqual([]);
  });

  it('resumes a deployment from the poller state a dead worker heartbeated: one PUT, not two', async () => {
    const states: string[] = [];
    const first = deployer.createDeployment(request('version-2'), { onState: (s) => states.push(s) });
    for (let i = 0; i < 100 && !states.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(states[0]).toMatch(/^\{/);
    // A second worker, with nothing but the heartbeat, finishes the same operation.
    const other = new AzureMlDeployer(workspaceClients(workspace));
    await other.createDeployment(request('version-2'), { resumeFrom: states[0] });
    await first;
    const puts = azure.emulator.state.requests.filter((r) => r.method === 'PUT' && r.path.toLowerCase().endsWith('/deployments/version-2'));
    expect(puts).toHaveLength(1);
    expect((await deployer.getDeployment(ENDPOINT, 'version-2'))?.properties.provisioningState).toBe('Succeeded');
  });

  it('names quota, a crashing container and its log, a conflict, throttling and bad credentials', async () => {
    azure.emulator.faults.outOfQuotaOnNextDeployment();
    const quota = await failure(deployer.createDeployment(request('version-3')));
    expect(quota).toBeInstanceOf(AzureQuotaError);
    expect(quota).toMatchObject({ nonRetryable: true });
    expect(quota.message).toMatch(/no quota for 1 × Standard_DS3_v2/);

    azure.emulator.faults.crashNextDeployment();
    const crash = await failure(deployer.createDeployment(request('version-4')));
    expect(crash).toBeInstanceOf(AzureDeploymentCrashedError);
    expect((crash as AzureDeploymentCrashedError).logTail).toMatch(/Traceback|Error/);
    expect(crash.message).toMatch(/did not become ready.*Last lines of its container log/s);

    azure.emulator.faults.slowNextOperations(2000);
    const slow = deployer.setTraffic(ENDPOINT, { 'version-1': 50, 'version-2': 50 }, { pollIntervalMs: 100 });
    await new Promise((r) => setTimeout(r, 300));
    const conflict = await failure(deployer.setTraffic(ENDPOINT, { 'version-1': 100 }));
    expect(conflict).toBeInstanceOf(AzureConflictError);
    expect((conflict as AzureConflictError).nonRetryable).toBe(false);
    await slow;

    azure.emulator.faults.throttleNextRequests(20, 1);
    const throttled = await failure(deployer.traffic(ENDPOINT));
    expect(throttled).toBeInstanceOf(AzureThrottledError);
    expect((throttled as AzureThrottledError).retryAfterMs).toBe(1000);
    azure.emulator.faults.clear();

    const wrongToken = path.join(path.dirname(azure.configFile), 'wrong-token');
    await writeFile(wrongToken, 'not-the-token');
    const stranger = new AzureMlDeployer(workspaceClients({ ...workspace, credential: { kind: 'token-file', path: wrongToken } }));
    const auth = await failure(stranger.traffic(ENDPOINT));
    expect(auth).toBeInstanceOf(AzureAuthError);
    expect(auth.message).toMatch(/401.*DefaultAzureCredential/s);
    const noFile = new AzureMlDeployer(workspaceClients({ ...workspace, credential: { kind: 'token-file', path: '/nonexistent/token' } }));
    expect((await failure(noFile.traffic(ENDPOINT))).message).toMatch(/token file, \/nonexistent\/token, which cannot be read/);
  });

  it('prunes: idle deployments beyond keep are deleted (failed ones too), the live one never', async () => {
    await deployer.setTraffic(ENDPOINT, { 'version-1': 100 }, { pollIntervalMs: 100 });
    const before = await deployer.listDeployments(ENDPOINT);
    expect(before).toEqual(expect.arrayContaining(['version-1', 'version-2', 'version-3', 'version-4']));
    const doomed = deploymentsToPrune(before, await deployer.traffic(ENDPOINT), 2);
    expect(doomed).toEqual(['version-3', 'version-2']);
    for (const name of doomed) await deployer.deleteDeployment(ENDPOINT, name);
    expect((await deployer.listDeployments(ENDPOINT)).sort()).toEqual(['version-1', 'version-4']);
    expect((await deployer.score(ENDPOINT, ['ยังใช้ได้อยู่'])).deployment).toBe('version-1');
  });
});
