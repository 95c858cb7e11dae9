// The short form of bench/chaos.ts, same code, small counts: on its own Temporal dev server,
// PostgreSQL, sshd and worker processes (the shared services are never restarted), workers
// are SIGKILLed three times at chosen states and random moments, each service is restarted
// once mid-lifecycle, and one node fails under a running job. Every lifecycle must still reach
// monitoring with the undisturbed baseline's end state, without a duplicate SLURM job.
// Needs `bash scripts/services.sh start` (npm test runs it).
import { describe, expect, it } from 'vitest';
import { duplicateJobs } from '../../bench/chaos/invariants';
import { formatTable, rows, violations } from '../../bench/chaos/report';
import { runChaos } from '../../bench/chaos/run';

describe('faults, with figures (bench/chaos.ts, short form)', () => {
  it('survives worker SIGKILLs, Temporal, sshd and PostgreSQL restarts and a node failure with the baseline end state', async () => {
    const result = await runChaos({
      kills: 3,
      // States whose abandoned activities have heartbeat timeouts (1 and 2 minutes); a kill
      // during a short control activity costs its 5-minute start-to-close timeout (the bench
      // shows it), too long for the suite.
      killPoints: ['queued', 'running', 'evaluating'],
      restarts: 1,
      nodeFailures: 1,
      lifecycles: 4,
      concurrency: 3,
      // Faults may overlap, to keep the suite short: the invariants are what it checks.
      oneAtATime: false,
      seed: 9,
      lifecycleTimeoutMs: 8 * 60_000,
      log: (line) => console.log(line),
    });
    const table = formatTable(rows(result));
    console.log(table);

    // Crashes first: their message carries the worker's last lines, the table's only their first.
    expect(result.crashes).toEqual([]);
    expect(violations(result), table).toEqual([]);
    // The faults really happened, each as planned: a missed one would make the run prove less.
    const injected = (kind: string) => result.injections.filter((i) => i.fault.kind === kind).length;
    expect(result.missed.map((m) => `${m.fault.kind}@${m.fault.point}: ${m.why}`)).toEqual([]);
    expect([injected('worker-kill'), injected('temporal-restart'), injected('sshd-restart'), injected('postgres-restart'), injected('node-fail')]).toEqual([
      3, 1, 1, 1, 1,
    ]);
    // Each lifecycle: monitoring, one version approved and deployed once, one registry run, one job per submission.
    for (const { run, state } of [result.baseline, ...result.lifecycles]) {
      expect(run.outcome, `${run.id}: ${run.error}`).toBe('reached monitoring');
      expect(state.registry.decisions).toEqual(['audit:approved:alice:v1', 'deploy:approved:bob:v1']);
      expect(state.registry.deployments).toEqual(['v1:bob']);
      expect(state.registry.runs).toEqual(['succeeded']);
      expect(duplicateJobs(state), JSON.stringify(state.slurm)).toBe(0);
    }
    // The node failure was survived by resubmission into the same run, resuming from its checkpoint.
    const nodeFail = result.injections.find((i) => i.fault.kind === 'node-fail')!;
    expect(nodeFail.resumed).toMatch(/resumed at step [1-9]/);
    const resubmitted = result.lifecycles.find((l) => l.run === nodeFail.target)!;
    expect(resubmitted.state.slurm.resubmissions).toBe(1);
    expect(resubmitted.state.slurm.jobLogs).toBe(2);
  });
});
