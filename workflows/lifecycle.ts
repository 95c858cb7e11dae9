// modelLifecycle: one workflow per model, one generation per continue-as-new.
// requirements → preprocess → train → evaluate → ⏸ audit (reject → train again)
//   → ⏸ deploy → monitor (Schedule) → retrain (continue-as-new with feedback data)
// The workflow function only wires messages to a Lifecycle and runs its stages in order; the
// state they share (what the status query returns) lives in the class, one method per stage.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PreparedDataset } from '../activities/preprocess';
import { rootCauseMessage } from '../domain/errors';
import { summarizeHistory } from '../domain/history-summary';
import {
  applyOverride,
  approvedVersions,
  auditDecisionSchema,
  deployRequestSchema,
  judgeAuditDecision,
  judgeDeployRequest,
  judgeRetrainRequest,
  judgeRollback,
  retrainRequestSchema,
  rollbackRequestSchema,
  type AuditDecision,
  type DecisionKind,
  type DecisionView,
  type DeployRequest,
  type EvaluationSummary,
  type LifecycleInput,
  type LifecycleStatus,
  type MonitoringResume,
  type RetrainRequest,
  type RollbackRequest,
  type Stage,
} from '../domain/lifecycle';
import { parseSpec, SpecError, type ModelSpec, type TrainingParams } from '../domain/spec';
import { searchAttributes } from '../domain/temporal-names';
import { control, scoring } from './activities';
import { deployVersion } from './deployment';
import { Inbox, type OnRefused } from './inbox';
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
import { trainModel, type TrainedModel } from './training';

export { MONITOR_ACTOR } from '../domain/lifecycle';

export async function modelLifecycle(input: LifecycleInput): Promise<LifecycleStatus> {
  // A spec from `temporal workflow start` or the Web UI gets the same schema, defaults and
  // field-naming errors as one from `mlc start`, here, before anything runs.
  const lifecycle = new Lifecycle({ ...input, spec: validSpec(input.spec) });
  const { audits, deploys, retrains, rollbacks } = lifecycle;
  setHandler(statusQuery, () => lifecycle.status);
  // An update at the wrong moment is rejected at once (the CLI says why); a signal waits in
  // its inbox and, if still stale when its stage comes, is recorded as refused.
  setHandler(auditDecisionSignal, (d) => void audits.push(d));
  setHandler(auditDecisionUpdate, (d) => audits.pushAndAwait(d), lifecycle.onlyIn('awaiting_audit', 'audit decisions are taken'));
  setHandler(deployRequestSignal, (d) => void deploys.push(d));
  setHandler(deployRequestUpdate, (d) => deploys.pushAndAwait(d), lifecycle.onlyIn('awaiting_deploy', 'deployments are requested'));
  setHandler(retrainRequestSignal, (d) => void retrains.push(d));
  setHandler(rollbackRequestSignal, (d) => void rollbacks.push(d));
  setHandler(rollbackRequestUpdate, (d) => rollbacks.pushAndAwait(d), lifecycle.onlyIn('monitoring', 'rollbacks are taken'));

  try {
    // A run that continued as new from a monitoring wait goes straight back to it.
    if (!input.resume) {
      const dataset = await lifecycle.preprocess();
      await lifecycle.trainUntilApproved(dataset);
      await lifecycle.deploy();
    }
    const request = await lifecycle.monitor();
    return await lifecycle.retrain(request);
  } catch (err) {
    lifecycle.fail(err);
    throw err;
  }
}

function validSpec(raw: unknown): ModelSpec {
  try {
    return parseSpec(raw, 'in the workflow input');
  } catch (err) {
    if (err instanceof SpecError) throw ApplicationFailure.create({ type: 'SpecError', message: err.message, nonRetryable: true });
    throw err;
  }
}

/** One generation of one model's lifecycle: its status, its inboxes, and one method per stage. */
class Lifecycle {
  readonly status: LifecycleStatus;
  readonly audits = new Inbox(auditDecisionSchema);
  readonly deploys = new Inbox(deployRequestSchema);
  readonly retrains = new Inbox(retrainRequestSchema);
  readonly rollbacks = new Inbox(rollbackRequestSchema);
  private readonly spec: ModelSpec;
  private readonly generation: number;
  private readonly workflowId: string;
  // Everything this lifecycle writes (runs, jobs, decisions, deployments) is keyed by its
  // execution chain, stable across retries, replays and continue-as-new, so a lifecycle
  // started again later under the same workflow id never adopts an earlier one's records.
  private readonly chainKey: string;
  // Continue-as-new hops within this generation; part of decision keys, because each hop's
  // inboxes count their messages from zero again.
  private readonly segment: number;

