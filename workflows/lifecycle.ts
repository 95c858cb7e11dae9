// modelLifecycle: one workflow per model, one generation per continue-as-new.
// requirements → preprocess → train → evaluate → ⏸ audit (reject → train again)
//   → ⏸ deploy → monitor (Schedule) → retrain (continue-as-new with feedback data)
import {
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  applyOverride,
  approvedVersions,
  auditDecisionSchema,
  deployRequestSchema,
  judgeAuditDecision,
  judgeDeployRequest,
  judgeRollback,
  retrainRequestSchema,
  rollbackRequestSchema,
  type RetrainRequest,
  type DecisionView,
  type LifecycleInput,
  type LifecycleStatus,
  type Stage,
  type Verdict,
} from '../domain/lifecycle';
import { searchAttributes } from '../domain/temporal-names';
import { control, scoring } from './activities';
import {
  auditDecisionSignal,
  auditDecisionUpdate,
  deployRequestSignal,
  deployRequestUpdate,
  retrainRequestSignal,
  rollbackRequestSignal,
  rollbackRequestUpdate,
  statusQuery,
} from './messages';
import { deployVersion } from './deployment';
import { trainModel } from './training';
import { Inbox } from './inbox';

/** The monitor signals retrain requests under this name. */
export const MONITOR_ACTOR = 'mlc-monitor';

