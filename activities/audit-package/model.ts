// What audit-package.json holds: everything the audit page shows, as data. The page is a pure
// function of this (html.ts), so a tool can read the numbers an auditor saw, and a test can
// render a page without a model.
import type { Calibration } from '../../domain/calibration';
import type { DataReport } from '../../domain/dataset';
import type { ClassificationReport, GateResult, Interval, ReportIntervals } from '../../domain/metrics';
import type { SliceResult } from '../../domain/slices';
import type { MetricName } from '../../domain/spec';
import type { TokenAttribution } from '../../adapters/scoring/port';

export const AUDIT_PACKAGE_SCHEMA = 1;

export interface AuditPackage {
  schema: typeof AUDIT_PACKAGE_SCHEMA;
  model: string;
  version: number;
  /** ISO time the package was written. */
  generatedAt: string;
  runKey: string;
  /** Artifact URIs of the run folder and the dataset folder. */
  runUri: string;
  datasetUri: string;
  labels: string[];
  report: ClassificationReport;
  intervals: ReportIntervals;
  gates: { passed: boolean; results: GateResult[] };
  calibration: Calibration;
  slices: SliceResult[];
  training: TrainingCurves;
  /** preprocess's report.json; null when the dataset folder has none. */
  data: DataReport | null;
  lineage: Lineage;
  champion: ChampionComparison;
  explanations: Explanations;
  /** The most confident errors (up to 25), with the predicted label's probability. */
  errors: { text: string; label: string; predicted: string; confidence: number }[];
}

/** metrics.json of the training job: one row per epoch, and the loss every few steps. */
export interface TrainingCurves {
  /** Rows as train.py wrote them: epoch, step, train_loss, val_loss, val_accuracy, val_macro_f1, ... */
  epochs: Record<string, number>[];
  /** step, loss, lr; empty when the job did not record steps. */
  steps: Record<string, number>[];
  best: { epoch: number | null; val_macro_f1: number | null } | null;
  stoppedEarly: boolean | null;
}

/** Where the version came from. A field is null when nothing recorded it; the page says so. */
export interface Lineage {
  datasetHash: string | null;
  gitCommit: string | null;
  params: Record<string, unknown> | null;
  /** A warm start's earlier run (its folder's name) and the sha256 of the model.pt it started from. */
  warmStart: { run: string; modelSha256: string | null } | null;
  /** The pretrained encoder's folder (training.pretrainedDir), when one was used. */
  pretrainedDir: string | null;
  cluster: string | null;
  slurmJobId: string | null;
  node: string | null;
  trainSeconds: number | null;
  device: string | null;
  precision: string | null;
  /** Training side (python, torch, onnxruntime, ...) as the job recorded them. */
  trainingVersions: Record<string, string>;
  /** What scored the test split here: the scorer's runtime and Node. */
  evaluationVersions: Record<string, string>;
}

export interface ChampionScores {
  version: number;
  deployedAt: string;
  target: string;
  sha256: string;
  report: ClassificationReport;
  intervals: Record<MetricName, Interval>;
  /** Challenger minus champion on the same rows, paired bootstrap. */
  differences: Record<MetricName, Interval>;
  /** Rows on which both predict the same label. */
  agreement: number;
}

export type ChampionComparison =
  { status: 'compared'; champion: ChampionScores } | { status: 'none'; reason: string } | { status: 'unavailable'; reason: string };

export interface Explanation {
  /** Why this row was picked: one of the most confident errors, or a sample of its class. */
  kind: 'error' | 'sample';
  text: string;
  label: string;
  predicted: string;
  confidence: number;
  attribution: TokenAttribution;
}

export type Explanations = { status: 'explained'; method: string; items: Explanation[] } | { status: 'unavailable'; reason: string };
