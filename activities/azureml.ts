// deploy to Azure ML: the steps a blue/green release of one audited version takes on a
// managed online endpoint. The workflow (workflows/deployment.ts) calls them in order and
// decides; each step here is idempotent, and the long ones heartbeat the Azure operation's
// poller state so a retried attempt resumes polling the same operation.
import { Context, log } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { buildDeployablePackage } from '../adapters/azureml/package';
import { artifactLayout } from '../domain/artifact-layout';
import { deploymentNameOf, deploymentsToPrune, sameTraffic, type TrafficMap } from '../domain/rollout';
import { deploymentTarget, type AzureDeploymentSpec } from '../domain/spec';
import type { AzureMlDeployer } from '../adapters/azureml/deployer';
import type { ActivityDeps } from './deps';
import { parseJsonl } from './scoring-helpers';
import { verifyAuditedArtifact } from './verify-artifact';

export interface AzureTarget {
  model: string;
  deployment: AzureDeploymentSpec;
}

export interface AzureRelease extends AzureTarget {
  version: number;
  auditedSha256: string;
  /** Who approved and who deploys, for the model's tags. */
  lifecycleWorkflowId: string;
  generation: number;
}

export interface PreparedRelease {
  deploymentName: string;
  modelId: string;
  codeId: string;
  environmentId: string;
  packageSha256: string;
  /** A few texts of the version's own test split, to smoke-test each step with. */
  smokeTexts: string[];
}

export interface SmokeCheck {
  ok: boolean;
  requests: number;
  failures: number;
  p95Ms: number;
  servedBy: Record<string, number>;
  detail: string;
}

const SMOKE_TEXTS = 8;

