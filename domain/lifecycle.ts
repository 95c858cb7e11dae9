// The lifecycle's vocabulary, shared by workflows, activities and the CLI: stages, the
// status the `status` query returns, and the rules that decide whether a human decision
// counts. Pure: workflows import it.
import { z } from 'zod';
import { envelopeSchema, type DecisionSubjects } from './decision-statement';
import { modelSpecSchema, trainingParamOverridesSchema, userNameSchema, type ModelSpec, type TrainingParams } from './spec';

export const stages = [
  'preprocessing',
  'training',
  'evaluating',
  'awaiting_audit',
  'awaiting_deploy',
  'deploying',
  'monitoring',
  'retraining',
  'failed',
  // Ended: by an auditor's or deployer's stop request (recorded), or by a Temporal cancel request.
  'stopped',
  'cancelled',
] as const;
export type Stage = (typeof stages)[number];

/** What a human decision (or the monitor's request) was about; the registry stores the same words. */
export type DecisionKind = 'audit' | 'deploy' | 'retrain' | 'rollback' | 'stop' | 'undeploy';
/** `failed`: accepted, but the deployment or rollback did not succeed (the reason says why). */
export type DecisionOutcome = 'approved' | 'rejected' | 'refused' | 'requested' | 'failed';

/** A training job's place in its life, whatever the cluster calls its state (SLURM has dozens). */
export type JobPhase = 'queued' | 'running' | 'succeeded' | 'failed';

/** The monitor signals retrain requests under this name. */
export const MONITOR_ACTOR = 'mlc-monitor';

export interface DecisionView {
  kind: DecisionKind;
  outcome: DecisionOutcome;
  actor: string;
  reason: string;
  version: number | null;
  /** For approvals: the model.onnx sha256 that was approved, so a rollback ships those bytes. */
  sha256?: string | null;
  /** keyid of the key that signed it; absent: unsigned. */
  signedBy?: string;
  at: string;
}

export interface EvaluationSummary {
  metrics: Record<string, number>;
  gates: { metric: string; min: number; value: number; passed: boolean }[];
  gatesPassed: boolean;
  /** Artifact key of the audit package (model card, metrics, confusion matrix, errors). */
  auditPackageKey: string;
}

export interface TrainingView {
  runKey: string;
  runDir: string;
  cluster: string;
  jobId: string | null;
  jobState: string | null;
  /** Null until the cluster has reported the job. */
  jobPhase: JobPhase | null;
  startedAt: string | null;
  elapsedSeconds: number | null;
  /**
   * Jobs of this run the cluster ended (node failure, preemption) before the current one, oldest
   * first; each resubmission went into the same run folder and resumed from its checkpoints.
   * Absent in status recorded before resubmissions were tracked.
   */
  resubmittedAfter?: EndedJob[];
  /** A warm start: the version whose weights the job started from (training.retrain.from: champion). */
  warmStartFrom?: number;
}

/** A job the cluster ended, as the run that resubmitted it remembers it. */
export interface EndedJob {
  jobId: string;
  /** SLURM's word: NODE_FAIL, PREEMPTED, BOOT_FAIL. */
  state: string;
  reason: string | null;
}

export interface LifecycleStatus {
  model: string;
  stage: Stage;
  generation: number;
  attempt: number;
  datasetHash: string | null;
  training: TrainingView | null;
  version: number | null;
  artifactSha256: string | null;
  evaluation: EvaluationSummary | null;
  /** What a signed decision about the version at stake must bind (mlc audit approve reads it). */
  evidence?: DecisionSubjects | null;
  deployedVersion: number | null;
  lastDecision: DecisionView | null;
  decisions: DecisionView[];
  error: string | null;
}

export interface LifecycleInput {
  spec: ModelSpec;
  /** Folder the spec came from: relative data paths resolve against it. */
  specDir: string;
  generation?: number;
  /** Artifact keys of extra labelled rows (production feedback) added on retrain. */
  extraDataKeys?: string[];
  /** Why this generation exists (set by a retrain). */
  reason?: string;
  /**
   * Carried across continue-as-new: every approval (rollbacks need their sha256) and the most
   * recent decisions (domain/history-summary.ts); the registry keeps them all.
   */
  history?: DecisionView[];
  deployedVersion?: number | null;
  /**
   * Set when a months-long monitoring wait continued as new to keep its history short: the new
   * run goes straight back to monitoring the live version instead of training again.
   */
  resume?: MonitoringResume;
  /** Nonces of signed statements already used, with when each expires: a replay is refused across continue-as-new too. */
  nonces?: [string, string][];
}

/** What a resumed monitoring run needs of the run it continues. */
export interface MonitoringResume {
  /** Counts the continue-as-new hops within one generation; decision keys include it. */
  segment: number;
  status: Pick<LifecycleStatus, 'attempt' | 'datasetHash' | 'training' | 'version' | 'artifactSha256' | 'evaluation'>;
}

