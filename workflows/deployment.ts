// Shipping an approved version to where the spec says: the built-in endpoint, or an Azure
// ML managed online endpoint by blue/green rollout. Deterministic: each step is an activity,
// so the history shows every traffic change, and a failure at any step puts the previous
// traffic back before it reports. A deployment that cannot succeed returns { ok: false }
// with the reason, so the lifecycle can wait for the next deploy request instead of dying.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { sameTraffic, trafficStep, type TrafficMap } from '../domain/rollout';
import type { ModelSpec } from '../domain/spec';
import { azure, control, localDeploy } from './activities';

export interface DeployVersionInput {
  spec: ModelSpec;
  version: number;
  auditedSha256: string;
  actor: string;
  deploymentKey: string;
  lifecycleWorkflowId: string;
  generation: number;
  /** A rollback: straight to 100%, no intermediate steps. */
  rollback?: boolean;
  /** Progress for the status query and the Web UI's details line. */
  onStep?: (step: string) => void;
}

export type DeployOutcome = { ok: true; endpointUrl: string; steps: string[] } | { ok: false; why: string; steps: string[] };

export async function deployVersion(input: DeployVersionInput): Promise<DeployOutcome> {
  const steps: string[] = [];
  const step = (s: string) => {
    steps.push(s);
    input.onStep?.(s);
  };
  const { spec } = input;
  try {
    if (spec.deployment.target === 'local') {
      const { endpointUrl } = await localDeploy.deployModelVersion({
        model: spec.name,
        version: input.version,
        auditedSha256: input.auditedSha256,
        actor: input.actor,
        deploymentKey: input.deploymentKey,
      });
      step(`serving version ${input.version} at ${endpointUrl}`);
      return { ok: true, endpointUrl, steps };
    }
    const target = { model: spec.name, deployment: spec.deployment };
    const plan = input.rollback ? [100] : spec.deployment.rollout;
    step(`packaging version ${input.version} for Azure ML workspace ${spec.deployment.workspace}`);
    const release = await azure.prepareAzureMlRelease({
      ...target,
      version: input.version,
      auditedSha256: input.auditedSha256,
      lifecycleWorkflowId: input.lifecycleWorkflowId,
      generation: input.generation,
    });
    step(`creating deployment ${release.deploymentName} on ${spec.deployment.endpoint} (0% traffic)`);
    const { scoringUri } = await azure.createAzureMlDeployment({ ...target, version: input.version, release });
    const direct = await control.checkAzureMlEndpoint({ ...target, texts: release.smokeTexts, pinned: release.deploymentName });
    if (!direct.ok) return { ok: false, why: `smoke test of ${release.deploymentName} at 0% traffic failed: ${direct.detail}; no traffic was moved`, steps };
    step(`smoke test of ${release.deploymentName}: ${direct.detail}`);

    const before: TrafficMap = await control.getAzureMlTraffic(target);
    let current = before;
    for (const percent of plan) {
      const traffic = trafficStep(before, release.deploymentName, percent);
      // A first deployment takes everything at once; later steps would repeat the same map.
      if (sameTraffic(traffic, current)) continue;
      current = traffic;
      step(`traffic → ${JSON.stringify(traffic)}`);
      await azure.setAzureMlTraffic({ ...target, traffic });
      const pinned = await control.checkAzureMlEndpoint({ ...target, texts: release.smokeTexts, pinned: release.deploymentName });
      const routed = await control.checkAzureMlEndpoint({ ...target, texts: release.smokeTexts });
      if (!pinned.ok || !routed.ok) {
        const why = `rollout step ${percent}% failed: ${[pinned.ok ? null : `${release.deploymentName}: ${pinned.detail}`, routed.ok ? null : `endpoint: ${routed.detail}`].filter(Boolean).join('; ')}`;
        step(`${why}; restoring traffic ${JSON.stringify(before)}`);
        await azure.setAzureMlTraffic({ ...target, traffic: before });
        return { ok: false, why: `${why}. Traffic is back to ${JSON.stringify(before)}.`, steps };
      }
      step(`${percent}% healthy: ${routed.detail}`);
    }
    await control.recordAzureMlDeployment({
      ...target,
      version: input.version,
      auditedSha256: input.auditedSha256,
      actor: input.actor,
      deploymentKey: input.deploymentKey,
      scoringUri,
    });
    const pruned = await azure.pruneAzureMlDeployments(target);
    if (pruned.length) step(`deleted old deployments ${pruned.join(', ')} (keep ${spec.deployment.keep})`);
    return { ok: true, endpointUrl: scoringUri, steps };
  } catch (err) {
    return { ok: false, why: permanentFailure(err), steps };
  }
}

/**
 * A step that retrying cannot fix (quota, a crashing container, a changed artifact) ends this
 * attempt with its reason; anything else (a cancellation, a bug) goes up.
 */
function permanentFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) return `${err.cause.type}: ${err.cause.message}`;
  throw err;
}

export interface RetireVersionInput {
  spec: ModelSpec;
  actor: string;
  reason: string;
  retireKey: string;
  /** The version judged to be taken off; the registry refuses when another one is live. */
  version?: number;
}

export type RetireOutcome = { ok: true } | { ok: false; why: string };

/**
 * Takes the model off its endpoint (mlc stop --undeploy): on Azure ML, traffic to 0 and our
 * deployments deleted; then, for either target, the registry's deployment retired and `champion`
 * removed, which is what the built-in endpoint serves from. A step that cannot succeed reports
 * why and leaves the version as the registry says (still deployed).
 */
export async function retireVersion(input: RetireVersionInput): Promise<RetireOutcome> {
  const { spec } = input;
  try {
    // What was deleted and retired is in the activities' results, in the history.
    if (spec.deployment.target === 'azureml') await azure.retireAzureMlDeployments({ model: spec.name, deployment: spec.deployment });
    const { actor, reason, retireKey, version } = input;
    await control.retireDeployment({ model: spec.name, actor, reason, retireKey, ...(version === undefined ? {} : { version }) });
    return { ok: true };
  } catch (err) {
    return { ok: false, why: permanentFailure(err) };
  }
}
