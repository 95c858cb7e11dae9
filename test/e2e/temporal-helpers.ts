// What every end-to-end file needs from Temporal: a namespace of its own (task queues are
// per namespace, so a worker left over from an interrupted run can never take this run's
// tasks) with our search attributes, a client with the product's payload codec, and a wait for
// a lifecycle to reach a stage.
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { dataConverterFor } from '../../adapters/temporal-codec/data-converter';
import { newKeyEntry } from '../../adapters/temporal-codec/keys';
import type { LifecycleStatus, Stage } from '../../domain/lifecycle';
import { loadConfig, searchAttributes } from '../../temporal.config';
import { statusQuery } from '../../workflows/messages';

/**
 * One codec key for everything this test run starts. Each e2e file gives its workers and CLI
 * runs a data folder of their own, whose secrets folder would otherwise get a key of its own;
 * like production, the run shares one key through the environment (temporal.codec.keysEnv),
 * which the configs they build from process.env inherit. A key already set is kept.
 */
function shareOneCodecKeyWithThisRun(): void {
  const { keysEnv } = loadConfig().temporal.codec;
  process.env[keysEnv] ||= newKeyEntry();
}

export async function connectToFreshNamespace(namespace: string): Promise<{ client: Client; connection: Connection }> {
  shareOneCodecKeyWithThisRun();
  const dataConverter = await dataConverterFor(loadConfig());
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  await registerFreshNamespace(connection, namespace);
  return { client: new Client({ connection, namespace, dataConverter }), connection };
}

/** Registers `namespace` (kept a day) with our search attributes, and waits until it can be used. */
export async function registerFreshNamespace(connection: Connection, namespace: string): Promise<void> {
  const svc = connection.workflowService;
  try {
    await svc.registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) } });
  } catch (err) {
    if (!String(err).includes('already exists')) throw err;
  }
  for (let i = 0; ; i++) {
    try {
      await svc.describeNamespace({ namespace });
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          Object.values(searchAttributes).map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
        ),
      });
      return;
    } catch (err) {
      if (String(err).includes('already')) return;
      if (i > 20) throw err; // a fresh namespace takes a moment to be usable
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Poll the status query until `done` holds; a lifecycle that ended throws its failure. */
export async function waitForStatus(
  client: Client,
  id: string,
  done: (s: LifecycleStatus) => boolean,
  what: string,
  timeoutMs = 600_000,
  abort?: (s: LifecycleStatus) => string | null,
): Promise<LifecycleStatus> {
  const handle = client.workflow.getHandle(id);
  const deadline = Date.now() + timeoutMs;
  let last: LifecycleStatus | null = null;
  while (Date.now() < deadline) {
    const desc = await handle.describe();
    if (!['RUNNING', 'CONTINUED_AS_NEW'].includes(desc.status.name)) await handle.result(); // throws with the failure
    last = await handle.query(statusQuery).catch(() => last);
    if (last && done(last)) return last;
    const why = last && abort?.(last);
    if (why) throw new Error(`${id} will not ${what}: ${why}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${id} never ${what}; last status ${JSON.stringify(last)}`);
}

export function waitForStage(client: Client, id: string, stage: Stage, generation = 1, timeoutMs?: number): Promise<LifecycleStatus> {
  return waitForStatus(client, id, (s) => s.stage === stage && s.generation === generation, `reached ${stage}/g${generation}`, timeoutMs);
}