  constructor(private readonly input: LifecycleInput) {
    this.spec = input.spec;
    this.generation = input.generation ?? 1;
    const { workflowId, firstExecutionRunId } = workflowInfo();
    this.workflowId = workflowId;
    this.chainKey = `${workflowId}-${firstExecutionRunId.replace(/-/g, '').slice(-12)}`;
    this.status = {
      model: this.spec.name,
      stage: 'preprocessing',
      generation: this.generation,
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
      ...input.resume?.status,
    };
    this.segment = input.resume?.segment ?? 0;
  }

  /** An update's options: its validator refuses at once what only counts in another stage. */
  onlyIn(stage: Stage, what: string): { validator: (message: unknown) => void } {
    const validator = () => {
      const { name } = this.spec;
      if (this.status.stage === stage) return;
      throw new Error(`${what} only while ${stage}; ${name} is ${this.status.stage} now (mlc status ${name})`);
    };
    return { validator };
  }

  /** requirements → preprocess: the cleaned, split dataset this generation trains on. */
  async preprocess(): Promise<PreparedDataset> {
    const { spec, input } = this;
    this.enter('preprocessing', input.reason ?? 'cleaning and splitting the data');
    const dataset = await control.preprocessData({
      spec,
      specDir: input.specDir,
      generation: this.generation,
      extraDataKeys: input.extraDataKeys ?? [],
    });
    this.status.datasetHash = dataset.datasetHash;
    return dataset;
  }

  /** train → evaluate → audit, until an auditor approves; a reject's changes go into the next attempt. */
  async trainUntilApproved(dataset: PreparedDataset): Promise<void> {
    let params = this.spec.training.params;
    for (;;) {
      const trained = await this.train(dataset, params);
      const evaluation = await this.evaluate(dataset, trained);
      const decision = await this.audit(trained, evaluation);
      if (decision.decision === 'approve') return;
      params = applyOverride(params, decision.paramsOverride);
      this.status.attempt += 1;
    }
  }

  async train(dataset: PreparedDataset, params: TrainingParams): Promise<TrainedModel> {
    const { spec, status } = this;
    this.enter('training', `training on cluster "${spec.training.cluster}"`);
    const trained = await trainModel({
      lifecycleKey: this.chainKey,
      spec,
      generation: this.generation,
      attempt: status.attempt,
      params,
      datasetHash: dataset.datasetHash,
      datasetDir: dataset.datasetDir,
      onProgress: (view) => {
        status.training = view;
      },
    });
    status.version = trained.version;
    status.artifactSha256 = trained.sha256;
    return trained;
  }

  async evaluate(dataset: PreparedDataset, trained: TrainedModel): Promise<EvaluationSummary> {
    const { spec } = this;
    this.enter('evaluating', `scoring the test split with version ${trained.version} through ONNX`);
    this.status.evaluation = await scoring.evaluateModel({
      model: spec.name,
      version: trained.version,
      runKey: trained.runKey,
      runDir: trained.runDir,
      datasetDir: dataset.datasetDir,
      labels: spec.labels,
      gates: spec.gates,
    });
    return this.status.evaluation;
  }

  /** ⏸ audit: wait for the first decision that counts. */
  async audit(trained: TrainedModel, evaluation: EvaluationSummary): Promise<AuditDecision> {
    const { spec } = this;
    const { version, sha256 } = trained;
    const gates = evaluation.gatesPassed ? 'passed' : 'FAILED';
    this.enter('awaiting_audit', `version ${version} awaits an auditor (${spec.roles.auditors.join(', ')}); gates ${gates}`);
    await this.audits.refuseQueued(`sent before version ${version} was ready for audit`, this.refuser('audit'));
    const awaiting = { version, gatesPassed: evaluation.gatesPassed };
    const decision = await this.audits.nextAccepted((d) => judgeAuditDecision(spec, d, awaiting), this.refuser('audit'));
    const isApproval = decision.decision === 'approve';
    // Change stage in the same step that accepts the approval, so a deployer who acts on the
    // answer at once finds the lifecycle already waiting for them.
    if (isApproval) {
      this.enter('awaiting_deploy', `version ${version} approved; waiting for a deployer (${spec.roles.deployers.join(', ')})`);
      await this.deploys.refuseQueued(`sent before version ${version} was approved`, this.refuser('deploy'));
    }
    const { actor, reason } = decision;
    const outcome = isApproval ? 'approved' : 'rejected';
    await this.record({ kind: 'audit', outcome, actor, reason, version, sha256 }, `audit-${this.audits.handled}`);
    return decision;
  }

