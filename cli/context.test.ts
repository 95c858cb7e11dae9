import { ServiceError, type WorkflowExecutionDescription } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { CliError } from './cli-error';
import { describeTemporalError, endedAs, temporalUnreachable, type CliContext } from './context';

const ctx = { config: { temporal: { namespace: 'default' } } } as unknown as CliContext;

describe('describeTemporalError', () => {
  it("words the server's 30-second give-up on a worker that went away after the command looked", () => {
    // What the server answers a query when no worker polls the queue (code 9, FAILED_PRECONDITION).
    const cause = Object.assign(new Error('9 FAILED_PRECONDITION: no poller seen for task queue recently, worker may be down'), {
      code: 9,
      details: 'no poller seen for task queue recently, worker may be down',
    });
    const said = describeTemporalError(ctx, new ServiceError('Failed to query Workflow', { cause }));
    expect(said).toBeInstanceOf(CliError);
    expect((said as CliError).message).toMatch(
      /^The lifecycle did not answer: no poller seen for task queue recently, worker may be down\. Start one with npm run worker/,
    );
  });

  it('passes any other service error through as it is', () => {
    const other = new ServiceError('Failed to query Workflow', {
      cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'connection refused' }),
    });
    expect(describeTemporalError(ctx, other)).toBe(other);
  });
});

describe('endedAs (mlc status, and the refusal of decisions on an ended lifecycle)', () => {
  const described = (name: string, closeTime?: Date) =>
    ({ workflowId: 'mlc-m', status: { name }, ...(closeTime ? { closeTime } : {}) }) as unknown as WorkflowExecutionDescription;
  const at = new Date('2026-12-01T10:10:01.308Z');

  it('is null while the lifecycle runs, and says how and when it ended otherwise', () => {
    expect(endedAs(described('RUNNING'))).toBeNull();
    expect(endedAs(described('CANCELLED', at))).toBe('was CANCELLED at 2026-12-01T10:10:01.308Z');
    expect(endedAs(described('COMPLETED', at))).toBe('was COMPLETED at 2026-12-01T10:10:01.308Z');
  });

  it('points a failed one to where its reason is', () => {
    expect(endedAs(described('FAILED', at))).toBe('failed at 2026-12-01T10:10:01.308Z (see why with: mlc status mlc-m)');
  });
});

describe('temporalUnreachable', () => {
  it("names what the server or the channel said, not only the SDK's 'Failed to connect', and how to start Temporal", () => {
    const cause = Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14, details: 'Connection dropped' });
    const said = temporalUnreachable('127.0.0.1:7233', new ServiceError('Failed to connect to Temporal server', { cause }));
    expect(said).toBeInstanceOf(CliError);
    expect(said.message).toBe(
      'Cannot reach Temporal at 127.0.0.1:7233 (14 UNAVAILABLE: Connection dropped). Start it with: bash scripts/services.sh start temporal (or set TEMPORAL_ADDRESS).',
    );
  });
});
