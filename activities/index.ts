// createActivities(deps): every activity, grouped by the task queue that runs it.
import type { ActivityDeps } from './deps';
import { azureMlActivities } from './azureml';
import { deployActivities } from './deploy';
import { withPermanentErrors } from './errors';
import { evaluateActivities } from './evaluate';
import { monitoringActivities } from './monitoring';
import { preprocessActivities } from './preprocess';
import { signingActivities } from './signing';
import { trackingActivities } from './tracking';
import { trainingActivities } from './training';

/** Light, I/O-bound work on the `mlc-control` queue. */
export function createControlActivities(deps: ActivityDeps) {
  const { computeMonitoringReport: _scoring, ...monitoring } = monitoringActivities(deps);
  return withPermanentErrors({
    ...preprocessActivities(deps),
    ...trainingActivities(deps),
    ...deployActivities(deps),
    ...azureMlActivities(deps),
    ...signingActivities(deps),
    ...trackingActivities(deps),
    ...monitoring,
  });
}

/** CPU-heavy ONNX scoring on the `mlc-scoring` queue. */
export function createScoringActivities(deps: ActivityDeps) {
  return withPermanentErrors({ ...evaluateActivities(deps), computeMonitoringReport: monitoringActivities(deps).computeMonitoringReport });
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type ScoringActivities = ReturnType<typeof createScoringActivities>;
export type { ActivityDeps } from './deps';