  /** ⏸ deploy (manual); a deployment that fails leaves the version waiting for the next try. */
  async deploy(): Promise<void> {
    const { spec, status } = this;
    const approved = status.version!;
    for (;;) {
      const judge = (d: DeployRequest) => judgeDeployRequest(spec, d.actor, approved, d.version);
      const request = await this.deploys.nextAccepted(judge, this.refuser('deploy'));
      this.enter('deploying', `deploying version ${approved} to the ${spec.deployment.target} endpoint`);
      const key = this.deploys.handled > 1 ? `deploy-${this.deploys.handled}` : 'deploy';
      const outcome = await this.ship(approved, status.artifactSha256!, request.actor, key, `deploying version ${approved}`);
      if (outcome.ok) {
        await this.record({ kind: 'deploy', outcome: 'approved', actor: request.actor, reason: request.reason, version: approved }, key);
        break;
      }
      await this.record({ kind: 'deploy', outcome: 'failed', actor: request.actor, reason: outcome.why, version: approved }, key);
      this.enter('awaiting_deploy', `deploying version ${approved} failed (${outcome.why.split('\n')[0]}); a deployer may try again`);
    }
    status.deployedVersion = approved;
    await control.ensureMonitoringSchedule({
      model: spec.name,
      lifecycleWorkflowId: this.workflowId,
      labels: spec.labels,
      monitoring: spec.monitoring,
      deployment: spec.deployment,
    });
  }

  /** Monitor until a retrain request counts; deployers may roll back meanwhile. */
  async monitor(): Promise<RetrainRequest> {
    const { spec, status } = this;
    const live = status.deployedVersion;
    this.enter('monitoring', this.liveDetails());
    // Messages that reach a resumed run were sent while the version was live: they count.
    if (!this.input.resume) {
      const ownData = 'the monitor will judge this version on its own data';
      await this.retrains.refuseQueued(`requested before version ${live} was live; ${ownData}`, this.refuser('retrain'));
      await this.rollbacks.refuseQueued(`sent before version ${live} was live`, this.refuser('rollback'));
    }
    for (;;) {
      await condition(() => this.rollbacks.hasPending() || this.retrains.hasPending() || workflowInfo().continueAsNewSuggested);
      if (!this.rollbacks.hasPending() && !this.retrains.hasPending()) return this.keepMonitoringAsNew();
      if (this.rollbacks.hasPending()) {
        const judge = (r: RollbackRequest) => judgeRollback(spec, r, status.decisions, status.deployedVersion);
        const rollback = await this.rollbacks.judgeOldest(judge, this.refuser('rollback'));
        if (rollback) await this.rollBack(rollback);
        continue;
      }
      const retrain = await this.retrains.judgeOldest((r) => judgeRetrainRequest(spec, r), this.refuser('retrain'));
      if (retrain) return retrain;
    }
  }

  /**
   * A version can stay live for years, and every rollback, refused message and monitoring
   * signal lengthens the history. When Temporal suggests it, the wait continues in a fresh run
   * of the same generation, carrying a bounded summary (domain/history-summary.ts).
   */
  private async keepMonitoringAsNew(): Promise<never> {
    const { status, input } = this;
    await condition(allHandlersFinished);
    const { attempt, datasetHash, training, version, artifactSha256, evaluation } = status;
    const resume: MonitoringResume = {
      segment: this.segment + 1,
      status: { attempt, datasetHash, training, version, artifactSha256, evaluation },
    };
    return continueAsNew<typeof modelLifecycle>({
      ...input,
      history: summarizeHistory(status.decisions),
      deployedVersion: status.deployedVersion,
      resume,
    });
  }

