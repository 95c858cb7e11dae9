// mlc's way into the embedded registry: the trackingRequest workflow runs the allow-listed
// registry call on a worker and hands back its answer, or its refusal as the CLI shows it.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPermanentErrors } from '../../activities/errors';
import { trackingActivities } from '../../activities/tracking';
import { openMemoryRegistry } from '../../adapters/db/memory';
import type { Registry } from '../../adapters/db/port';
import { seedRun } from '../fakes/registry-fixtures';
import { CliError } from '../../cli/cli-error';
import { workerRegistry } from '../../cli/registry-access';
import { taskQueues } from '../../domain/temporal-names';
import { timeSkippingEnv, workflowBundle } from './env';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
let registry: Registry;

beforeAll(async () => {
  [env, bundle, registry] = await Promise.all([timeSkippingEnv(), workflowBundle(), openMemoryRegistry()]);
  await seedRun(registry, { params: { lr: 1 } });
});
afterAll(async () => {
  await registry?.close();
  await env?.teardown();
});

describe('trackingRequest', () => {
  it("answers through a worker, and brings a refusal back as the registry's own words", async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: taskQueues.control,
      workflowBundle: bundle,
      activities: withPermanentErrors(trackingActivities({ registry })),
    });
    await worker.runUntil(async () => {
      const tracking = workerRegistry(env.client);
      expect(await tracking.listRuns('m')).toMatchObject([{ runKey: 'r1', version: 1, params: { lr: 1 } }]);
      expect(await tracking.describeRun('nope')).toBeNull();
      const change = { model: 'm', alias: 'golden', version: 1, setBy: 'carol', reason: 'why', changeKey: 'k1' };
      expect(await tracking.setModelAlias(change)).toEqual({ applied: true, previousVersion: null });
      const refused = await tracking.setModelAlias({ ...change, alias: 'champion', changeKey: 'k2' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CliError);
      expect(refused).toMatchObject({ exitCode: 2, message: expect.stringMatching(/only a deployment moves it/) });
    });
    expect((await registry.listModelAliases('m')).map((a) => a.alias)).toEqual(['golden']);
  });
});
