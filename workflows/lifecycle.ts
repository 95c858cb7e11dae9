// modelLifecycle: one workflow per model, one generation per continue-as-new.
// requirements → preprocess → train → evaluate → ⏸ audit (reject → train again)
//   → ⏸ deploy → monitor (Schedule) → retrain (continue-as-new with feedback data)
// An auditor or deployer may stop it at any stage but deploying (mlc stop): recorded, then the
// stages' scope is cancelled and the workflow completes at "stopped".
// The workflow function only wires messages to a Lifecycle and runs its stages in order; the
// state they share (what the status query returns) lives in the class, one method per stage.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PreparedDataset } from '../activities/preprocess';
import { checkStatement, type DecisionSubjects, type SignedDecisionKind } from '../domain/decision-statement';
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
  judgeStopRequest,
  leftOnEndpoint,
  refusedWhileDeploying,
  retrainRequestSchema,
  rollbackRequestSchema,
  stopRequestSchema,
  type AuditDecision,
  type DecisionKind,
  type DecisionView,
  type DeployRequest,
  type EvaluationSummary,
  type LifecycleInput,
  type LifecycleStatus,
  type MonitoringResume,
  type RetrainRequest,
  type Verdict,
  type RollbackRequest,
  type Stage,
  type StopRequest,
} from '../domain/lifecycle';
import { parseSpec, SpecError, type ModelSpec, type TrainingParams } from '../domain/spec';
import { searchAttributes } from '../domain/temporal-names';
import { control, scoring } from './activities';
import { deployVersion, retireVersion } from './deployment';
import { Inbox, type OnRefused } from './inbox';
import { openSignedMessage, type Signable } from './signed-message';
import {
  auditDecisionSignal,
  auditDecisionUpdate,
  deployRequestSignal,
  deployRequestUpdate,
  retrainRequestSignal,
  retrainRequestUpdate,
  rollbackRequestSignal,
  rollbackRequestUpdate,
  statusQuery,
  stopRequestSignal,
  stopRequestUpdate,
} from './messages';
import { trainModel, type TrainedModel } from './training';

export { MONITOR_ACTOR } from '../domain/lifecycle';

/** patched() id of "decisions are checked against signed statements" (docs/changing-workflows.md). */
export const SIGNED_DECISIONS = 'signed-decisions';
/** patched() id of "a cancelled lifecycle pauses its monitoring and says it was cancelled". */
export const CANCEL_PAUSES_MONITORING = 'cancel-pauses-monitoring';
/** A stop accepted while deploying waits for the rollout to end; before, it was refused. */
export const STOP_WAITS_FOR_ROLLOUT = 'stop-waits-for-rollout';

