// Where each artifact lives under the artifact root: the one place the layout is spelled
// out. Activities, the CLI and tests ask here instead of building keys by hand, so moving a
// folder is one change, and a run's key never drifts between the job and its readers.

/**
 * Evaluation output sits beside the run folder, not in it: the run's manifest (what the
 * auditor approves and the deployer verifies) must not change after the job wrote it.
 */
const evaluation = (runDir: string) => runDir.replace('/runs/', '/evaluations/');

/** Serving precisions: fp32 is the export as trained, int8 its dynamically quantised copy. */
export const servingPrecisions = ['fp32', 'int8'] as const;
export type ServingPrecision = (typeof servingPrecisions)[number];

/**
 * File names inside a run folder that more than one reader needs (slurm/mlc_train/export.py
 * writes them). deploy.json names the ONNX file the spec chose to serve; it lies in the run
 * folder, so the manifest the auditor approves covers the choice and both files.
 */
export const runFiles = {
  onnx: { fp32: 'model.onnx', int8: 'model.int8.onnx' } satisfies Record<ServingPrecision, string>,
  deployChoice: 'deploy.json',
} as const;

export const artifactLayout = {
  /** A cleaned, split dataset version, named by its content hash. */
  dataset: (model: string, hash: string) => `datasets/${model}/${hash}`,
  /** Rows set aside by a preprocess run that could not produce a dataset. */
  rejectedRows: (model: string, generation: number, attemptId: string) => `datasets/${model}/rejected/g${generation}-${attemptId}`,
  /** Labelled feedback exported for the next generation. */
  feedback: (model: string, generation: number) => `datasets/${model}/feedback/g${generation}.jsonl`,
  /** What a training job writes (model.onnx, tokenizer, metrics); its manifest is what an auditor approves. */
  run: (model: string, runKey: string) => `models/${model}/runs/${runKey}`,
  /** A search's trial parameters, one object of overrides per trial, in its run folder. */
  trialsFile: (runDir: string) => `${runDir}/trials.json`,
  /** Where trial `trial` of a search (a SLURM array task) writes what a single run would. */
  trial: (runDir: string, trial: number) => `${runDir}/trial-${trial}`,
  evaluation,
  /** The audit page (self-contained HTML); audit-package.json beside it holds its data. */
  auditPackage: (runDir: string) => `${evaluation(runDir)}/audit-package.html`,
  monitoringReport: (model: string, runId: string) => `monitoring/${model}/${runId}.json`,
  /** The report's page (self-contained HTML), beside its JSON. */
  monitoringPage: (model: string, runId: string) => `monitoring/${model}/${runId}.html`,
  /** A version packaged for Azure ML (score.py, environment, model files), by package hash. */
  azureMlPackage: (model: string, version: number, sha256: string) => `azureml/${model}/v${version}/${sha256.slice(0, 16)}`,
} as const;