export async function modelLifecycle(input: LifecycleInput): Promise<LifecycleStatus> {
  const { spec } = input;
  const generation = input.generation ?? 1;
  const { workflowId, firstExecutionRunId } = workflowInfo();
  // Everything this lifecycle writes (runs, jobs, decisions, deployments) is keyed by its
  // execution chain, stable across retries, replays and continue-as-new, so a lifecycle
  // started again later under the same workflow id never adopts an earlier one's records.
  const chainKey = `${workflowId}-${firstExecutionRunId.replace(/-/g, '').slice(-12)}`;
  const status: LifecycleStatus = {
    model: spec.name,
    stage: 'preprocessing',
    generation,
    attempt: 1,
    datasetHash: null,
    training: null,
    version: null,
    artifactSha256: null,
    evaluation: null,
    deployedVersion: input.deployedVersion ?? null,
    lastDecision: input.history?.at(-1) ?? null,
    decisions: [...(input.history ?? [])],
    error: null,
  };
  const audits = new Inbox(auditDecisionSchema);
  const deploys = new Inbox(deployRequestSchema);
  const retrains = new Inbox(retrainRequestSchema);
  const rollbacks = new Inbox(rollbackRequestSchema);
  setHandler(statusQuery, () => status);
  setHandler(auditDecisionSignal, (d) => void audits.push(d));
  // An update at the wrong moment is rejected at once (the CLI says why); a signal waits in
  // its inbox and, if still stale when its stage comes, is recorded as refused.
  const onlyIn = (stage: Stage, what: string) => (_message: unknown) => {
    if (status.stage !== stage) throw new Error(`${what} only while ${stage}; ${spec.name} is ${status.stage} now (mlc status ${spec.name})`);
  };
  setHandler(auditDecisionUpdate, (d) => audits.pushAndAwait(d), { validator: onlyIn('awaiting_audit', 'audit decisions are taken') });
  setHandler(deployRequestSignal, (d) => void deploys.push(d));
  setHandler(deployRequestUpdate, (d) => deploys.pushAndAwait(d), { validator: onlyIn('awaiting_deploy', 'deployments are requested') });
  setHandler(retrainRequestSignal, (d) => void retrains.push(d));
  setHandler(rollbackRequestSignal, (d) => void rollbacks.push(d));
  setHandler(rollbackRequestUpdate, (d) => rollbacks.pushAndAwait(d), { validator: onlyIn('monitoring', 'rollbacks are taken') });

  const enter = (stage: Stage, details: string) => {
    status.stage = stage;
    upsertSearchAttributes({
      [searchAttributes.stage]: [stage],
      [searchAttributes.model]: [spec.name],
      [searchAttributes.version]: [status.version === null ? 'none' : String(status.version)],
    });
    setCurrentDetails(`**${spec.name}** generation ${generation}, attempt ${status.attempt}: ${details}`);
  };
  const record = async (d: Omit<DecisionView, 'at'>, key: string) => {
    const view: DecisionView = { ...d, at: new Date().toISOString() };
    await control.recordDecision({
      model: spec.name, version: d.version, kind: d.kind, outcome: d.outcome, actor: d.actor, reason: d.reason,
      artifactSha256: d.sha256 ?? status.artifactSha256, workflowId, decidedAt: view.at, decisionKey: `${chainKey}/g${generation}/${key}`,
    });
    status.decisions.push(view);
    status.lastDecision = view;
  };
  /** Refusals are recorded too: who tried what, and why it did not count. */
  const refuse = (kind: DecisionView['kind'], actor: string, why: string, n: number) =>
    record({ kind, outcome: 'refused', actor, reason: why, version: status.version }, `${kind}-${n}`);
  /** Messages that arrived before their stage (about an older version, or none yet) do not count. */
  const refuseStale = async <T extends { actor: string }>(inbox: Inbox<T>, kind: DecisionView['kind'], why: string) => {
    for (const stale of inbox.drain()) {
      await refuse(kind, stale.message.actor, stale.invalid ?? why, stale.n);
      inbox.settle(stale.n, { accepted: false, why });
    }
  };

  try {
    return await runGeneration();
  } catch (err) {
    // Failed lifecycles stay findable (MlcStage = "failed") and explain themselves to `status`.
    if (!isCancellation(err) && !(err instanceof ContinueAsNew)) {
      status.error = err instanceof Error ? err.message : String(err);
      enter('failed', status.error.split('\n')[0]!);
    }
    throw err;
  }

  async function runGeneration(): Promise<LifecycleStatus> {
    // ── requirements → preprocess ──
    enter('preprocessing', input.reason ?? 'cleaning and splitting the data');
    const dataset = await control.preprocessData({ spec, specDir: input.specDir, generation, extraDataKeys: input.extraDataKeys ?? [] });
    status.datasetHash = dataset.datasetHash;

    // ── train → evaluate → audit, until an auditor approves ──
    let params = spec.training.params;
    for (;;) {
      enter('training', `training on cluster "${spec.training.cluster}"`);
      const trained = await trainModel({
        lifecycleKey: chainKey, spec, generation, attempt: status.attempt, params,
        datasetHash: dataset.datasetHash, datasetDir: dataset.datasetDir,
        onProgress: (view) => { status.training = view; },
      });
      status.version = trained.version;
      status.artifactSha256 = trained.sha256;

      enter('evaluating', `scoring the test split with version ${trained.version} through ONNX`);
      status.evaluation = await scoring.evaluateModel({
        model: spec.name, version: trained.version, runKey: trained.runKey, runDir: trained.runDir, datasetDir: dataset.datasetDir, labels: spec.labels, gates: spec.gates,
      });

      enter('awaiting_audit', `version ${trained.version} awaits an auditor (${spec.roles.auditors.join(', ')}); gates ${status.evaluation.gatesPassed ? 'passed' : 'FAILED'}`);
      await refuseStale(audits, 'audit', `sent before version ${trained.version} was ready for audit`);
      const decision = await nextAccepted(audits, (d) => judgeAuditDecision(spec, d, { version: trained.version, gatesPassed: status.evaluation!.gatesPassed }),
        (d, why, n) => refuse('audit', d.actor, why, n));
      const isApproval = decision.decision === 'approve';
      // Change stage in the same step that accepts the approval, so a deployer who acts on the
      // answer at once finds the lifecycle already waiting for them.
      if (isApproval) {
        enter('awaiting_deploy', `version ${trained.version} approved; waiting for a deployer (${spec.roles.deployers.join(', ')})`);
        await refuseStale(deploys, 'deploy', `sent before version ${trained.version} was approved`);
      }
      await record({ kind: 'audit', outcome: isApproval ? 'approved' : 'rejected', actor: decision.actor, reason: decision.reason, version: trained.version, sha256: trained.sha256 }, `audit-${audits.handled}`);
      if (isApproval) break;
      params = applyOverride(params, decision.paramsOverride);
      status.attempt += 1;
    }

    // ── deploy (manual); a deployment that fails leaves the version waiting for the next try ──
    const approved = status.version!;
    for (;;) {
      const deploy = await nextAccepted(deploys, (d) => judgeDeployRequest(spec, d.actor, approved, d.version),
        (d, why, n) => refuse('deploy', d.actor, why, n));
      enter('deploying', `deploying version ${approved} to the ${spec.deployment.target} endpoint`);
      const suffix = deploys.handled > 1 ? `-${deploys.handled}` : '';
      const outcome = await deployVersion({
        spec, version: approved, auditedSha256: status.artifactSha256!, actor: deploy.actor, deploymentKey: `${chainKey}/g${generation}/deploy${suffix}`,
        lifecycleWorkflowId: workflowId, generation, onStep: (step) => setCurrentDetails(`**${spec.name}** deploying version ${approved}: ${step}`),
      });
      if (outcome.ok) {
        await record({ kind: 'deploy', outcome: 'approved', actor: deploy.actor, reason: deploy.reason, version: approved }, `deploy${suffix}`);
        break;
      }
      await record({ kind: 'deploy', outcome: 'failed', actor: deploy.actor, reason: outcome.why, version: approved }, `deploy${suffix}`);
      enter('awaiting_deploy', `deploying version ${approved} failed (${outcome.why.split('\n')[0]}); a deployer may try again`);
    }
    status.deployedVersion = approved;
    await control.ensureMonitoringSchedule({ model: spec.name, lifecycleWorkflowId: workflowId, labels: spec.labels, monitoring: spec.monitoring, deployment: spec.deployment });

    // ── monitor until a retrain is requested; deployers may roll back meanwhile ──
    const live = () => `version ${status.deployedVersion} is live; monitored every ${spec.monitoring.every}`;
    enter('monitoring', live());
    await refuseStale(retrains, 'retrain', `requested before version ${approved} was live; the monitor will judge this version on its own data`);
    await refuseStale(rollbacks, 'rollback', `sent before version ${approved} was live`);
    let retrain: RetrainRequest | null = null;
    while (!retrain) {
      await condition(() => rollbacks.hasPending() || retrains.hasPending());
      if (rollbacks.hasPending()) {
        const rollback = await judgeNext(rollbacks, (r) => judgeRollback(spec, r, status.decisions, status.deployedVersion), (r, why, n) => refuse('rollback', r.actor, why, n));
        if (!rollback) continue;
        enter('deploying', `rolling back to version ${rollback.version}`);
        const sha256 = approvedVersions(status.decisions).get(rollback.version)!;
        const outcome = await deployVersion({
          spec, version: rollback.version, auditedSha256: sha256, actor: rollback.actor, deploymentKey: `${chainKey}/g${generation}/rollback-${rollbacks.handled}`,
          lifecycleWorkflowId: workflowId, generation, rollback: true, onStep: (step) => setCurrentDetails(`**${spec.name}** rolling back to version ${rollback.version}: ${step}`),
        });
        if (outcome.ok) {
          await record({ kind: 'rollback', outcome: 'approved', actor: rollback.actor, reason: rollback.reason, version: rollback.version, sha256 }, `rollback-${rollbacks.handled}`);
          status.deployedVersion = rollback.version;
        } else {
          await record({ kind: 'rollback', outcome: 'failed', actor: rollback.actor, reason: outcome.why, version: rollback.version, sha256 }, `rollback-${rollbacks.handled}`);
        }
        enter('monitoring', live());
        continue;
      }
      retrain = await judgeNext(retrains, (r) => r.actor === MONITOR_ACTOR || spec.roles.auditors.includes(r.actor) || spec.roles.deployers.includes(r.actor)
        ? { accepted: true } : { accepted: false, why: `${r.actor} may not request a retrain of ${spec.name}` },
      (r, why, n) => refuse('retrain', r.actor, why, n));
    }
    await record({ kind: 'retrain', outcome: 'requested', actor: retrain.actor, reason: retrain.reason, version: status.deployedVersion }, 'retrain');

    enter('retraining', `retraining: ${retrain.reason}`);
    await control.pauseMonitoringSchedule({ model: spec.name, note: `retraining after: ${retrain.reason}` });
    const feedback = await control.exportFeedbackData({ model: spec.name, generation });
    return continueAsNew<typeof modelLifecycle>({
      ...input,
      generation: generation + 1,
      extraDataKeys: [...(input.extraDataKeys ?? []), ...(feedback.rows > 0 ? [feedback.key] : [])],
      reason: `generation ${generation + 1}: ${retrain.reason}`,
      history: status.decisions,
      deployedVersion: status.deployedVersion,
    });
  }
}

/**
 * Wait for the next message that counts. Every message is judged; refusals are recorded and
 * reported back to an update's caller, and the wait goes on.
 */
async function nextAccepted<T>(inbox: Inbox<T>, judge: (m: T) => Verdict, onRefused: (m: T, why: string, n: number) => Promise<void>): Promise<T> {
  for (;;) {
    await condition(() => inbox.hasPending());
    const accepted = await judgeNext(inbox, judge, onRefused);
    if (accepted) return accepted;
  }
}

/** Judge the oldest pending message: the message if it counts, null (recorded) if refused. */
async function judgeNext<T>(inbox: Inbox<T>, judge: (m: T) => Verdict, onRefused: (m: T, why: string, n: number) => Promise<void>): Promise<T | null> {
  const { message, n, invalid } = inbox.take();
  const verdict: Verdict = invalid ? { accepted: false, why: invalid } : judge(message);
  if (!verdict.accepted) await onRefused(message, verdict.why, n);
  inbox.settle(n, verdict);
  return verdict.accepted ? message : null;
}