export async function modelLifecycle(input: LifecycleInput): Promise<LifecycleStatus> {
  // A spec from `temporal workflow start` or the Web UI gets the same schema, defaults and
  // field-naming errors as one from `mlc start`, here, before anything runs.
  const lifecycle = new Lifecycle({ ...input, spec: validSpec(input.spec) });
  const { audits, deploys, retrains, rollbacks, stops } = lifecycle;
  setHandler(statusQuery, () => lifecycle.status);
  // An update at the wrong moment is rejected at once (the CLI says why); a signal waits in
  // its inbox and, if still stale when its stage comes, is recorded as refused.
  setHandler(auditDecisionSignal, (d) => void audits.push(d));
  setHandler(auditDecisionUpdate, (d) => audits.pushAndAwait(d), lifecycle.onlyIn('awaiting_audit', 'audit decisions are taken'));
  setHandler(deployRequestSignal, (d) => void deploys.push(d));
  setHandler(deployRequestUpdate, (d) => deploys.pushAndAwait(d), lifecycle.onlyIn('awaiting_deploy', 'deployments are requested'));
  setHandler(retrainRequestSignal, (d) => void retrains.push(d));
  setHandler(retrainRequestUpdate, (d) => retrains.pushAndAwait(d), lifecycle.onlyIn('monitoring', 'retrains are requested'));
  setHandler(rollbackRequestSignal, (d) => void rollbacks.push(d));
  setHandler(rollbackRequestUpdate, (d) => rollbacks.pushAndAwait(d), lifecycle.onlyIn('monitoring', 'rollbacks are taken'));
  setHandler(stopRequestSignal, (d) => void stops.push(d));
  setHandler(stopRequestUpdate, (d) => stops.pushAndAwait(d));

  // The stages run in a scope of their own, which an accepted stop request cancels. The wait for
  // one is not cancelled with the workflow: a Temporal cancel ends it without a stop request.
  const stages = new CancellationScope();
  void CancellationScope.nonCancellable(() => lifecycle.stopWhenAsked(stages));
  try {
    return await stages.run(async () => {
      // A run that continued as new from a monitoring wait goes straight back to it.
      if (!input.resume) {
        const dataset = await lifecycle.preprocess();
        await lifecycle.trainUntilApproved(dataset);
        await lifecycle.deploy();
      }
      const request = await lifecycle.monitor();
      return await lifecycle.retrain(request);
    });
  } catch (err) {
    if (isCancellation(err) && lifecycle.stopping) return await CancellationScope.nonCancellable(() => lifecycle.stop());
    // Histories cancelled before this change end right here; patched() keeps their replay so.
    if (isCancellation(err) && patched(CANCEL_PAUSES_MONITORING)) await CancellationScope.nonCancellable(() => lifecycle.cancelled());
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
  readonly stops = new Inbox(stopRequestSchema);
  /** The stop request that counted, once one has. */
  stopping: StopRequest | null = null;
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
  // Nonces of signed statements already presented (with their expiry): each counts once.
  private readonly nonces: Map<string, string>;
  // keyid of the key that signed each accepted message, for its decision record.
  private readonly signers = new WeakMap<object, string>();

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
    this.nonces = new Map(input.nonces ?? []);
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
    // A retrain may train differently (spec training.retrain): its own params, and from the live
    // version's weights instead of from scratch.
    const retrain = this.generation > 1 ? this.spec.training.retrain : undefined;
    let params = applyOverride(this.spec.training.params, retrain?.params);
    const initFromVersion = retrain?.from === 'champion' ? this.status.deployedVersion : null;
    for (;;) {
      const trained = await this.train(dataset, params, initFromVersion);
      const evaluation = await this.evaluate(dataset, trained);
      const decision = await this.audit(trained, evaluation);
      if (decision.decision === 'approve') return;
      params = applyOverride(params, decision.paramsOverride);
      this.status.attempt += 1;
    }
  }

  async train(dataset: PreparedDataset, params: TrainingParams, initFromVersion: number | null = null): Promise<TrainedModel> {
    const { spec, status } = this;
    this.enter('training', `training on cluster "${spec.training.cluster}"`);
    const trained = await trainModel({
      lifecycleKey: this.chainKey,
      spec,
      generation: this.generation,
      attempt: status.attempt,
      params,
      initFromVersion,
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
    // What a signed decision about this version must bind; read before the wait so that
    // `mlc audit approve` finds it in the status it signs from.
    this.status.evidence = patched(SIGNED_DECISIONS) ? await control.decisionEvidence({ runDir: trained.runDir }) : null;
    this.enter(
      'awaiting_audit',
      `version ${version} awaits an auditor (${spec.roles.auditors.join(', ')}); gates ${gates}; audit package: ${evaluation.auditPackageKey}`,
    );
    await this.audits.refuseQueued(`sent before version ${version} was ready for audit`, this.refuser('audit'));
    const awaiting = { version, gatesPassed: evaluation.gatesPassed };
    const decision = await this.audits.nextAccepted(
      async (d) => (await this.authenticate(d, d.decision, version, this.status.evidence ?? null)) ?? judgeAuditDecision(spec, d, awaiting),
      this.refuser('audit'),
    );
    const isApproval = decision.decision === 'approve';
    // Change stage in the same step that accepts the approval, so a deployer who acts on the
    // answer at once finds the lifecycle already waiting for them.
    if (isApproval) {
      this.enter('awaiting_deploy', `version ${version} approved; waiting for a deployer (${spec.roles.deployers.join(', ')})`);
      await this.deploys.refuseQueued(`sent before version ${version} was approved`, this.refuser('deploy'));
    }
    const { actor, reason } = decision;
    const outcome = isApproval ? 'approved' : 'rejected';
    await this.record({ kind: 'audit', outcome, actor, reason, version, sha256 }, `audit-${this.audits.handled}`, decision);
    // The approved bytes become immutable on the NAS (only when the artifact root is on TrueNAS).
    const snapshot = this.status.evidence?.snapshot;
    if (isApproval && snapshot) await control.holdApprovedSnapshot({ snapshot });
    return decision;
  }

  /** ⏸ deploy (manual); a deployment that fails leaves the version waiting for the next try. */
  async deploy(): Promise<void> {
    const { spec, status } = this;
    const approved = status.version!;
    for (;;) {
      const judge = async (d: DeployRequest): Promise<Verdict> =>
        (await this.authenticate(d, 'deploy', approved, status.evidence ?? null)) ??
        judgeDeployRequest(spec, d.actor, approved, d.version, approversOf(status.decisions, approved));
      const request = await this.deploys.nextAccepted(judge, this.refuser('deploy'));
      this.enter('deploying', `deploying version ${approved} to the ${spec.deployment.target} endpoint`);
      const key = this.deploys.handled > 1 ? `deploy-${this.deploys.handled}` : 'deploy';
      const outcome = await this.ship(approved, status.artifactSha256!, request.actor, key, `deploying version ${approved}`);
      if (outcome.ok) {
        const reason = withWaiver(spec, request, approversOf(status.decisions, approved));
        await this.record({ kind: 'deploy', outcome: 'approved', actor: request.actor, reason, version: approved }, key, request);
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
    const messages = () => this.rollbacks.hasPending() || this.retrains.hasPending();
    for (;;) {
      await condition(() => messages() || workflowInfo().continueAsNewSuggested);
      if (!messages()) {
        // Handlers still running finish before the next run; an update that arrives meanwhile
        // brings a message this loop must judge first, or its caller would wait forever.
        await condition(() => allHandlersFinished() || messages());
        if (messages()) continue;
        return this.keepMonitoringAsNew();
      }
      if (this.rollbacks.hasPending()) {
        const judge = async (r: RollbackRequest): Promise<Verdict> =>
          (await this.authenticate(r, 'rollback', r.version, null)) ?? judgeRollback(spec, r, status.decisions, status.deployedVersion);
        const rollback = await this.rollbacks.judgeOldest(judge, this.refuser('rollback'));
        if (rollback) await this.rollBack(rollback);
        continue;
      }
      const retrain = await this.retrains.judgeOldest(
        async (r) => (await this.authenticate(r, 'retrain', live, null)) ?? judgeRetrainRequest(spec, r),
        this.refuser('retrain'),
      );
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
    await this.noStopUnderWay();
    const { attempt, datasetHash, training, version, artifactSha256, evaluation } = status;
    const resume: MonitoringResume = {
      segment: this.segment + 1,
      status: { attempt, datasetHash, training, version, artifactSha256, evaluation },
    };
    return continueAsNew<typeof modelLifecycle>({
      ...input,
      history: summarizeHistory(status.decisions),
      deployedVersion: status.deployedVersion,
      nonces: this.unexpiredNonces(),
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
      await this.record({ kind: 'rollback', outcome: 'approved', actor: r.actor, reason: r.reason, version: r.version, sha256 }, key, r);
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
    await this.record({ kind: 'retrain', outcome: 'requested', actor: r.actor, reason: r.reason, version }, 'retrain', r);
    this.enter('retraining', `retraining: ${r.reason}`);
    await control.pauseMonitoringSchedule({ model: spec.name, note: `retraining after: ${r.reason}` });
    const feedback = await control.exportFeedbackData({ model: spec.name, generation, deployment: spec.deployment });
    await this.noStopUnderWay();
    const { resume: _resumedFrom, ...next } = input;
    return continueAsNew<typeof modelLifecycle>({
      ...next,
      generation: generation + 1,
      extraDataKeys: [...(input.extraDataKeys ?? []), ...(feedback.rows > 0 ? [feedback.key] : [])],
      reason: `generation ${generation + 1}: ${r.reason}`,
      history: summarizeHistory(status.decisions),
      deployedVersion: status.deployedVersion,
      nonces: this.unexpiredNonces(),
    });
  }

  /**
   * Waits for a stop request that counts (an auditor's or deployer's, signed where the spec
   * requires it), records it, and cancels `stages`; the workflow then ends in stop().
   */
  async stopWhenAsked(stages: CancellationScope): Promise<void> {
    const { spec, status } = this;
    const judge = async (r: StopRequest): Promise<Verdict> => {
      const verdict = (await this.authenticate(r, r.undeploy ? 'undeploy' : 'stop', status.version, null)) ?? judgeStopRequest(spec, r);
      // Histories from before stops waited for a rollout refused them here, and went on.
      if (verdict.accepted && status.stage === 'deploying' && !patched(STOP_WAITS_FOR_ROLLOUT)) return refusedWhileDeploying(spec);
      return verdict;
    };
    const request = await this.stops.nextAccepted(judge, this.refuser('stop'));
    this.stopping = request;
    // Cut short, a rollout would leave the endpoint's traffic between two versions: one under way
    // ends first (deployed, or failed with the traffic restored), and the record follows it.
    // Only then is there a wait, so every other stop records in the same step as before.
    if (status.stage === 'deploying') await condition(() => status.stage !== 'deploying');
    const { actor, reason } = request;
    await this.record(
      { kind: 'stop', outcome: 'approved', actor, reason, version: status.deployedVersion ?? status.version },
      `stop-${this.stops.handled}`,
      request,
    );
    // So does one that began while the stop was being recorded.
    await condition(() => status.stage !== 'deploying');
    stages.cancel();
  }

  /**
   * Before continuing as new: a stop request queued, being judged or, once accepted, being
   * recorded is settled first. One that counts cancels this wait (the stages' scope), and the
   * lifecycle stops instead of being recorded as stopped and then going on in the next run.
   */
  private async noStopUnderWay(): Promise<void> {
    await condition(() => !this.stops.judging && !this.stops.hasPending() && this.stopping === null);
  }

  /**
   * Stopped on request: a running job was cancelled on the way out (workflows/training.ts). A
   * deployer's `--undeploy` also takes the live version off the endpoint first.
   */
  async stop(): Promise<LifecycleStatus> {
    const { actor, reason, undeploy } = this.stopping!;
    const how = `stopped by ${actor} while ${this.status.stage}: ${reason}`;
    const live = this.status.deployedVersion;
    const retired = undeploy && live !== null ? await this.undeploy(live, actor, reason) : null;
    await this.end('stopped', how, retired);
    return this.status;
  }

  /** The version off the endpoint, recorded; one that could not be taken off stays deployed, and the record says why. */
  private async undeploy(live: number, actor: string, reason: string): Promise<number | null> {
    const key = `undeploy-${this.stops.handled}`;
    const outcome = await retireVersion({ spec: this.spec, actor, reason, retireKey: this.keyed(key) });
    if (!outcome.ok) {
      await this.record({ kind: 'undeploy', outcome: 'failed', actor, reason: outcome.why, version: live }, key);
      return null;
    }
    await this.record({ kind: 'undeploy', outcome: 'approved', actor, reason, version: live }, key);
    this.status.deployedVersion = null;
    return live;
  }

  /** Cancelled (`temporal workflow cancel`, the Web UI): as a stop, with no one on record. */
  cancelled(): Promise<void> {
    return this.end('cancelled', `lifecycle ${this.workflowId} was cancelled while ${this.status.stage}`);
  }

  /**
   * The monitoring Schedule would go on judging a version that no lifecycle will retrain, so it
   * is paused; the version stays deployed unless `retired` names the one just taken off. The
   * stage says so.
   */
  private async end(stage: 'stopped' | 'cancelled', how: string, retired: number | null = null): Promise<void> {
    const after = leftOnEndpoint(this.status.deployedVersion, retired);
    const note = `${how}${after}`;
    if (after) await control.pauseMonitoringSchedule({ model: this.spec.name, note });
    this.enter(stage, note);
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

  private async record(d: Omit<DecisionView, 'at' | 'signedBy'>, key: string, message?: Signable): Promise<void> {
    const { spec, status } = this;
    const signedBy = message && this.signers.get(message);
    const view: DecisionView = { ...d, ...(signedBy ? { signedBy } : {}), at: new Date().toISOString() };
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
      ...(signedBy && message?.signed ? { envelope: message.signed, signerKeyId: signedBy } : {}),
    });
    status.decisions.push(view);
    status.lastDecision = view;
  }

  /**
   * A signed message counts only if its statement verifies under a key registered for its
   * author (an activity checks that) and is about this lifecycle, generation, version and
   * evidence, unexpired and never presented before. Null: go on to the role checks.
   */
  private async authenticate(
    m: Signable & { paramsOverride?: unknown },
    kind: SignedDecisionKind,
    version: number | null,
    evidence: DecisionSubjects | null,
  ): Promise<Verdict | null> {
    const opened = await openSignedMessage(this.spec, m);
    if ('refused' in opened) return opened.refused;
    if ('unsigned' in opened) return null;
    const p = opened.statement.predicate;
    const verdict = checkStatement(opened.statement, {
      lifecycle: this.workflowId,
      generation: this.generation,
      decisions: [kind],
      version,
      subjects: evidence ?? { manifestSha256: null, evaluationSha256: null },
      now: new Date(),
      seenNonces: new Set(this.nonces.keys()),
    });
    // Presented once, spent: even a statement refused for its role cannot be sent again.
    if (!this.nonces.has(p.nonce)) this.nonces.set(p.nonce, p.expiresAt);
    if (!verdict.accepted) return verdict;
    this.signers.set(m, opened.keyid);
    return null;
  }

  private unexpiredNonces(): [string, string][] {
    return [...this.nonces].filter(([, expires]) => Date.parse(expires) > Date.now());
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

/** Who approved `version` in this lifecycle. */
function approversOf(decisions: readonly DecisionView[], version: number): string[] {
  return decisions.filter((d) => d.kind === 'audit' && d.outcome === 'approved' && d.version === version).map((d) => d.actor);
}

/** A deploy by someone who also approved the version, allowed only by the spec's opt-out, says so in the record. */
function withWaiver(spec: ModelSpec, request: DeployRequest, approvers: string[]): string {
  const reason = request.reason ?? 'manual deployment';
  if (spec.roles.separationOfDuties || !approvers.includes(request.actor)) return reason;
  return `${reason} [separation of duties waived by the spec: ${request.actor} also approved this version]`;
}
