import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { ModelFileMissingError } from '../adapters/scoring/errors';
import { RegistryConflictError } from '../adapters/db/errors';
import { DatasetNotFoundError } from '../adapters/datasets/read';
import { AzureConflictError, AzureQuotaError, AzureThrottledError } from '../adapters/azureml/errors';
import { UnknownClusterError, userError, withPermanentErrors } from './errors';

const failing = (err: unknown) =>
  withPermanentErrors({
    act: async () => {
      throw err;
    },
  }).act();

describe('withPermanentErrors', () => {
  it('makes errors a retry cannot fix non-retryable, keeping their name and message', async () => {
    // RegistryConflictError: a natural key reused for other content is a bug upstream, never retried away.
    for (const err of [
      new UnknownClusterError('gpu', ['local']),
      new DatasetNotFoundError('/x.jsonl'),
      new ModelFileMissingError('/run', 'model.onnx', 'slurm/train.py'),
      new RegistryConflictError('runs', 'r1', 'params differ'),
    ]) {
      const failure = await failing(err).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: err.name, nonRetryable: true, message: err.message });
    }
  });

  it("leaves other errors (a network blip) to Temporal's retries, and our own failures as they are", async () => {
    const blip = new Error('ECONNRESET');
    expect(await failing(blip).catch((e: unknown) => e)).toBe(blip);
    const own = userError('ArtifactHashMismatch', 'refusing');
    expect(await failing(own).catch((e: unknown) => e)).toBe(own);
  });

  it('reads permanence from the error class, and retries a throttled call only after Retry-After', async () => {
    const quota = new AzureQuotaError('Standard_DS3_v2', 2, 'needs 8 cores, 4 left.');
    expect(await failing(quota).catch((e: unknown) => e)).toMatchObject({
      type: 'AzureQuotaError',
      nonRetryable: true,
      message: expect.stringContaining('2 × Standard_DS3_v2'),
    });
    const conflict = new AzureConflictError('setting traffic', 'an operation is in progress');
    expect(await failing(conflict).catch((e: unknown) => e)).toBe(conflict);
    const throttled = await failing(new AzureThrottledError('reading the endpoint', 7000)).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ApplicationFailure);
    expect(throttled).toMatchObject({ type: 'AzureThrottledError', nonRetryable: false });
    expect((throttled as ApplicationFailure).nextRetryDelay).toBe(7000);
  });

  it('passes results through', async () => {
    expect(await withPermanentErrors({ ok: async (x: number) => x + 1 }).ok(1)).toBe(2);
  });
});