export function azureMlActivities({ store, registry, azureMl }: ActivityDeps) {
  // Heartbeat details name the operation they belong to: an activity runs several Azure
  // operations in a row, and only the one that was in flight may be resumed.
  const lroOptions = (op: string) => {
    const previous = Context.current().info.heartbeatDetails as { op?: string; lro?: string } | undefined;
    let lro = previous?.op === op ? previous.lro : undefined;
    return {
      resumeFrom: lro,
      onState: (state: string) => {
        if (state.startsWith('{')) lro = state;
        Context.current().heartbeat({ op, lro, ...(!state.startsWith('{') && { note: state }) });
      },
    };
  };

  /** Deletes our deployments without traffic beyond the newest `keep` (domain/rollout.ts deploymentsToPrune); returns their names. */
  const deleteIdleDeployments = async (deployer: AzureMlDeployer, endpoint: string, traffic: TrafficMap, keep: number): Promise<string[]> => {
    const doomed = deploymentsToPrune(await deployer.listDeployments(endpoint), traffic, keep);
    for (const name of doomed) await deployer.deleteDeployment(endpoint, name, lroOptions(`delete ${name}`));
    if (doomed.length) log.info('azure ml deployments deleted', { endpoint, doomed });
    return doomed;
  };

  return {
    /** Verify the audited bytes, package them, upload write-once, register code/env/model. */
    async prepareAzureMlRelease(input: AzureRelease): Promise<PreparedRelease> {
      const ctx = Context.current();
      const { runDir, runKey } = await verifyAuditedArtifact(store, registry, input.model, input.version, input.auditedSha256);
      const modelDir = await store.localFolder(runDir);
      const pkg = await buildDeployablePackage(modelDir, { model: input.model, version: input.version });
      const deployer = azureMl(input.deployment.workspace);
      const prefix = artifactLayout.azureMlPackage(input.model, input.version, pkg.sha256);
      const codeUri = await deployer.upload(`${prefix}/code`, pkg.code, (p) => ctx.heartbeat(`code ${p.done}/${p.total}: ${p.name} ${p.outcome}`));
      const modelUri = await deployer.upload(`${prefix}/model`, pkg.model, (p) => ctx.heartbeat(`model ${p.done}/${p.total}: ${p.name} ${p.outcome}`));
      const tags = {
        model: input.model,
        version: String(input.version),
        sha256: input.auditedSha256,
        lifecycle: input.lifecycleWorkflowId,
        generation: String(input.generation),
        approval: 'audited',
        package: pkg.sha256,
      };
      const assets = await deployer.registerAssets({
        model: input.model,
        version: input.version,
        packageSha256: pkg.sha256,
        codeUri,
        modelUri,
        condaFile: pkg.condaFile,
        condaSha256: createHash('sha256').update(pkg.condaFile).digest('hex'),
        tags,
      });
      const run = await registry.getRun(runKey);
      const test = run ? parseJsonl(await store.get(`${artifactLayout.dataset(input.model, run.datasetHash)}/test.jsonl`)) : [];
      const smokeTexts = test.slice(0, SMOKE_TEXTS).map((r) => r.text);
      log.info('azure ml release prepared', { model: input.model, version: input.version, package: pkg.sha256, ...assets });
      return { deploymentName: deploymentNameOf(input.version), packageSha256: pkg.sha256, smokeTexts: smokeTexts.length ? smokeTexts : ['สวัสดี'], ...assets };
    },

    /** The endpoint (created if missing) and this version's deployment at 0% traffic. */
    async createAzureMlDeployment(input: AzureTarget & { version: number; release: PreparedRelease }): Promise<{ scoringUri: string }> {
      const deployer = azureMl(input.deployment.workspace);
      const { endpoint, instanceType, instanceCount } = input.deployment;
      const tags = { model: input.model, version: String(input.version), managedBy: 'mlc' };
      await deployer.ensureEndpoint(endpoint, { model: input.model, managedBy: 'mlc' }, lroOptions(`create-endpoint ${endpoint}`));
      const existing = await deployer.getDeployment(endpoint, input.release.deploymentName);
      const ready = existing?.properties.provisioningState === 'Succeeded' && existing.properties.model === input.release.modelId;
      if (!ready) {
        // A deployment left Failed by an earlier attempt cannot be updated into health: start it again.
        if (existing?.properties.provisioningState === 'Failed')
          await deployer.deleteDeployment(endpoint, input.release.deploymentName, lroOptions(`delete ${input.release.deploymentName}`));
        await deployer.createDeployment(
          {
            endpoint,
            deployment: input.release.deploymentName,
            instanceType,
            instanceCount,
            tags,
            assets: input.release,
            environmentVariables: await deployer.requestLogSettings(input.model, input.version, input.release.deploymentName),
          },
          lroOptions(`create ${input.release.deploymentName}`),
        );
      }
      const e = await deployer.getEndpoint(endpoint);
      log.info('azure ml deployment ready', { endpoint, deployment: input.release.deploymentName });
      return { scoringUri: e?.properties.scoringUri ?? '' };
    },

    async getAzureMlTraffic(input: AzureTarget): Promise<TrafficMap> {
      return azureMl(input.deployment.workspace).traffic(input.deployment.endpoint);
    },

    async setAzureMlTraffic(input: AzureTarget & { traffic: TrafficMap }): Promise<void> {
      await azureMl(input.deployment.workspace).setTraffic(input.deployment.endpoint, input.traffic, lroOptions(`traffic ${JSON.stringify(input.traffic)}`));
      log.info('azure ml traffic set', { endpoint: input.deployment.endpoint, traffic: input.traffic });
    },

    /**
     * Score the smoke texts one per request, pinned to `pinned` when given, else as traffic
     * routes them; judge errors and p95 latency against the spec's limits.
     */
    async checkAzureMlEndpoint(input: AzureTarget & { texts: string[]; pinned?: string; rounds?: number }): Promise<SmokeCheck> {
      const deployer = azureMl(input.deployment.workspace);
      const latencies: number[] = [];
      const servedBy: Record<string, number> = {};
      const errors: string[] = [];
      const rounds = input.rounds ?? 1;
      for (let r = 0; r < rounds; r++) {
        for (const text of input.texts) {
          const res = await deployer.score(input.deployment.endpoint, [text], input.pinned, { smoke: true });
          Context.current().heartbeat(`${latencies.length + 1} requests`);
          latencies.push(res.latencyMs);
          if (res.deployment) servedBy[res.deployment] = (servedBy[res.deployment] ?? 0) + 1;
          if (!res.ok) errors.push(`${res.deployment ?? '?'}: ${res.error}`);
        }
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      const p95Ms = Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0);
      const errorRate = errors.length / Math.max(1, latencies.length);
      const problems = [
        errorRate > input.deployment.maxErrorRate
          ? `${errors.length} of ${latencies.length} requests failed (allowed: ${(input.deployment.maxErrorRate * 100).toFixed(0)}%), first: ${errors[0]}`
          : null,
        p95Ms > input.deployment.maxLatencyMs ? `p95 latency ${p95Ms} ms is above ${input.deployment.maxLatencyMs} ms` : null,
      ].filter(Boolean);
      const detail = problems.length
        ? problems.join('; ')
        : `${latencies.length} requests, ${errors.length} failed, p95 ${p95Ms} ms, served by ${JSON.stringify(servedBy)}`;
      return { ok: problems.length === 0, requests: latencies.length, failures: errors.length, p95Ms, servedBy, detail };
    },

    async recordAzureMlDeployment(
      input: AzureTarget & { version: number; auditedSha256: string; actor: string; deploymentKey: string; scoringUri: string },
    ): Promise<void> {
      await registry.recordDeployment({
        model: input.model,
        version: input.version,
        target: deploymentTarget(input.deployment),
        endpointUrl: input.scoringUri,
        artifactSha256: input.auditedSha256,
        actor: input.actor,
        deploymentKey: input.deploymentKey,
      });
    },

    /**
     * Takes the model off its endpoint (mlc stop --undeploy): every deployment's traffic to 0
     * (Azure refuses to delete one that has traffic), then our deployments deleted, so none
     * keeps costing compute. The endpoint stays, empty, for a later deployment.
     */
    async retireAzureMlDeployments(input: AzureTarget): Promise<string[]> {
      const deployer = azureMl(input.deployment.workspace);
      const { endpoint } = input.deployment;
      const traffic = await deployer.traffic(endpoint);
      const none: TrafficMap = Object.fromEntries(Object.keys(traffic).map((name) => [name, 0]));
      if (!sameTraffic(traffic, none)) await deployer.setTraffic(endpoint, none, lroOptions('traffic to 0 everywhere'));
      return deleteIdleDeployments(deployer, endpoint, none, 0);
    },

    /** Delete our deployments without traffic beyond the spec's `keep`. */
    async pruneAzureMlDeployments(input: AzureTarget): Promise<string[]> {
      const deployer = azureMl(input.deployment.workspace);
      const { endpoint, keep } = input.deployment;
      return deleteIdleDeployments(deployer, endpoint, await deployer.traffic(endpoint), keep);
    },
  };
}