const actor = userNameSchema;

export const auditDecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  actor,
  reason: z.string().trim().min(1, 'give a reason').max(2000),
  /** The version the auditor looked at; a decision about another version is refused. */
  version: z.number().int().positive().optional(),
  /** On reject: hyperparameters to change for the next attempt (the "improve" part). */
  paramsOverride: trainingParamOverridesSchema.optional(),
  /** The same decision as a signed statement (DSSE envelope); see domain/decision-statement.ts. */
  signed: envelopeSchema.optional(),
});
export type AuditDecision = z.infer<typeof auditDecisionSchema>;

export const deployRequestSchema = z.strictObject({
  actor,
  reason: z.string().max(2000).default('manual deployment'),
  version: z.number().int().positive().optional(),
  signed: envelopeSchema.optional(),
});
export type DeployRequest = z.input<typeof deployRequestSchema>;

export const retrainRequestSchema = z.strictObject({
  actor,
  reason: z.string().trim().min(1).max(4000),
  reportKey: z.string().optional(),
  signed: envelopeSchema.optional(),
});
export type RetrainRequest = z.infer<typeof retrainRequestSchema>;

export const rollbackRequestSchema = z.strictObject({
  actor,
  version: z.number().int().positive(),
  reason: z.string().trim().min(1, 'give a reason').max(2000),
  signed: envelopeSchema.optional(),
});
export type RollbackRequest = z.infer<typeof rollbackRequestSchema>;

/** An auditor or deployer ends the lifecycle (mlc stop); the deployed version stays deployed. */
export const stopRequestSchema = z.strictObject({
  actor,
  reason: z.string().trim().min(1, 'give a reason').max(2000),
  /** Also take the deployed version off the endpoint (a deployer's call); signed as an `undeploy`. */
  undeploy: z.boolean().optional(),
  signed: envelopeSchema.optional(),
});
export type StopRequest = z.infer<typeof stopRequestSchema>;

/** mlc undeploy's workflow input (workflows/undeploy.ts): the model, and who asks and why, signed where required. */
export const undeployInputSchema = z.strictObject({
  model: modelSpecSchema.shape.name,
  request: stopRequestSchema.omit({ undeploy: true }),
});
export type UndeployInput = z.infer<typeof undeployInputSchema>;
export type UndeployRequest = UndeployInput['request'];

export type Verdict = { accepted: true } | { accepted: false; why: string };

/** Whether an audit decision counts, given who sent it and what is awaiting audit. */
export function judgeAuditDecision(spec: ModelSpec, d: AuditDecision, awaiting: { version: number; gatesPassed: boolean } | null): Verdict {
  if (!spec.roles.auditors.includes(d.actor)) {
    return { accepted: false, why: `${d.actor} is not an auditor of ${spec.name} (auditors: ${spec.roles.auditors.join(', ')})` };
  }
  if (!awaiting) return { accepted: false, why: 'no model version is awaiting audit' };
  if (d.version !== undefined && d.version !== awaiting.version) {
    return { accepted: false, why: `decision is about version ${d.version}, but version ${awaiting.version} is awaiting audit` };
  }
  if (d.decision === 'approve' && !awaiting.gatesPassed) {
    const why = `version ${awaiting.version} failed its metric gates and cannot be approved; reject it with changes instead`;
    return { accepted: false, why };
  }
  return { accepted: true };
}

export function judgeDeployRequest(spec: ModelSpec, actorName: string, approvedVersion: number | null, requested?: number, approvers: string[] = []): Verdict {
  if (!spec.roles.deployers.includes(actorName)) {
    return { accepted: false, why: `${actorName} is not a deployer of ${spec.name} (deployers: ${spec.roles.deployers.join(', ')})` };
  }
  if (approvedVersion === null) return { accepted: false, why: 'no approved version is waiting for deployment' };
  if (requested !== undefined && requested !== approvedVersion) {
    return { accepted: false, why: `version ${requested} was not approved; the approved version is ${approvedVersion}` };
  }
  if (spec.roles.separationOfDuties && approvers.includes(actorName)) {
    return {
      accepted: false,
      why: `${actorName} approved version ${approvedVersion} and may not also deploy it (separation of duties): another deployer must`,
    };
  }
  return { accepted: true };
}

/** Whether someone has a role in the model's lifecycle: they audit or deploy it. */
function auditsOrDeploys(spec: ModelSpec, actor: string): boolean {
  return spec.roles.auditors.includes(actor) || spec.roles.deployers.includes(actor);
}

