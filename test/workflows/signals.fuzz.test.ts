// A lifecycle under a batch of fuzzed signals of every kind (the examples broken or nudged in a few
// places, and random JSON), none of which may count: it stays healthy (the status query
// answers, nothing fails), records each one as refused with its reason, and then takes the
// real audit and deployment as usual.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../domain/spec';
import { taskQueues } from '../../domain/temporal-names';
import {
  auditDecisionSignal,
  auditDecisionUpdate,
  deployRequestSignal,
  deployRequestUpdate,
  retrainRequestSignal,
  rollbackRequestSignal,
  statusQuery,
  stopRequestSignal,
} from '../../workflows/messages';
import { fuzzSeed, mutated, nastyJson, nudged } from '../fuzz/arbitraries';
import { messageKinds } from '../fuzz/messages';
import { reach, until } from './drive';
import { timeSkippingSuite } from './env';
import { fakeActivities } from './fake-activities';

const spec = parseSpec({ name: 'wf-fuzz', labels: ['neg', 'pos'], data: { path: 'data.jsonl' }, roles: { auditors: ['alice'], deployers: ['bob'] } });
const signals = [auditDecisionSignal, deployRequestSignal, retrainRequestSignal, rollbackRequestSignal, stopRequestSignal];
const kinds = ['audit', 'deploy', 'retrain', 'rollback', 'stop'] as const;

/**
 * Signals of each kind, made never to count: a payload the schema accepts is sent as from
 * "mallory", who holds no role. Kept under 200 kB each (the server refuses larger payloads
 * before the workflow sees them, which is the server's business, not the lifecycle's).
 */
const fuzzedSignals = fc
  .integer({ min: 0, max: signals.length - 1 })
  .chain((k) => fc.tuple(fc.constant(k), fc.oneof(mutated(messageKinds[k]!.example), nudged(messageKinds[k]!.example), nastyJson)))
  .map(([k, payload]) => {
    const valid = messageKinds[k]!.schema.safeParse(payload).success;
    return [k, valid ? { ...(payload as object), actor: 'mallory' } : payload] as const;
  })
  .filter(([, payload]) => (JSON.stringify(payload) ?? '').length < 200_000);

const suite = timeSkippingSuite();

describe('modelLifecycle under fuzzed signals', () => {
  it('refuses and records every one, answers its status throughout, and then takes the real decisions', async () => {
    const batch = fc.sample(fuzzedSignals, { numRuns: 60, seed: fuzzSeed });
    const fakes = fakeActivities();
    await suite.withWorkers(fakes, async () => {
      const h = await suite.env.client.workflow.start('modelLifecycle', {
        taskQueue: taskQueues.control,
        workflowId: 'lifecycle-fuzzed-signals',
        args: [{ spec, specDir: '/tmp' }],
      });
      await reach(h, 'awaiting_audit');
      for (const [k, payload] of batch) {
        await h.signal(signals[k]!, payload as never);
        expect((await h.query(statusQuery)).error).toBeNull();
      }
      // Behind the fuzzed audits in the inbox: judged after every one of them.
      expect(await h.executeUpdate(auditDecisionUpdate, { args: [{ decision: 'approve', actor: 'alice', reason: 'meets the bar', version: 1 }] })).toEqual({
        accepted: true,
      });
      await reach(h, 'awaiting_deploy');
      expect(await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 1' }] })).toEqual({ accepted: true });
      await reach(h, 'monitoring');

      // Queued deploy, retrain and rollback signals are refused as their stages come.
      const refused = () => fakes.decisions.filter((d) => d.outcome === 'refused');
      await until(h, () => refused().length >= batch.length, `recorded ${batch.length} refusals (have ${refused().length})`);
      expect(
        refused()
          .map((d) => d.kind)
          .sort(),
      ).toEqual(batch.map(([k]) => kinds[k]).sort());
      // Both kinds of refusal were exercised: invalid payloads, and valid ones that may not count.
      expect(refused().filter((d) => d.reason.startsWith('invalid message: ')).length).toBeGreaterThan(5);
      expect(refused().filter((d) => !d.reason.startsWith('invalid message: ')).length).toBeGreaterThan(5);
      for (const d of refused()) {
        expect(d.reason.trim()).not.toBe('');
        expect(d.reason.length).toBeLessThanOrEqual(4_000);
        expect(d.actor.length).toBeLessThanOrEqual(64);
      }
      expect(fakes.decisions.filter((d) => d.outcome !== 'refused').map((d) => [d.kind, d.outcome, d.actor])).toEqual([
        ['audit', 'approved', 'alice'],
        ['deploy', 'approved', 'bob'],
      ]);
      expect(new Set(fakes.decisions.map((d) => d.decisionKey)).size).toBe(fakes.decisions.length);
      const status = await h.query(statusQuery);
      expect(status).toMatchObject({ stage: 'monitoring', deployedVersion: 1, error: null });
      expect((await h.describe()).status.name).toBe('RUNNING');
      await h.terminate('test done');
    });
  }, 120_000);
});
