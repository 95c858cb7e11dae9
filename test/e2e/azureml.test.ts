// A lifecycle deployed to Azure ML, on the emulated Azure stack: Azurite for Blob, the Azure
// ML contract server for the control plane, and the real azmlinfsrv running the packaged
// score.py on the real ONNX model. v1 goes live and serves; monitoring reads its request log
// from Blob and asks for a retrain; v2's rollout fails at 50% and traffic goes back to v1;
// the next deploy request rolls v2 out 10 → 50 → 100; then a rollback puts v1 back.
import type { Client, Connection } from '@temporalio/client';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpec } from '../../domain/spec';
import { lifecycleWorkflowId, monitoringScheduleId, undeployWorkflowId } from '../../domain/temporal-names';
import { EMULATED_BLOB_ENV, EMULATED_WORKSPACE, startEmulatedAzure, type EmulatedAzure } from '../../infra/azure-emulated/stack';
import { loadConfig, repoRoot, taskQueues, type MlcConfig } from '../../temporal.config';
import { startRuntime } from '../../workers/runtime';
import { auditDecisionUpdate, deployRequestUpdate, rollbackRequestUpdate, stopRequestUpdate } from '../../workflows/messages';
import { connectToFreshNamespace, waitForStage, waitForStatus } from './temporal-helpers';

const namespace = `mlc-e2e-az-${Date.now().toString(36)}`;
let dataDir: string;
let azure: EmulatedAzure;
let config: MlcConfig;
let client: Client;
let connection: Connection;

/** Live in that generation; a deployment that failed instead says why at once. */
const live = (id: string, generation: number) =>
  waitForStatus(
    client,
    id,
    (s) => s.stage === 'monitoring' && s.generation === generation,
    `went live in generation ${generation}`,
    600_000,
    (s) => (s.stage === 'awaiting_deploy' && s.lastDecision?.outcome === 'failed' ? s.lastDecision.reason : null),
  );

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlc-e2e-azure-'));
  ({ client, connection } = await connectToFreshNamespace(namespace));
  azure = await startEmulatedAzure(path.join(dataDir, 'azure'), { opDurationMs: 300, retryAfterSeconds: 0 });
  // The worker reads the emulator's storage key from its environment, as it would a real one.
  process.env[EMULATED_BLOB_ENV] = azure.env[EMULATED_BLOB_ENV];
  config = loadConfig({
    ...process.env,
    ...azure.env,
    MLC_DATA_DIR: dataDir,
    MLC_DATA_ROOTS: dataDir, // the spec's data is written here
    TEMPORAL_NAMESPACE: namespace,
    MLC_ENDPOINT_PORT: String(20_000 + Math.floor(Math.random() * 2000)),
    DATABASE_URL: '',
  });
});

afterAll(async () => {
  await azure?.stop();
  await connection?.close();
  delete process.env[EMULATED_BLOB_ENV];
});