  /** A deployer puts an earlier approved version back live: exactly its approved bytes. */
  async rollBack(r: RollbackRequest): Promise<void> {
    this.enter('deploying', `rolling back to version ${r.version}`);
    const sha256 = approvedVersions(this.status.decisions).get(r.version)!;
    const key = `rollback-${this.rollbacks.handled}`;
    const outcome = await this.ship(r.version, sha256, r.actor, key, `rolling back to version ${r.version}`, true);
    if (outcome.ok) {
      await this.record({ kind: 'rollback', outcome: 'approved', actor: r.actor, reason: r.reason, version: r.version, sha256 }, key);
      this.status.deployedVersion = r.version;
    } else {
      await this.record({ kind: 'rollback', outcome: 'failed', actor: r.actor, reason: outcome.why, version: r.version, sha256 }, key);
    }
    this.enter('monitoring', this.liveDetails());
  }

  /** retrain: continue as the next generation, with the labelled feedback rows added to the data. */
  async retrain(r: RetrainRequest): Promise<never> {
    const { spec, status, generation, input } = this;
    const version = status.deployedVersion;
    await this.record({ kind: 'retrain', outcome: 'requested', actor: r.actor, reason: r.reason, version }, 'retrain');
    this.enter('retraining', `retraining: ${r.reason}`);
    await control.pauseMonitoringSchedule({ model: spec.name, note: `retraining after: ${r.reason}` });
    const feedback = await control.exportFeedbackData({ model: spec.name, generation, deployment: spec.deployment });
    const { resume: _resumedFrom, ...next } = input;
    return continueAsNew<typeof modelLifecycle>({
      ...next,
      generation: generation + 1,
      extraDataKeys: [...(input.extraDataKeys ?? []), ...(feedback.rows > 0 ? [feedback.key] : [])],
      reason: `generation ${generation + 1}: ${r.reason}`,
      history: summarizeHistory(status.decisions),
      deployedVersion: status.deployedVersion,
    });
  }

  /** Failed lifecycles stay findable (MlcStage = "failed") and explain themselves to `status`. */
  fail(err: unknown): void {
    if (isCancellation(err) || err instanceof ContinueAsNew) return;
    this.status.error = rootCauseMessage(err);
    this.enter('failed', this.status.error.split('\n')[0]!);
  }

  private enter(stage: Stage, details: string): void {
    const { spec, status } = this;
    status.stage = stage;
    upsertSearchAttributes({
      [searchAttributes.stage]: [stage],
      [searchAttributes.model]: [spec.name],
      [searchAttributes.version]: [status.version === null ? 'none' : String(status.version)],
    });
    setCurrentDetails(`**${spec.name}** generation ${this.generation}, attempt ${status.attempt}: ${details}`);
  }

  private liveDetails(): string {
    return `version ${this.status.deployedVersion} is live; monitored every ${this.spec.monitoring.every}`;
  }

  /** Decision keys (and deployment keys) are unique within the execution chain and generation. */
  private keyed(key: string): string {
    const segment = this.segment ? `s${this.segment}/` : '';
    return `${this.chainKey}/g${this.generation}/${segment}${key}`;
  }

  private async record(d: Omit<DecisionView, 'at'>, key: string): Promise<void> {
    const { spec, status } = this;
    const view: DecisionView = { ...d, at: new Date().toISOString() };
    await control.recordDecision({
      model: spec.name,
      version: d.version,
      kind: d.kind,
      outcome: d.outcome,
      actor: d.actor,
      reason: d.reason,
      artifactSha256: d.sha256 ?? status.artifactSha256,
      workflowId: this.workflowId,
      decidedAt: view.at,
      decisionKey: this.keyed(key),
    });
    status.decisions.push(view);
    status.lastDecision = view;
  }

  /** Refusals are recorded too: who tried what, and why it did not count. */
  private refuser(kind: DecisionKind): OnRefused<{ actor: string }> {
    return (m, why, n) => {
      const { version } = this.status;
      return this.record({ kind, outcome: 'refused', actor: m.actor, reason: why, version }, `${kind}-${n}`);
    };
  }

  /** Every deployment and rollback goes through deployVersion; the details line follows its steps. */
  private ship(version: number, auditedSha256: string, actor: string, key: string, doing: string, rollback = false) {
    const { spec } = this;
    return deployVersion({
      spec,
      version,
      auditedSha256,
      actor,
      deploymentKey: this.keyed(key),
      lifecycleWorkflowId: this.workflowId,
      generation: this.generation,
      ...(rollback ? { rollback } : {}),
      onStep: (step) => setCurrentDetails(`**${spec.name}** ${doing}: ${step}`),
    });
  }
}
