// mlc undeploy: take a model's live version off its endpoint once the lifecycle that deployed it
// has ended, after a stop without --undeploy or a failed one. The worker judges, records and
// retires it (workflows/undeploy.ts); this signs the request where the actor has a key, and reports.
import { randomUUID } from 'node:crypto';
import { taskQueues, undeployWorkflowId } from '../domain/temporal-names';
import type { UndeployInput, UndeployResult } from '../workflows/undeploy';
import { CliError } from './cli-error';
import { uiLink, workerAbsence, type CliContext } from './context';
import { championOf } from './registry-access';
import { signAbout, startCommand } from './signing';

export async function undeployCommand(ctx: CliContext, model: string, opts: { as: string; reason: string; printStart?: boolean }): Promise<void> {
  // Before anything else: without a worker, reading the embedded registry below would wait a
  // minute for one, and the undeploy itself would never start.
  const absent = opts.printStart ? null : await workerAbsence(ctx, taskQueues.control);
  if (absent) throw new CliError(`no worker polls task queue ${taskQueues.control} (${absent}): it takes the version off. Start one with: npm run worker`);
  const workflowId = undeployWorkflowId(model, randomUUID().slice(0, 8));
  // The statement names the version it takes off; with none deployed, the worker says so.
  const version = await championOf(ctx, model);
  const request = { actor: opts.as, reason: opts.reason };
  if (opts.printStart && typeof version !== 'number') {
    throw new CliError(
      `${version === null ? `no version of ${model} is deployed` : 'the registry could not be read (set DATABASE_URL to the PostgreSQL registry, or start a worker: npm run worker)'}, so there is no version to sign for`,
    );
  }
  const signed =
    typeof version === 'number'
      ? await signAbout(
          { kind: 'undeploy', ...request, require: !!opts.printStart },
          { lifecycle: workflowId, generation: null, model, version, evidence: null },
        )
      : null;
  const input: UndeployInput = { model, request: { ...request, ...(signed ? { signed } : {}) } };
  if (opts.printStart) return console.log(startCommand(workflowId, 'undeployModel', taskQueues.control, input));

  // On Azure ML, moving traffic and deleting deployments takes minutes: say where to follow it.
  console.log(`taking ${model}'s deployed version off: ${workflowId}\n  web UI: ${uiLink(ctx.config, workflowId)}`);
  const result = await ctx.client.workflow.execute<(input: UndeployInput) => Promise<UndeployResult>>('undeployModel', {
    taskQueue: taskQueues.control,
    workflowId,
    args: [input],
  });
  if (result.outcome === 'approved') {
    console.log(`✓ version ${result.version} of ${model} taken off the endpoint, its monitoring paused (recorded by ${workflowId}${signed ? ', signed' : ''})`);
    return;
  }
  if (result.outcome === 'failed') {
    throw new CliError(
      `taking version ${result.version} of ${model} off failed, so it still serves: ${result.why}. Fix the cause and run mlc undeploy again (recorded by ${workflowId})`,
    );
  }
  throw new CliError(`refused: ${result.why}`);
}
