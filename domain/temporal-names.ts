// Names shared by workflows (which cannot import temporal.config.ts: it reads the
// environment and the filesystem) and everything else. temporal.config.ts re-exports them.

/** Search attributes the lifecycle upserts; scripts/services/temporal.sh registers the same names. */
export const searchAttributes = {
  stage: 'MlcStage',
  model: 'MlcModel',
  version: 'MlcVersion',
} as const;

export const taskQueues = {
  /** Light orchestration work: registry, SLURM submit/poll, artifacts. */
  control: 'mlc-control',
  /** CPU-heavy work: ONNX scoring during evaluation and monitoring. */
  scoring: 'mlc-scoring',
} as const;

/** One lifecycle per model: its workflow id, so `mlc status thai-sentiment` finds it. */
export function lifecycleWorkflowId(model: string): string {
  return `mlc-${model}`;
}

export function monitoringScheduleId(model: string): string {
  return `mlc-monitor-${model}`;
}

/**
 * One per `mlc undeploy`: a signed statement names the workflow it is for, so a fresh id per
 * request means the statement cannot be presented again to another one.
 */
export function undeployWorkflowId(model: string, request: string): string {
  return `mlc-undeploy-${model}-${request}`;
}
