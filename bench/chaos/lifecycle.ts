// One lifecycle driven the way its people would, through a Temporal client: start it, approve
// the version an auditor sees, ask for the deployment, and stop at `monitoring`. Every call
// is safe to repeat while services restart under it — updates carry ids, so a retried approval
// is the same approval, not a second one recorded as refused — and every answer of the status
// query is kept with its time, so faults can be aimed at states and recovery measured.
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JobPhase, LifecycleStatus, Stage } from '../../domain/lifecycle';
import { parseSpec, type ModelSpec } from '../../domain/spec';
import { lifecycleWorkflowId } from '../../domain/temporal-names';
import { repoRoot, searchAttributes, taskQueues } from '../../temporal.config';
import { auditDecisionUpdate, deployRequestUpdate, statusQuery } from '../../workflows/messages';
import { sleep } from './daemon';
import { CHAOS_CLUSTER } from './stack';

/** What the bench saw at one moment; `status` is null while no worker answered the query. */
export interface Observation {
  at: number;
  stage: Stage | null;
  status: LifecycleStatus | null;
}

/** Where a lifecycle is, in the words kill points use. */
export type Point = 'queued' | 'running' | 'evaluating' | 'deploying';

export type Outcome = 'reached monitoring' | 'failed' | 'stuck' | 'lost';

export const AUDITOR = 'alice';
export const DEPLOYER = 'bob';

/**
 * A tiny spec that trains in seconds on the dev node and saves checkpoints often enough that
 * a node failure mid-job leaves one to resume from. Monitoring is daily: no Schedule fires.
 */
