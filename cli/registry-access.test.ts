// Through a worker: each registry call is one short workflow carrying the method and its
// arguments, and a worker's refusal or absence comes back as a message a user can act on.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error';
import { workerRegistry } from './registry-access';

function fakeClient(result: () => Promise<unknown>) {
  const calls: { type: string; options: { taskQueue: string; args: unknown[]; workflowExecutionTimeout?: unknown } }[] = [];
  const client = { workflow: { execute: (type: string, options: (typeof calls)[number]['options']) => (calls.push({ type, options }), result()) } };
  return { client: client as unknown as Parameters<typeof workerRegistry>[0], calls };
}

describe('workerRegistry', () => {
  it('sends the method and arguments to the control queue with a time limit', async () => {
    const { client, calls } = fakeClient(async () => [{ runKey: 'r1' }]);
    expect(await workerRegistry(client).listRuns('m')).toEqual([{ runKey: 'r1' }]);
    expect(calls).toEqual([
      {
        type: 'trackingRequest',
        options: expect.objectContaining({ taskQueue: 'mlc-control', args: [{ method: 'listRuns', args: ['m'] }], workflowExecutionTimeout: '1 minute' }),
      },
    ]);
  });

  it("passes on the worker's reason", async () => {
    const refused = ApplicationFailure.create({ type: 'AliasRefusedError', message: 'champion moves only with a deployment', nonRetryable: true });
    const activity = new ActivityFailure('activity failed', 'answerTrackingRequest', '1', 'NON_RETRYABLE_FAILURE', 'w', refused);
    const { client } = fakeClient(() => Promise.reject(new WorkflowFailedError('Workflow execution failed', activity, 'NON_RETRYABLE_FAILURE')));
    const error = await workerRegistry(client)
      .setModelAlias({ model: 'm', alias: 'champion', version: 1, setBy: 'c', reason: 'r', changeKey: 'k' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ message: 'champion moves only with a deployment', exitCode: 2 });
  });

  it('says what to start when no worker answers', async () => {
    const timeout = new TimeoutFailure('timed out', undefined, 'START_TO_CLOSE');
    const { client } = fakeClient(() => Promise.reject(new WorkflowFailedError('Workflow execution timed out', timeout, 'TIMEOUT')));
    const error = (await workerRegistry(client)
      .listModelAliases('m')
      .catch((e: unknown) => e)) as CliError;
    expect(error).toBeInstanceOf(CliError);
    expect(error.message).toMatch(/no worker answered on task queue mlc-control within 1 minute.*npm run worker.*DATABASE_URL/);
  });
});