describe('a lifecycle deployed to Azure ML (emulated)', () => {
  it('serves v1 through azmlinfsrv, monitors from the Blob request log, rolls v2 out step by step after a failed step was rolled back, then rolls back to v1', async () => {
    const model = `e2e-az-${Date.now().toString(36)}`;
    const endpoint = model;
    const lines = (await fs.readFile(path.join(repoRoot, 'data/wisesight-sample/train.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const dataFile = path.join(dataDir, 'input.jsonl');
    await fs.writeFile(dataFile, lines.slice(0, 600).join('\n') + '\n');
    const spec = parseSpec({
      name: model,
      labels: ['neg', 'neu', 'pos', 'q'],
      data: { path: dataFile, testFraction: 0.2 },
      training: {
        cluster: 'local-process',
        params: { epochs: 1, maxLength: 32, vocabSize: 600, hiddenSize: 32, intermediateSize: 64, lstmHidden: 16, numLayers: 1, numWorkers: 0 },
      },
      // Thresholds this tiny model cannot meet, so the monitor must call for a retrain at its first window.
      monitoring: { every: '1h', minPredictions: 30, minFeedback: 30, psiThreshold: 0.1, minFeedbackAccuracy: 0.99, consecutive: 1 },
      roles: { auditors: ['alice'], deployers: ['bob'] },
      deployment: { target: 'azureml', workspace: EMULATED_WORKSPACE, endpoint, rollout: [10, 50, 100], maxLatencyMs: 5000, keep: 2 },
    });
    const runtime = await startRuntime(config);
    const id = lifecycleWorkflowId(model);
    const deployer = runtime.deps.azureMl(EMULATED_WORKSPACE);
    const registry = runtime.deps.registry;
    await runtime.runUntil(async () => {
      const handle = await client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId: id, args: [{ spec, specDir: dataDir }] });
      const v1 = await waitForStage(client, id, 'awaiting_audit');
      await handle.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'v1 ok' }] });
      await handle.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'first release' }] });
      await live(id, 1);

      // v1 is live on the endpoint and answers through the real inference server.
      expect(await deployer.traffic(endpoint)).toEqual({ 'version-1': 100 });
      const deployment = await deployer.getDeployment(endpoint, 'version-1');
      expect(deployment?.tags).toMatchObject({ model, version: String(v1.version) });
      expect(await registry.activeDeployment(model)).toMatchObject({
        version: v1.version,
        target: `azureml:${EMULATED_WORKSPACE}/${endpoint}`,
        artifactSha256: v1.artifactSha256,
      });
      const feedback = (await fs.readFile(path.join(repoRoot, 'data/wisesight-sample/feedback.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .slice(0, 40)
        .map((l) => JSON.parse(l) as { text: string; label: string });
      for (let i = 0; i < feedback.length; i += 10) {
        const scored = await deployer.score(
          endpoint,
          feedback.slice(i, i + 10).map((f) => f.text),
        );
        expect(scored, scored.error).toMatchObject({ ok: true, status: 200, deployment: 'version-1' });
        expect(scored.body).toMatchObject({ model, version: v1.version });
      }
      // score.py appends each prediction to the request log in Blob (flushed within a second or so).
      const since = new Date(Date.now() - 3_600_000);
      let logged = await deployer.requestLog(model, since);
      for (let i = 0; i < 60 && logged.length < feedback.length; i++) {
        await new Promise((r) => setTimeout(r, 500));
        logged = await deployer.requestLog(model, since);
      }
      expect(logged).toHaveLength(feedback.length);
      expect(new Set(logged.map((p) => p.requestId)).size).toBe(feedback.length / 10);
      await registry.addFeedback(feedback.map((f) => ({ model, text: f.text, label: f.label, source: 'e2e' })));

      // Monitoring judges v1 on what the Blob log says, and calls for a retrain.
      const schedule = client.schedule.getHandle(monitoringScheduleId(model));
      await schedule.trigger();
      const v2 = await waitForStage(client, id, 'awaiting_audit', 2);
      const report = await registry.latestMonitoringReport(model);
      expect(report).toMatchObject({ degraded: true, version: v1.version });
      expect(report!.report).toMatchObject({ predictions: feedback.length, feedback: feedback.length });

      // v2's rollout: healthy at 0% and 10%, failing once it takes half the traffic.
      await handle.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'retrained on feedback' }] });
      azure.emulator.faults.failScoringFromShare(endpoint, 'version-2', 50);
      await handle.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 2' }] });
      const failed = await waitForStatus(
        client,
        id,
        (s) => s.stage === 'awaiting_deploy' && s.lastDecision?.outcome === 'failed',
        'reported the failed rollout',
      );
      expect(failed.lastDecision!.reason).toMatch(/rollout step 50% failed/);
      expect(await deployer.traffic(endpoint)).toEqual({ 'version-1': 100 }); // the map from before the rollout, as it was
      expect((await registry.activeDeployment(model))?.version).toBe(v1.version);

      azure.emulator.faults.restoreScoring(endpoint, 'version-2');
      await handle.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 2, second try' }] });
      const live2 = await live(id, 2);
      expect(live2.deployedVersion).toBe(v2.version);
      expect(await deployer.traffic(endpoint)).toEqual({ 'version-1': 0, 'version-2': 100 });
      expect((await deployer.score(endpoint, ['ร้านนี้อร่อยมาก'])).deployment).toBe('version-2');
      // Every traffic change was a full PUT of the endpoint (create, v1, 10/50/restore, 10/50/100), never a PATCH.
      const endpointCalls = azure.emulator.state.requests.filter((r) => r.operation?.startsWith('OnlineEndpoints.'));
      expect(endpointCalls.filter((r) => r.operation === 'OnlineEndpoints.createOrUpdate' && r.status < 300).length).toBeGreaterThanOrEqual(8);
      expect(endpointCalls.filter((r) => r.operation === 'OnlineEndpoints.update')).toEqual([]);

      // Roll back to v1: its deployment takes the traffic again, its sha256 checked again.
      expect(
        (await handle.executeUpdate(rollbackRequestUpdate, { args: [{ actor: 'bob', version: v1.version!, reason: 'v2 misroutes questions' }] })).accepted,
      ).toBe(true);
      const back = await waitForStatus(client, id, (s) => s.deployedVersion === v1.version && s.stage === 'monitoring', 'rolled back to v1');
      expect(await deployer.traffic(endpoint)).toEqual({ 'version-1': 100, 'version-2': 0 });
      expect((await deployer.score(endpoint, ['ส่งของช้ามาก'])).deployment).toBe('version-1');
      expect(await registry.activeDeployment(model)).toMatchObject({ version: v1.version, artifactSha256: v1.artifactSha256 });
      expect(back.decisions.map((d) => `${d.kind}:${d.outcome}`)).toEqual([
        'audit:approved',
        'deploy:approved',
        'retrain:requested',
        'audit:approved',
        'deploy:failed',
        'deploy:approved',
        'rollback:approved',
      ]);

      // Stopped, the lifecycle leaves v1 serving; mlc undeploy's own workflow then retires it, as
      // the registry names the deployment (azureml:<workspace>/<endpoint>): traffic to 0 first
      // (Azure refuses to delete a deployment with traffic), then both deployments deleted; the
      // registry serves nothing and champion is gone.
      expect(await handle.executeUpdate(stopRequestUpdate, { args: [{ actor: 'bob', reason: 'the product is retired' }] })).toEqual({ accepted: true });
      expect(await handle.result()).toMatchObject({ stage: 'stopped', deployedVersion: v1.version });
      const undeployId = undeployWorkflowId(model, 'e2e');
      const undeployed = await client.workflow.execute('undeployModel', {
        taskQueue: taskQueues.control,
        workflowId: undeployId,
        args: [{ model, request: { actor: 'bob', reason: 'the product is retired' } }],
      });
      expect(undeployed).toEqual({ outcome: 'approved', version: v1.version });
      expect((await registry.listDecisions(model)).at(-1)).toMatchObject({ kind: 'undeploy', outcome: 'approved', actor: 'bob', workflowId: undeployId });
      expect(await deployer.listDeployments(endpoint)).toEqual([]);
      expect(await deployer.traffic(endpoint)).toEqual({});
      expect(await registry.activeDeployment(model)).toBeNull();
      expect((await registry.listModelAliases(model)).map((a) => a.alias)).not.toContain('champion');
      await schedule.delete();
    });
  });
});