export function chaosSpec(name: string, inputDir: string): ModelSpec {
  const file = path.join(inputDir, 'input.jsonl');
  // Written once: a lifecycle may be reading it while the next one is started.
  if (!existsSync(file)) {
    const lines = readFileSync(path.join(repoRoot, 'data/wisesight-sample/train.jsonl'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, lines.slice(0, 900).join('\n') + '\n');
  }
  return parseSpec({
    name,
    labels: ['neg', 'neu', 'pos', 'q'],
    data: { path: file, testFraction: 0.2 },
    // One short training may predict one class only: the gate is evaluated, not a judge.
    gates: [{ metric: 'accuracy', min: 0 }],
    training: {
      cluster: CHAOS_CLUSTER,
      profile: { cpusPerTask: 1, memory: '2G', timeLimit: '00:10:00' },
      params: {
        epochs: 2,
        batchSize: 8,
        checkpointEverySteps: 10,
        maxLength: 32,
        vocabSize: 800,
        hiddenSize: 32,
        intermediateSize: 64,
        lstmHidden: 32,
        numWorkers: 0,
      },
    },
    monitoring: { every: '24h' },
    roles: { auditors: [AUDITOR], deployers: [DEPLOYER] },
  });
}

export class LifecycleRun {
  readonly id: string;
  readonly observations: Observation[] = [];
  startedAt = 0;
  endedAt = 0;
  outcome: Outcome | null = null;
  error: string | null = null;
  /** When the deploy request was accepted: the `deploying` stage began that moment. */
  deployAcceptedAt: number | null = null;
  private stopped = false;

  constructor(
    private readonly client: Client,
    readonly spec: ModelSpec,
    readonly specDir: string,
  ) {
    this.id = lifecycleWorkflowId(spec.name);
  }

  get latest(): Observation | undefined {
    return this.observations.at(-1);
  }

  get inFlight(): boolean {
    return this.startedAt > 0 && this.outcome === null;
  }

  /** The newest status a worker answered with. */
  get lastStatus(): LifecycleStatus | null {
    for (let i = this.observations.length - 1; i >= 0; i--) if (this.observations[i]!.status) return this.observations[i]!.status;
    return null;
  }

  /** Start, approve, deploy; resolves when it is monitoring, failed, gone, or past `timeoutMs`. */
  async drive(timeoutMs: number): Promise<void> {
    this.startedAt = Date.now();
    const deadline = this.startedAt + timeoutMs;
    try {
      await this.retry('start', () => this.start(), deadline);
      const handle = this.client.workflow.getHandle(this.id);
      for (;;) {
        if (this.stopped) return this.end('lost', 'the bench stopped before it reached monitoring');
        if (Date.now() > deadline) return this.end('stuck', `not monitoring after ${timeoutMs / 1000} s; last ${describe(this.latest)}`);
        if ((await this.observe(handle)) === 'closed') return;
        const { stage, status } = this.latest ?? { stage: null, status: null };
        if (stage === 'monitoring') return this.end('reached monitoring');
        if (stage === 'awaiting_audit' && status?.version) await this.approve(handle, status.version);
        if (stage === 'awaiting_deploy') await this.deploy(handle);
        await sleep(150);
      }
    } catch (err) {
      this.end('lost', (err as Error).message);
    }
  }

  /** Stop driving after the call in flight: the bench is closing its client. */
  stop(): void {
    this.stopped = true;
  }

  /** Whether the last observation puts it at `point`. */
  isAt(point: Point): boolean {
    const o = this.latest;
    if (!o || !this.inFlight) return false;
    const phase: JobPhase | null | undefined = o.status?.training?.jobPhase;
    switch (point) {
      case 'queued':
        return o.stage === 'training' && !!o.status?.training?.jobId && (phase === null || phase === 'queued');
      case 'running':
        return o.stage === 'training' && phase === 'running';
      case 'evaluating':
        return o.stage === 'evaluating';
      case 'deploying':
        // The stage can pass between two observations: the deploy request's acceptance starts
        // it in the same workflow task, so the moment after counts too.
        return o.stage === 'deploying' || (this.deployAcceptedAt !== null && Date.now() - this.deployAcceptedAt < 2_000 && o.stage !== 'monitoring');
    }
  }

  /** A fingerprint of progress: it changes when the stage, the job or the decisions move on. */
  progressMark(o: Observation | undefined = this.latest): string {
    const t = o?.status?.training;
    return [o?.stage, t?.jobId, t?.jobState, o?.status?.decisions.length].join('|');
  }

  private async start(): Promise<void> {
    try {
      await this.client.workflow.start('modelLifecycle', {
        taskQueue: taskQueues.control,
        workflowId: this.id,
        args: [{ spec: this.spec, specDir: this.specDir }],
      });
    } catch (err) {
      // A start whose answer was lost to a restart did start it.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  private async observe(handle: WorkflowHandle): Promise<'closed' | 'open'> {
    const connection = this.client.connection;
    let stage: Stage | null = null;
    try {
      const desc = await connection.withDeadline(Date.now() + 5_000, () => handle.describe());
      if (desc.status.name !== 'RUNNING') {
        await handle.result().then(
          () => this.end('lost', `ended ${desc.status.name} without failing, before monitoring`),
          (err: unknown) => this.end('failed', err instanceof WorkflowFailedError ? rootCause(err) : String(err)),
        );
        return 'closed';
      }
      const attr = desc.searchAttributes[searchAttributes.stage];
      stage = Array.isArray(attr) && typeof attr[0] === 'string' ? (attr[0] as Stage) : null;
    } catch {
      // The server is restarting: no observation this round.
      return 'open';
    }
    // Queries need a worker; while the control worker is down there is no answer.
    const status = await connection.withDeadline(Date.now() + 5_000, () => handle.query(statusQuery)).catch(() => null);
    this.observations.push({ at: Date.now(), stage: status?.stage ?? stage, status });
    return 'open';
  }

  private async approve(handle: WorkflowHandle, version: number): Promise<void> {
    await this.update(`approve v${version}`, () =>
      handle.executeUpdate(auditDecisionUpdate, {
        updateId: `chaos-approve-v${version}`,
        args: [{ decision: 'approve', actor: AUDITOR, reason: 'chaos bench: gates evaluated', version }],
      }),
    );
  }

  private async deploy(handle: WorkflowHandle): Promise<void> {
    const accepted = await this.update('deploy', () =>
      handle.executeUpdate(deployRequestUpdate, { updateId: 'chaos-deploy', args: [{ actor: DEPLOYER, reason: 'chaos bench' }] }),
    );
    if (accepted) this.deployAcceptedAt ??= Date.now();
  }

  /**
   * An update, bounded in time: with no worker it would wait. A validator's refusal (the stage
   * moved on meanwhile) is no error, nor is a deadline or a restarting server: the loop
   * observes again and, if the update is still due, sends it again under the same id.
   */
  private async update(what: string, send: () => Promise<{ accepted: boolean; why?: string }>): Promise<boolean> {
    let verdict: { accepted: boolean; why?: string };
    try {
      verdict = await this.client.connection.withDeadline(Date.now() + 20_000, send);
    } catch {
      return false;
    }
    if (!verdict.accepted) throw new Error(`${what} was refused: ${verdict.why}`);
    return true;
  }

  private async retry(what: string, fn: () => Promise<void>, deadline: number): Promise<void> {
    for (;;) {
      try {
        return await this.client.connection.withDeadline(Date.now() + 10_000, fn);
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${what} kept failing: ${(err as Error).message}`);
        await sleep(1000);
      }
    }
  }

  private end(outcome: Outcome, error: string | null = null): void {
    this.outcome = outcome;
    this.error = error;
    this.endedAt = Date.now();
  }
}

function rootCause(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause;
  return e?.message ?? String(err);
}

function describe(o: Observation | undefined): string {
  if (!o) return 'nothing observed';
  const t = o.status?.training;
  return `stage ${o.stage ?? '?'}${t ? `, job ${t.jobId ?? '-'} ${t.jobState ?? ''}` : ''}${o.status ? '' : ' (status query unanswered)'}`;
}
