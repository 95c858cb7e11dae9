// The registry: an MLflow-like record of models, data, runs, versions, decisions,
// deployments, predictions, feedback and monitoring reports. Every write is idempotent on a
// natural key, because the activities that call it may run twice after a crash.

import type { DecisionKind, DecisionOutcome } from '../../domain/lifecycle';
import type { DecisionChainReport } from './decision-log';
import type { WindowSummary } from '../../domain/monitoring/features';
import type { PredictionWindow } from './prediction-window';

export type { DecisionKind, DecisionOutcome };
export type RunState = 'submitted' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface DatasetVersionRecord {
  model: string;
  /** Content hash of the cleaned, split data: the dataset version. */
  hash: string;
  uri: string;
  report: Record<string, unknown>;
}

export interface RunRecord {
  /** Idempotency key: workflow id + generation + attempt (+ trial). */
  runKey: string;
  model: string;
  generation: number;
  attempt: number;
  datasetHash: string;
  cluster: string;
  params: Record<string, unknown>;
  artifactUri: string;
  trial?: number | null;
}

export interface RunUpdate {
  state?: RunState;
  slurmJobId?: string;
  error?: string | null;
  /** Merged into the run's metrics (a key given again is overwritten). */
  metrics?: Record<string, number>;
  /** true: finished now (a finish already recorded stays); false: live again (a resubmitted job), no finish time. */
  finished?: boolean;
  /** The commit of the code that trained the run. */
  gitCommit?: string | null;
}

/** One point of a run's curve, as MLflow's metric history keeps it. */
export interface MetricPoint {
  metric: string;
  step: number;
  /** Set on per-epoch points (validation metrics, the epoch's mean loss); null per step. */
  epoch: number | null;
  value: number;
}

/** A run as `mlc runs` shows it. */
export interface RunSummary extends RunRecord {
  trial: number | null;
  state: RunState;
  slurmJobId: string | null;
  metrics: Record<string, number>;
  error: string | null;
  gitCommit: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** The model version the run became; null for a run that did not (failed, a losing trial). */
  version: number | null;
}

export interface ModelVersionRecord {
  model: string;
  runKey: string;
  artifactUri: string;
  /** sha256 of model.onnx: what the auditor approves and the deployer ships. */
  sha256: string;
  metrics: Record<string, unknown>;
}

export interface DecisionRecord {
  model: string;
  version: number | null;
  kind: DecisionKind;
  outcome: DecisionOutcome;
  actor: string;
  reason: string;
  artifactSha256?: string | null;
  workflowId: string;
  /** ISO time the decision was made (from the workflow, so a replay records the same). */
  decidedAt: string;
  /** Idempotency key (e.g. the signal's id); a repeat insert is ignored. */
  decisionKey: string;
  /** The signed statement (DSSE envelope) the decision was taken on, when it was signed. */
  envelope?: unknown;
  signerKeyId?: string | null;
}

export interface SigningKeyRecord {
  name: string;
  publicKey: string;
  keyId: string;
  addedBy: string;
}

export interface DeploymentRecord {
  model: string;
  version: number;
  target: string;
  endpointUrl: string;
  artifactSha256: string;
  actor: string;
  deploymentKey: string;
}

export interface RetireRequest {
  model: string;
  actor: string;
  reason: string;
  /** The version judged to be taken off (mlc undeploy); another one live is refused (DeploymentChangedError). */
  version?: number;
  /** Idempotency key, as a deployment's. */
  retireKey: string;
}

/** A request to point an alias at a version. */
export interface AliasChange {
  model: string;
  alias: string;
  version: number;
  setBy: string;
  reason: string;
  /** Idempotency key: a change already applied under this key is not applied again. */
  changeKey: string;
}

export interface ModelAlias {
  model: string;
  alias: string;
  version: number;
  setBy: string;
  setAt: string;
  reason: string;
}

/** One move of an alias, from the append-only alias history; version null: the alias was removed. */
export interface AliasEvent extends Omit<ModelAlias, 'version'> {
  version: number | null;
  previousVersion: number | null;
  changeKey: string;
}

export interface PredictionRecord {
  model: string;
  version: number;
  requestId: string;
  text: string;
  label: string;
  probabilities: Record<string, number>;
  /** The projected embedding (domain/embedding-projection.ts), when the model has one. */
  embedding?: number[] | null;
  /** TokenStats, flat: the scorer's token count, whether maxLength cut the text, and its single-character or <unk> tokens. */
  tokens?: number | null;
  truncated?: boolean | null;
  fallbackTokens?: number | null;
}

/**
 * A labelled production sample. Analysts often hold the request id of what was served rather
 * than a clean copy of the text, so a row names the text, the request id, or both; monitoring
 * joins request ids to the logged predictions (see domain/feedback-join.ts).
 */
export type FeedbackRecord = {
  model: string;
  label: string;
  source: string;
} & ({ text: string; requestId?: string } | { text?: string; requestId: string });

export interface MonitoringReportRecord {
  model: string;
  version: number;
  windowStart: string;
  windowEnd: string;
  report: Record<string, unknown>;
  degraded: boolean;
  reportKey: string;
}