function refusedWithoutRole(spec: ModelSpec, actor: string, act: string): Verdict {
  const { auditors, deployers } = spec.roles;
  return {
    accepted: false,
    why: `${actor} may not ${act} ${spec.name}: only its auditors (${auditors.join(', ')}) and deployers (${deployers.join(', ')}) may`,
  };
}

/** Whether a retrain request counts: the monitor's, or one from someone who audits or deploys the model. */
export function judgeRetrainRequest(spec: ModelSpec, r: Pick<RetrainRequest, 'actor'>): Verdict {
  if (r.actor === MONITOR_ACTOR || auditsOrDeploys(spec, r.actor)) return { accepted: true };
  return refusedWithoutRole(spec, r.actor, 'request a retrain of');
}

/** Whether a stop request counts: from someone who audits or deploys the model, at any stage; one that also undeploys, from a deployer. */
export function judgeStopRequest(spec: ModelSpec, r: Pick<StopRequest, 'actor' | 'undeploy'>): Verdict {
  if (!auditsOrDeploys(spec, r.actor)) return refusedWithoutRole(spec, r.actor, 'stop');
  const { deployers } = spec.roles;
  if (r.undeploy && !deployers.includes(r.actor)) {
    return {
      accepted: false,
      why: `${r.actor} may stop ${spec.name} but not take its version off the endpoint: only its deployers (${deployers.join(', ')}) may (or stop it without --undeploy)`,
    };
  }
  return { accepted: true };
}

/** Whether `mlc undeploy` counts (after the lifecycle that deployed the version): only a deployer takes a version off the endpoint. */
export function judgeUndeployRequest(spec: ModelSpec, actor: string): Verdict {
  const { deployers } = spec.roles;
  if (deployers.includes(actor)) return { accepted: true };
  return { accepted: false, why: `${actor} may not take ${spec.name} off its endpoint: only its deployers (${deployers.join(', ')}) may` };
}

/** How stops during a deployment were refused before they waited for it (kept for those histories' replay). */
export function refusedWhileDeploying(spec: ModelSpec): Verdict {
  return { accepted: false, why: `${spec.name} is deploying; stop it once the deployment has ended (mlc status ${spec.name})` };
}

/**
 * What an ended lifecycle left on the endpoint, as the Schedule's note and `mlc stop` say it:
 * the version it took off (`retired`), or the one still serving, unmonitored (`live`).
 */
export function leftOnEndpoint(live: number | null, retired: number | null): string {
  if (retired !== null) return `; version ${retired} taken off the endpoint, its monitoring paused`;
  return live === null ? '' : `; version ${live} stays deployed, its monitoring paused until a new lifecycle deploys`;
}

/** Versions an auditor approved in this lifecycle (any generation), with the approved bytes. */
export function approvedVersions(decisions: DecisionView[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of decisions) {
    if (d.kind === 'audit' && d.outcome === 'approved' && d.version !== null && d.sha256) out.set(d.version, d.sha256);
  }
  return out;
}

export function judgeRollback(spec: ModelSpec, r: RollbackRequest, decisions: DecisionView[], live: number | null): Verdict {
  if (!spec.roles.deployers.includes(r.actor)) {
    return { accepted: false, why: `${r.actor} is not a deployer of ${spec.name} (deployers: ${spec.roles.deployers.join(', ')})` };
  }
  if (r.version === live) return { accepted: false, why: `version ${r.version} is already live` };
  const approved = approvedVersions(decisions);
  if (!approved.has(r.version)) {
    const known = [...approved.keys()].join(', ') || 'none';
    return { accepted: false, why: `version ${r.version} was never approved by an auditor in this lifecycle (approved: ${known})` };
  }
  return { accepted: true };
}

export function applyOverride(params: TrainingParams, override?: Partial<TrainingParams>): TrainingParams {
  return override ? { ...params, ...override } : params;
}

/**
 * Stable key of one training attempt: its run folder and registry run, and the idempotency key
 * of its first job submission. `resubmission` is for histories recorded before
 * 'resubmit-same-run-folder', when every resubmission got a run (and folder) of its own.
 */
export function runKeyFor(lifecycleKey: string, generation: number, attempt: number, resubmission = 0): string {
  return submissionKeyFor(`${safeId(lifecycleKey)}-g${generation}-a${attempt}`, resubmission);
}

/**
 * Idempotency key of a run's n-th resubmission (job name and comment, the run folder's submit
 * record): its own, because submitting under the run key would hand back the dead job.
 */
export function submissionKeyFor(runKey: string, resubmission: number): string {
  return resubmission ? `${runKey}-r${resubmission}` : runKey;
}

/**
 * Workflow ids are free text, but run keys become SLURM job names and folder names. Keep a
 * readable prefix and, when anything had to be replaced, a hash so two ids never collide.
 */
export function safeId(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 64);
  return cleaned === id ? id : `${cleaned}-${fnv1a(id)}`;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
