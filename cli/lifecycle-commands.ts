// start, status, wait, audit, deploy, rollback, retrain, stop: everything that talks to the lifecycle workflow.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { z } from 'zod';
import { leftOnEndpoint, stages, type LifecycleStatus, type Verdict } from '../domain/lifecycle';
import { formatJobProgress } from '../domain/training-progress';
import { closestName } from '../domain/closest-name';
import { durationMs, durationSchema, trainingParamOverridesSchema, trainingParamsSchema } from '../domain/spec';
import { lifecycleWorkflowId, searchAttributes, taskQueues } from '../domain/temporal-names';
import { auditDecisionUpdate, deployRequestUpdate, retrainRequestUpdate, rollbackRequestUpdate, statusQuery, stopRequestUpdate } from '../workflows/messages';
import { printSignal, signFor } from './signing';
import { CliError } from './cli-error';
import { describedLifecycle, endedAs, lifecycleHandle, uiLink, workerAbsence, workflowIdOf, type CliContext } from './context';
import { formatStatus } from './format';
import { jobProgressOf } from './job-progress';
import { latestMonitoringLine } from './monitor';
import { Progress } from './progress';
import { championOf } from './registry-access';
import { readSpecFile } from './spec-file';

export async function startCommand(ctx: CliContext, specPath: string, opts: { wait?: boolean }) {
  const { spec, specDir } = await readSpecFile(specPath);
  const workflowId = lifecycleWorkflowId(spec.name);
  try {
    await ctx.client.workflow.start('modelLifecycle', {
      taskQueue: taskQueues.control,
      workflowId,
      args: [{ spec, specDir }],
      searchAttributes: { [searchAttributes.model]: [spec.name], [searchAttributes.stage]: ['preprocessing'] },
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CliError(
        `A lifecycle for ${spec.name} is already running (${workflowId}). See it with: mlc status ${spec.name}; end it on the record with: mlc stop ${spec.name} --as <you> --reason "…"`,
      );
    }
    throw err;
  }
  console.log(`started ${workflowId}\n  web UI: ${uiLink(ctx.config, workflowId)}\n  status: mlc status ${spec.name}`);
  await warnIfNoWorker(ctx, 'the lifecycle begins once one does');
  if (opts.wait) await waitForStage(ctx, workflowId, ['awaiting_audit', 'failed']);
}

export async function statusCommand(ctx: CliContext, id: string | undefined, opts: { json?: boolean }) {
  if (!id) {
    const rows: string[] = [];
    for await (const wf of ctx.client.workflow.list({ query: `WorkflowType = 'modelLifecycle' AND ExecutionStatus = 'Running'` })) {
      const attrs = wf.searchAttributes as Record<string, (string | number)[] | undefined>;
      const stage = String(attrs[searchAttributes.stage]?.[0] ?? '?');
      const progress = stage === 'training' ? await jobProgressOf(ctx.client, await ctx.client.workflow.getHandle(wf.workflowId).describe()) : null;
      rows.push(
        `${wf.workflowId.padEnd(32)} ${stage.padEnd(16)} version ${String(attrs[searchAttributes.version]?.[0] ?? '—')}${progress ? `  ${formatJobProgress(progress).join(' | ')}` : ''}`,
      );
    }
    console.log(rows.length ? rows.join('\n') : 'no running lifecycles (start one with: mlc start <spec.yaml>)');
    // The list needs no worker, so it would look the same with none there to move them on.
    if (rows.length) await warnIfNoWorker(ctx, 'these lifecycles wait until one does');
    return;
  }
  const { handle, described } = await describedLifecycle(ctx, id);
  const status: LifecycleStatus = await handle.query(statusQuery);
  const progress = status.stage === 'training' ? await jobProgressOf(ctx.client, described) : null;
  // A terminated lifecycle ran no code on its way out: its stage is where it stood.
  const ended = endedAs(described);
  if (opts.json) return console.log(JSON.stringify({ ...status, ...(progress ? { trainingProgress: progress } : {}), ...(ended ? { ended } : {}) }, null, 2));
  const monitoring = status.deployedVersion ? await latestMonitoringLine(ctx, status.model) : null;
  // An ended lifecycle's version may have been taken off since (mlc undeploy) or replaced.
  const champion = status.deployedVersion === null || ended ? await championOf(ctx, status.model) : undefined;
  console.log(
    `${formatStatus(status, Date.now(), ctx.config.paths.artifacts, progress, { ended, champion })}${monitoring ? `\n${monitoring}` : ''}\n  web UI: ${uiLink(ctx.config, workflowIdOf(id))}`,
  );
}

export async function auditCommand(
  ctx: CliContext,
  decision: 'approve' | 'reject',
  id: string,
  opts: { as: string; reason: string; version?: string; set?: string[] } & SigningFlags,
) {
  const paramsOverride = opts.set?.length ? parseOverrides(opts.set) : undefined;
  const handle = await lifecycleHandle(ctx, id, { toDecide: true });
  const version = opts.version ? Number(opts.version) : undefined;
  const message = {
    decision,
    actor: opts.as,
    reason: opts.reason,
    ...(version ? { version } : {}),
    ...(paramsOverride ? { paramsOverride } : {}),
  };
  const signed = await signFor(handle, { kind: decision, actor: opts.as, reason: opts.reason, version, paramsOverride, require: !!opts.printSignal });
  const full = { ...message, ...(signed ? { signed } : {}) };
  if (opts.printSignal) return printSignal(handle.workflowId, 'auditDecision', full);
  const verdict: Verdict = await handle.executeUpdate(auditDecisionUpdate, { args: [full] });
  reportVerdict(verdict, `${decision} recorded for ${workflowIdOf(id)}${signed ? ', signed' : ''}`);
}

export async function deployCommand(ctx: CliContext, id: string, opts: { as: string; reason?: string; version?: string; wait?: boolean } & SigningFlags) {
  const handle = await lifecycleHandle(ctx, id, { toDecide: true });
  const reason = opts.reason ?? 'manual deployment';
  const version = opts.version ? Number(opts.version) : undefined;
  const signed = await signFor(handle, { kind: 'deploy', actor: opts.as, reason, version, require: !!opts.printSignal });
  const message = { actor: opts.as, reason, ...(version ? { version } : {}), ...(signed ? { signed } : {}) };
  if (opts.printSignal) return printSignal(handle.workflowId, 'deployRequest', message);
  const verdict: Verdict = await handle.executeUpdate(deployRequestUpdate, { args: [message] });
  reportVerdict(verdict, `deployment requested for ${workflowIdOf(id)}${signed ? ', signed' : ''}`);
  if (opts.wait !== false) await waitForStage(ctx, workflowIdOf(id), ['monitoring', 'failed']);
}

/** Put an earlier approved version back live; the endpoint serves it once this returns. */
export async function rollbackCommand(ctx: CliContext, id: string, opts: { to: string; as: string; reason: string } & SigningFlags) {
  const version = Number(opts.to);
  if (!Number.isInteger(version) || version < 1) throw new CliError(`--to ${opts.to}: give the version number to roll back to, e.g. --to 3`, 2);
  const handle = await lifecycleHandle(ctx, id, { toDecide: true });
  const signed = await signFor(handle, { kind: 'rollback', actor: opts.as, reason: opts.reason, version, require: !!opts.printSignal });
  const message = { actor: opts.as, version, reason: opts.reason, ...(signed ? { signed } : {}) };
  if (opts.printSignal) return printSignal(handle.workflowId, 'rollbackRequest', message);
  const verdict: Verdict = await handle.executeUpdate(rollbackRequestUpdate, { args: [message] });
  reportVerdict(verdict, `rollback to version ${version} requested for ${workflowIdOf(id)}`);
  await waitUntil(ctx, workflowIdOf(id), (s) => s.deployedVersion === version && s.stage === 'monitoring', `version ${version} to be live again`, 5 * 60_000);
}

/**
 * Ask for the next generation now rather than waiting for the monitor: new labelled data sent
 * with mlc feedback, a known problem. It trains on the spec's data plus that feedback, then
 * goes to audit; the live version serves meanwhile.
 */
export async function retrainCommand(ctx: CliContext, id: string, opts: { as: string; reason: string; wait?: boolean } & SigningFlags) {
  const handle = await lifecycleHandle(ctx, id, { toDecide: true });
  const signed = await signFor(handle, { kind: 'retrain', actor: opts.as, reason: opts.reason, require: !!opts.printSignal });
  const message = { actor: opts.as, reason: opts.reason, ...(signed ? { signed } : {}) };
  if (opts.printSignal) return printSignal(handle.workflowId, 'retrainRequest', message);
  const { generation, model }: LifecycleStatus = await handle.query(statusQuery);
  const verdict: Verdict = await handle.executeUpdate(retrainRequestUpdate, { args: [message] });
  reportVerdict(verdict, `retrain requested for ${handle.workflowId}${signed ? ', signed' : ''}`);
  const next = generation + 1;
  console.log(
    `  generation ${next} trains on the spec's data plus the labelled feedback (mlc feedback), then awaits audit; the live version serves meanwhile\n` +
      `  follow it: mlc status ${model}   wait for it: mlc wait ${model} --stage awaiting_audit --generation ${next}`,
  );
  if (opts.wait) await waitForStage(ctx, handle.workflowId, ['awaiting_audit', 'failed'], 60 * 60_000, next);
}

/** End the lifecycle on the record; returns once it has ended, with how it left things. */
export async function stopCommand(ctx: CliContext, id: string, opts: { as: string; reason: string; undeploy?: boolean } & SigningFlags) {
  const handle = await lifecycleHandle(ctx, id, { toDecide: true });
  const kind = opts.undeploy ? 'undeploy' : 'stop';
  const signed = await signFor(handle, { kind, actor: opts.as, reason: opts.reason, require: !!opts.printSignal });
  const message = { actor: opts.as, reason: opts.reason, ...(opts.undeploy ? { undeploy: true } : {}), ...(signed ? { signed } : {}) };
  if (opts.printSignal) return printSignal(handle.workflowId, 'stopRequest', message);
  const verdict: Verdict = await handle.executeUpdate(stopRequestUpdate, { args: [message] });
  reportVerdict(verdict, `stop recorded for ${handle.workflowId}${signed ? ', signed' : ''}`);
  // A running job is cancelled on the cluster first, and a rollout under way ends, which may take a while.
  const ended = (await handle.result()) as LifecycleStatus;
  console.log(`${handle.workflowId}: ${ended.stage}${howItLeft(ended)}`);
}

/** What a stopped lifecycle left on the endpoint, from its last undeploy decision if it took one. */
function howItLeft(ended: LifecycleStatus): string {
  const undeploy = [...ended.decisions].reverse().find((d) => d.kind === 'undeploy');
  const retired = undeploy?.outcome === 'approved' ? undeploy.version : null;
  const left = leftOnEndpoint(ended.deployedVersion, retired);
  if (undeploy?.outcome !== 'failed') return left;
  return (
    `${left}; taking it off the endpoint failed, so it still serves: ${undeploy.reason}. ` +
    `Once the cause is fixed: mlc undeploy ${ended.model} --as <deployer> --reason "…"`
  );
}

export async function waitCommand(ctx: CliContext, id: string, opts: { stage: string[]; generation?: string; timeout?: string }) {
  // A stage no lifecycle reaches would only be found out at the timeout, an hour later by default.
  const unknown = opts.stage.filter((s) => !(stages as readonly string[]).includes(s));
  if (unknown.length) throw new CliError(`--stage ${unknown.join(', ')}: not a stage; a lifecycle goes through ${stages.join(', ')}`, 2);
  if (opts.timeout && !durationSchema.safeParse(opts.timeout).success) throw new CliError(`--timeout ${opts.timeout}: use a duration like 90s, 20m or 2h`, 2);
  const timeoutMs = opts.timeout ? durationMs(opts.timeout) : 60 * 60_000;
  await waitForStage(ctx, workflowIdOf(id), opts.stage, timeoutMs, opts.generation ? Number(opts.generation) : 1);
}

export function waitForStage(ctx: CliContext, workflowId: string, stages: string[], timeoutMs = 60 * 60_000, minGeneration = 1): Promise<LifecycleStatus> {
  return waitUntil(ctx, workflowId, (s) => stages.includes(s.stage) && s.generation >= minGeneration, `${stages.join(' or ')}`, timeoutMs);
}

function reached(progress: Progress, workflowId: string, s: LifecycleStatus): LifecycleStatus {
  progress.done(`${workflowId}: ${s.stage}${s.deployedVersion ? `, version ${s.deployedVersion} live` : ''}`);
  return s;
}

/** Poll the status query, showing progress, until `done` holds; fail fast if the workflow ended. */
async function waitUntil(
  ctx: CliContext,
  workflowId: string,
  done: (s: LifecycleStatus) => boolean,
  what: string,
  timeoutMs: number,
): Promise<LifecycleStatus> {
  const handle = await lifecycleHandle(ctx, workflowId);
  const progress = new Progress();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING' && desc.status.name !== 'CONTINUED_AS_NEW') {
      // Only a stopped lifecycle completes: `mlc wait --stage stopped` has what it waited for.
      const last: LifecycleStatus | null = desc.status.name === 'COMPLETED' ? await handle.query(statusQuery) : null;
      if (last && done(last)) return reached(progress, workflowId, last);
      progress.fail(`${workflowId} is ${desc.status.name}`);
      throw new CliError(`${workflowId} ended ${desc.status.name}; see why with: mlc status ${workflowId} or temporal workflow show -w ${workflowId}`);
    }
    const s: LifecycleStatus = await handle.query(statusQuery);
    if (done(s)) return reached(progress, workflowId, s);
    const training = s.training && s.stage === 'training' ? s.training : null;
    const reported = training?.jobPhase === 'running' ? await jobProgressOf(ctx.client, desc) : null;
    const job = training ? ` (job ${training.jobId ?? '…'} ${training.jobState ?? ''}${reported ? ` · ${formatJobProgress(reported).join(' | ')}` : ''})` : '';
    progress.update(`${workflowId}: generation ${s.generation} ${s.stage}${job}`);
    if (Date.now() > deadline)
      throw new CliError(
        `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${workflowId}: ${what} (stage now ${s.stage}); the worker log says what it is doing`,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** For commands that work without a worker but whose lifecycles do not move on without one. */
async function warnIfNoWorker(ctx: CliContext, consequence: string): Promise<void> {
  const absent = await workerAbsence(ctx, taskQueues.control);
  if (absent) console.error(`⚠ no worker polls task queue ${taskQueues.control} (${absent}): ${consequence}. Start one with: npm run worker`);
}

function reportVerdict(verdict: Verdict, okText: string) {
  if (verdict.accepted) {
    console.log(`✓ ${okText}`);
    return;
  }
  throw new CliError(`refused: ${verdict.why} (recorded in the registry and the workflow history)`);
}

/** `--set epochs=6 --set learningRate=0.001` → a validated partial params object. */
export function parseOverrides(pairs: string[]): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new CliError(`--set ${pair}: use name=value, e.g. --set epochs=6`, 2);
    const value = pair.slice(eq + 1);
    raw[pair.slice(0, eq)] = value === 'true' ? true : value === 'false' ? false : Number.isNaN(Number(value)) ? value : Number(value);
  }
  const parsed = trainingParamOverridesSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => overrideProblem(i, pairs)).join('\n'), 2);
  return parsed.data;
}

/** One line per refused pair, naming it as typed; a name that is no param gets a guess and the list of those that are. */
function overrideProblem(issue: z.core.$ZodIssue, pairs: string[]): string {
  const typed = (name: string) => pairs.find((p) => p.startsWith(`${name}=`)) ?? name;
  if (issue.code !== 'unrecognized_keys') return `--set ${typed(String(issue.path[0]))}: ${issue.message}`;
  const params = Object.keys(trainingParamsSchema.shape);
  const unknown = issue.keys.map((k) => {
    const guess = closestName(k, params);
    return `--set ${typed(k)}: ${k} is not a training param${guess ? ` (did you mean ${guess}?)` : ''}`;
  });
  return [...unknown, `  the params: ${params.join(', ')}`].join('\n');
}

/** Instead of sending: print the signed message as a `temporal workflow signal` command. */
export interface SigningFlags {
  printSignal?: boolean;
}
