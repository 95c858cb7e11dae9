// modelLifecycle: one workflow per model, one generation per continue-as-new.
// requirements → preprocess → train → evaluate → ⏸ audit (reject → train again)
//   → ⏸ deploy → monitor (Schedule) → retrain (continue-as-new with feedback data)
import {
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  applyOverride,
  auditDecisionSchema,
  deployRequestSchema,
  judgeAuditDecision,
  judgeDeployRequest,
  retrainRequestSchema,
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
  statusQuery,
} from './messages';
import { trainModel } from './training';
import { Inbox } from './inbox';

/** The monitor signals retrain requests under this name. */
export const MONITOR_ACTOR = 'mlc-monitor';

export async function modelLifecycle(input: LifecycleInput): Promise<LifecycleStatus> {
  const { spec } = input;
  const generation = input.generation ?? 1;
  const workflowId = workflowInfo().workflowId;
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
  setHandler(statusQuery, () => status);
  setHandler(auditDecisionSignal, (d) => void audits.push(d));
  setHandler(auditDecisionUpdate, (d) => audits.pushAndAwait(d));
  setHandler(deployRequestSignal, (d) => void deploys.push(d));
  setHandler(deployRequestUpdate, (d) => deploys.pushAndAwait(d));
  setHandler(retrainRequestSignal, (d) => void retrains.push(d));

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
      artifactSha256: status.artifactSha256, workflowId, decidedAt: view.at, decisionKey: `${workflowId}/g${generation}/${key}`,
    });
    status.decisions.push(view);
    status.lastDecision = view;
  };
  /** Refusals are recorded too: who tried what, and why it did not count. */
  const refuse = (kind: DecisionView['kind'], actor: string, why: string, n: number) =>
    record({ kind, outcome: 'refused', actor, reason: why, version: status.version }, `${kind}-${n}`);

  // ── requirements → preprocess ──
  enter('preprocessing', input.reason ?? 'cleaning and splitting the data');
  const dataset = await control.preprocessData({ spec, specDir: input.specDir, generation, extraDataKeys: input.extraDataKeys ?? [] });
  status.datasetHash = dataset.datasetHash;

  // ── train → evaluate → audit, until an auditor approves ──
  let params = spec.training.params;
  for (;;) {
    enter('training', `training on cluster "${spec.training.cluster}"`);
    const trained = await trainModel({
      workflowId, spec, generation, attempt: status.attempt, params,
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
    const decision = await nextAccepted(audits, (d) => judgeAuditDecision(spec, d, { version: trained.version, gatesPassed: status.evaluation!.gatesPassed }),
      (d, why, n) => refuse('audit', d.actor, why, n));
    await record({ kind: 'audit', outcome: decision.decision === 'approve' ? 'approved' : 'rejected', actor: decision.actor, reason: decision.reason, version: trained.version }, `audit-${audits.handled}`);
    if (decision.decision === 'approve') break;
    params = applyOverride(params, decision.paramsOverride);
    status.attempt += 1;
  }

  // ── deploy (manual) ──
  const approved = status.version!;
  enter('awaiting_deploy', `version ${approved} approved; waiting for a deployer (${spec.roles.deployers.join(', ')})`);
  const deploy = await nextAccepted(deploys, (d) => judgeDeployRequest(spec, d.actor, approved, d.version),
    (d, why, n) => refuse('deploy', d.actor, why, n));
  enter('deploying', `deploying version ${approved} to the ${spec.deployment.target} endpoint`);
  await control.deployModelVersion({ model: spec.name, version: approved, auditedSha256: status.artifactSha256!, actor: deploy.actor, deploymentKey: `${workflowId}/g${generation}/deploy` });
  await record({ kind: 'deploy', outcome: 'approved', actor: deploy.actor, reason: deploy.reason, version: approved }, 'deploy');
  status.deployedVersion = approved;
  await control.ensureMonitoringSchedule({ model: spec.name, lifecycleWorkflowId: workflowId, labels: spec.labels, monitoring: spec.monitoring });

  // ── monitor until a retrain is requested ──
  enter('monitoring', `version ${approved} is live; monitored every ${spec.monitoring.every}`);
  // Requests sent while an older version was live (or while this one trained) are stale.
  for (const stale of retrains.drain()) {
    const why = `requested before version ${approved} was live; the monitor will judge this version on its own data`;
    await refuse('retrain', stale.message.actor, why, stale.n);
    retrains.settle(stale.n, { accepted: false, why });
  }
  const retrain = await nextAccepted(retrains, (r) => r.actor === MONITOR_ACTOR || spec.roles.auditors.includes(r.actor) || spec.roles.deployers.includes(r.actor)
    ? { accepted: true } : { accepted: false, why: `${r.actor} may not request a retrain of ${spec.name}` },
  (r, why, n) => refuse('retrain', r.actor, why, n));
  await record({ kind: 'retrain', outcome: 'requested', actor: retrain.actor, reason: retrain.reason, version: approved }, 'retrain');

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

/**
 * Wait for the next message that counts. Every message is judged; refusals are recorded and
 * reported back to an update's caller, and the wait goes on.
 */
async function nextAccepted<T>(inbox: Inbox<T>, judge: (m: T) => Verdict, onRefused: (m: T, why: string, n: number) => Promise<void>): Promise<T> {
  for (;;) {
    await condition(() => inbox.hasPending());
    const { message, n, invalid } = inbox.take();
    const verdict: Verdict = invalid ? { accepted: false, why: invalid } : judge(message as T);
    if (!verdict.accepted) await onRefused(message as T, verdict.why, n);
    inbox.settle(n, verdict);
    if (verdict.accepted) return message as T;
  }
}
