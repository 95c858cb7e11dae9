// deploy: ship exactly the artifact the auditor approved to the built-in endpoint, then
// keep the monitoring Schedule in step with what is live.
import { Context, log } from '@temporalio/activity';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, WorkflowNotFoundError } from '@temporalio/client';
import { lifecycleWorkflowId, monitoringScheduleId, taskQueues } from '../domain/temporal-names';
import { durationMs, parseSpec, type ModelSpec } from '../domain/spec';
import type { DecisionRecord, RetireRequest } from '../adapters/db/port';
import type { Stage } from '../domain/lifecycle';
import { statusQuery } from '../workflows/messages';
import type { MonitoringInput } from '../workflows/monitoring';
import type { ActivityDeps } from './deps';
import { verifyAuditedArtifact } from './verify-artifact';

export function deployActivities({ store, registry, temporal, endpointUrl }: ActivityDeps) {
  return {
    async recordDecision(record: DecisionRecord): Promise<void> {
      await registry.recordDecision(record);
    },

    async deployModelVersion(input: {
      model: string;
      version: number;
      auditedSha256: string;
      actor: string;
      deploymentKey: string;
    }): Promise<{ endpointUrl: string }> {
      // Re-hashing a large model on NFS can outlast the 30 s heartbeat timeout: beat meanwhile.
      const ctx = Context.current();
      ctx.heartbeat('verifying the audited artifact');
      const beat = setInterval(() => ctx.heartbeat('verifying the audited artifact'), 5_000);
      const { sha256 } = await verifyAuditedArtifact(store, registry, input.model, input.version, input.auditedSha256).finally(() => clearInterval(beat));
      await registry.recordDeployment({
        model: input.model,
        version: input.version,
        target: 'local',
        endpointUrl,
        artifactSha256: sha256,
        actor: input.actor,
        deploymentKey: input.deploymentKey,
      });
      await waitUntilServing(endpointUrl, input.model, input.version);
      log.info('deployed', { model: input.model, version: input.version, endpointUrl });
      return { endpointUrl };
    },

    /**
     * Takes the model's live version off the endpoint on the record: the built-in endpoint looks
     * its deployment up per request, so it answers 404 for the model from this commit on. On
     * Azure ML the deployments are gone already (retireAzureMlDeployments).
     */
    async retireDeployment(input: RetireRequest): Promise<{ retired: number | null }> {
      const out = await registry.retireDeployment(input);
      log.info('deployment retired', { model: input.model, version: out.retired, actor: input.actor });
      return out;
    },

    /**
     * What `mlc undeploy` acts on: the model's live deployment, the spec its latest lifecycle ran
     * with (whose deployers may take it off, and where it is deployed), and the lifecycle if one
     * is still running, with the version it deployed: that one must take it off itself
     * (mlc stop --undeploy), since it monitors it.
     */
    async undeployTarget(input: { model: string }): Promise<UndeployTarget> {
      const { model } = input;
      const handle = temporal.workflow.getHandle(lifecycleWorkflowId(model));
      const running = await handle
        .describe()
        .then((d) => d.status.name === 'RUNNING')
        .catch((err) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        });
      const status = running ? await handle.query(statusQuery) : null;
      const lifecycle = status && { workflowId: handle.workflowId, stage: status.stage, deployedVersion: status.deployedVersion };
      const stored = await registry.modelSpec(model);
      const live = await registry.activeDeployment(model);
      return {
        spec: stored ? parseSpec(stored, `the registry's spec of ${model}`) : null,
        live: live ? { version: live.version, target: live.target, artifactSha256: live.artifactSha256 } : null,
        runningLifecycle: lifecycle,
      };
    },

    /** Create or update the model's monitoring Schedule, and make sure it is not paused. */
    async ensureMonitoringSchedule(input: MonitoringInput): Promise<{ scheduleId: string }> {
      const scheduleId = monitoringScheduleId(input.model);
      const every = durationMs(input.monitoring.every);
      const action = {
        type: 'startWorkflow' as const,
        workflowType: 'modelMonitoring',
        workflowId: `mlc-monitoring-${input.model}`,
        taskQueue: taskQueues.control,
        args: [input],
      };
      const handle = temporal.schedule.getHandle(scheduleId);
      try {
        await handle.update((prev) => ({ ...prev, spec: { intervals: [{ every }] }, action }));
        await handle.unpause(`version live again: monitoring ${input.model}`);
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
        await temporal.schedule.create({
          scheduleId,
          spec: { intervals: [{ every }] },
          action,
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: every },
          state: { note: `monitoring ${input.model}, started by ${input.lifecycleWorkflowId}` },
        });
      }
      return { scheduleId };
    },

    async pauseMonitoringSchedule(input: { model: string; note: string }): Promise<void> {
      await temporal.schedule
        .getHandle(monitoringScheduleId(input.model))
        .pause(scheduleNote(input.note))
        .catch((err) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
    },
  };
}

export interface UndeployTarget {
  spec: ModelSpec | null;
  live: { version: number; target: string; artifactSha256: string } | null;
  runningLifecycle: { workflowId: string; stage: Stage; deployedVersion: number | null } | null;
}

/**
 * Temporal refuses a long schedule note (INVALID_ARGUMENT "Schedule notes exceeds limit"), and a
 * monitor's retrain reason names every test that fired: the note keeps its start, the full
 * reason stays in the decision record and the monitoring report.
 */
export function scheduleNote(note: string, max = 200): string {
  return note.length <= max ? note : `${note.slice(0, max - 40)}… (full reason: mlc history)`;
}

/** The endpoint picks new deployments up from the registry; wait until it serves this one. */
async function waitUntilServing(endpointUrl: string, model: string, version: number, timeoutMs = 120_000): Promise<void> {
  const ctx = Context.current();
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    ctx.heartbeat(last);
    try {
      const res = await fetch(`${endpointUrl}/health?model=${encodeURIComponent(model)}`);
      const body = (await res.json()) as { models?: { model: string; version: number }[] };
      if (body.models?.some((m) => m.model === model && m.version === version)) return;
      last = `endpoint serves ${JSON.stringify(body.models ?? [])}`;
    } catch (err) {
      last = `endpoint unreachable: ${(err as Error).message}`;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(
    `The endpoint at ${endpointUrl} did not start serving ${model} v${version} within ${timeoutMs / 1000}s (${last}). Is the worker running (npm run worker)? Its log says why a model fails to load.`,
  );
}