/** One line of `mlc models`: a model, its versions, what serves, and the last decision about it. */
export interface ModelSummary {
  name: string;
  registeredAt: string;
  versions: number;
  latestVersion: number | null;
  /** The version its endpoint serves; null when none does (never deployed, or taken off). */
  deployedVersion: number | null;
  lastDecision: { kind: DecisionKind; outcome: DecisionOutcome; actor: string; version: number | null; decidedAt: string } | null;
}

export interface Registry {
  ensureModel(name: string, spec: Record<string, unknown>): Promise<void>;
  /** Every model the registry knows, by name. */
  listModels(): Promise<ModelSummary[]>;
  /** The spec the model's latest lifecycle ran with (its roles say who may decide); null for a model never preprocessed. */
  modelSpec(name: string): Promise<Record<string, unknown> | null>;
  recordDatasetVersion(record: DatasetVersionRecord): Promise<void>;
  createRun(record: RunRecord): Promise<void>;
  updateRun(runKey: string, update: RunUpdate): Promise<void>;
  getRun(runKey: string): Promise<(RunRecord & { state: RunState; slurmJobId: string | null; metrics: Record<string, number>; error: string | null }) | null>;
  /** A model's runs, newest first, each with the version it became. */
  listRuns(model: string): Promise<RunSummary[]>;
  describeRun(runKey: string): Promise<RunSummary | null>;
  /** Appends points to a run's curves; a point already there (same run, metric, step) is kept. Returns how many were new. */
  recordMetricHistory(runKey: string, points: MetricPoint[]): Promise<number>;
  /** A run's curves, by metric then step. */
  metricHistory(runKey: string): Promise<MetricPoint[]>;
  /** Returns the version number; the same runKey always gets the same version. */
  registerModelVersion(record: ModelVersionRecord): Promise<number>;
  getModelVersion(model: string, version: number): Promise<(ModelVersionRecord & { version: number; createdAt: string }) | null>;
  /** Appends to the model's hash-chained decision log (adapters/db/decision-log.ts). */
  recordDecision(record: DecisionRecord): Promise<void>;
  listDecisions(model: string): Promise<(DecisionRecord & { id: number })[]>;
  verifyDecisionChain(model: string): Promise<DecisionChainReport>;
  addSigningKey(record: SigningKeyRecord): Promise<void>;
  /** Keys in force (not revoked), of one person or service or of everyone. */
  listSigningKeys(name?: string): Promise<(SigningKeyRecord & { addedAt: string })[]>;
  /** Returns whether a key in force was revoked. */
  revokeSigningKey(publicKey: string): Promise<boolean>;
  /**
   * Records a deployment and, in the same transaction, points the alias `champion` at its
   * version: the deployed version is always an alias. A repeated deploymentKey changes nothing.
   */
  recordDeployment(record: DeploymentRecord): Promise<void>;
  /** The latest deployment of a model, i.e. what the endpoint should serve; null once it was retired. */
  activeDeployment(model: string): Promise<(DeploymentRecord & { deployedAt: string }) | null>;
  /**
   * Takes the model's live deployment off, recorded on its row (who, when, why), and removes the
   * alias `champion` in the same transaction. `retired` names the version taken off; null when
   * nothing was live. A repeated retireKey changes nothing.
   */
  retireDeployment(r: RetireRequest): Promise<{ retired: number | null }>;
  /** Names of the models with a version deployed now. */
  deployedModels(): Promise<string[]>;
  /**
   * Points an alias at a registered version in one statement and appends the move to the alias
   * history. Refuses `champion` (only a deployment moves it), a malformed alias name and a version
   * the model does not have. `applied` is false when changeKey was applied before.
   */
  setModelAlias(change: AliasChange): Promise<{ applied: boolean; previousVersion: number | null }>;
  listModelAliases(model: string): Promise<ModelAlias[]>;
  /** Every move of the model's aliases, oldest first. */
  aliasHistory(model: string): Promise<AliasEvent[]>;
  logPredictions(records: PredictionRecord[]): Promise<void>;
  /** Predictions of one model created at or after `since` (ISO), oldest first. */
  predictionsSince(model: string, since: string): Promise<(PredictionRecord & { createdAt: string })[]>;
  /** Returns how many rows were new; throws InvalidFeedbackError for a row with neither text nor requestId. */
  addFeedback(records: FeedbackRecord[]): Promise<number>;
  feedbackSince(model: string, since: string): Promise<(FeedbackRecord & { createdAt: string })[]>;
  /** One version's predictions in a time window, aggregated in the database (prediction-window.ts): histograms, never rows. */
  summarizePredictions(window: PredictionWindow): Promise<WindowSummary>;
  /** Predictions served under these request ids since `since` (of one version, or any): what feedback names. */
  predictionsByRequestIds(query: {
    model: string;
    version?: number;
    requestIds: string[];
    since: string;
  }): Promise<(PredictionRecord & { createdAt: string })[]>;
  saveMonitoringReport(record: MonitoringReportRecord): Promise<void>;
  latestMonitoringReport(model: string): Promise<(MonitoringReportRecord & { createdAt: string }) | null>;
  /** A model's monitoring reports, newest first. */
  monitoringReports(model: string, limit: number): Promise<(MonitoringReportRecord & { createdAt: string })[]>;
  close(): Promise<void>;
}
