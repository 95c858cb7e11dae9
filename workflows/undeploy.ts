// mlc undeploy: takes a model's live version off its endpoint once the lifecycle that deployed
// it has ended (stopped without --undeploy, or its --undeploy failed). Who may, and where the
// version runs, come from the registry rather than from the caller: the deployers in the spec
// of the model's latest lifecycle, and the live deployment's target. The decision is judged,
// signed where that spec requires it, and recorded like a lifecycle's. A running lifecycle that
// deployed the version, or is deploying one, is left to do it itself (mlc stop --undeploy); one
// that has deployed nothing yet (started after a stop) does not stand in the way.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { checkStatement } from '../domain/decision-statement';
import {
  judgeUndeployRequest,
  leftOnEndpoint,
  undeployInputSchema,
  type DecisionOutcome,
  type UndeployInput,
  type UndeployRequest,
  type Verdict,
} from '../domain/lifecycle';
import { deploymentTarget, fieldIssue, listIssues, type ModelSpec } from '../domain/spec';
import { control } from './activities';
import { retireVersion } from './deployment';
import { openSignedMessage } from './signed-message';

export type { UndeployInput, UndeployRequest };

export type UndeployResult = { outcome: 'approved'; version: number } | { outcome: 'refused' | 'failed'; why: string; version: number | null };

export async function undeployModel(raw: UndeployInput): Promise<UndeployResult> {
  // Started by `temporal workflow start` or the Web UI, the input gets the checks mlc's does.
  const { model, request } = validInput(raw);
  const { workflowId } = workflowInfo();
  const { spec, live, runningLifecycle } = await control.undeployTarget({ model });
  // Nothing is at stake yet, so these refusals are answers, not decisions on record.
  const refuse = (why: string): UndeployResult => ({ outcome: 'refused', why, version: live?.version ?? null });
  if (runningLifecycle && (runningLifecycle.deployedVersion !== null || runningLifecycle.stage === 'deploying')) {
    // A deployment under way would race this retirement for the registry's newest deployment.
    const what =
      runningLifecycle.deployedVersion === null ? 'is deploying a version' : `monitors version ${runningLifecycle.deployedVersion}, which it deployed`;
    return refuse(`${runningLifecycle.workflowId} is running and ${what}: take it off with mlc stop ${model} --as <deployer> --reason "…" --undeploy`);
  }
  if (!spec) return refuse(`no model named ${model} in the registry: it never ran a lifecycle (mlc runs ${model})`);
  if (!live) return refuse(`no version of ${model} is deployed, so there is nothing to take off (mlc history ${model})`);
  const target = deploymentTarget(spec.deployment);
  if (live.target !== target) {
    return refuse(
      `version ${live.version} runs on ${live.target}, but the spec of ${model}'s latest lifecycle deploys to ${target}: ` +
        `take it off ${live.target} there, or run a lifecycle whose spec names ${live.target} and stop it with --undeploy`,
    );
  }

  const key = `${workflowId}/undeploy`;
  const record = (outcome: DecisionOutcome, reason: string, signerKeyId?: string) =>
    control.recordDecision({
      model,
      version: live.version,
      kind: 'undeploy',
      outcome,
      actor: request.actor,
      reason,
      artifactSha256: live.artifactSha256,
      workflowId,
      decidedAt: new Date().toISOString(),
      decisionKey: key,
      ...(signerKeyId && request.signed ? { envelope: request.signed, signerKeyId } : {}),
    });

  const judged = await judge(spec, request, live.version, workflowId);
  if (!judged.verdict.accepted) {
    await record('refused', judged.verdict.why);
    return refuse(judged.verdict.why);
  }
  const retired = await retireVersion({ spec, actor: request.actor, reason: request.reason, retireKey: key, version: live.version });
  if (!retired.ok) {
    await record('failed', retired.why, judged.signer);
    return { outcome: 'failed', why: retired.why, version: live.version };
  }
  await record('approved', request.reason, judged.signer);
  const note = `undeployed by ${request.actor} (${workflowId}): ${request.reason}${leftOnEndpoint(null, live.version)}`;
  await control.pauseMonitoringSchedule({ model, note });
  return { outcome: 'approved', version: live.version };
}

function validInput(raw: unknown): UndeployInput {
  const parsed = undeployInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = listIssues(
    parsed.error.issues.map((i) => fieldIssue(i)),
    5,
  ).join('; ');
  throw ApplicationFailure.create({
    type: 'InvalidInput',
    message: `not an undeploy request (mlc undeploy <model> --as <deployer> --reason "…"): ${issues}`,
    nonRetryable: true,
  });
}

/** The role first, then the signature: a statement about this workflow and the live version. */
async function judge(spec: ModelSpec, request: UndeployRequest, version: number, workflowId: string): Promise<{ verdict: Verdict; signer?: string }> {
  const byRole = judgeUndeployRequest(spec, request.actor);
  if (!byRole.accepted) return { verdict: byRole };
  const opened = await openSignedMessage(spec, request);
  if ('refused' in opened) return { verdict: opened.refused };
  if ('unsigned' in opened) return { verdict: { accepted: true } };
  const verdict = checkStatement(opened.statement, {
    lifecycle: workflowId,
    // It belongs to no lifecycle's generation: the statement names none.
    generation: null,
    decisions: ['undeploy'],
    version,
    subjects: { manifestSha256: null, evaluationSha256: null },
    now: new Date(),
    // The workflow id is new for each request, and a statement names it: it cannot come twice.
    seenNonces: new Set(),
  });
  return verdict.accepted ? { verdict, signer: opened.keyid } : { verdict };
}
