// The workflow bundle's entry point: every workflow type the workers register.
export { modelLifecycle } from './lifecycle';
export { modelMonitoring } from './monitoring';
export { changeSigningKey, dataCheckRequest, listSigningKeys, monitoringHistory, trackingRequest, verifyDecisionLog } from './admin';
export { undeployModel } from './undeploy';
