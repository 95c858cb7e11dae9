// Histories hold ciphertext. A lifecycle of our real type is started through a client with the
// product's codec (on a task queue no worker polls, so nothing runs), signalled with a Thai
// reason, then its history is read raw over gRPC: no Thai text, no spec field, no key in clear.
// A workflow started by a plain client is the control that shows the search would find them.
// Then the same history is decoded three ways: by the codec client, by our codec server as the
// Web UI calls it, and by the `temporal` CLI through the codec server (the protocol as Temporal's
// own tools speak it). Needs the dev server: `bash scripts/services.sh start temporal`.
import { Client, Connection, defaultPayloadConverter, type DataConverter } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncryptionCodec, Payload } from '../../adapters/temporal-codec/codec';
import { startCodecServer, type CodecServer } from '../../adapters/temporal-codec/codec-server';
import { dataConverterFor } from '../../adapters/temporal-codec/data-converter';
import { parseSpec } from '../../domain/spec';
import { loadConfig, repoRoot, type MlcConfig } from '../../temporal.config';
import { auditDecisionSignal } from '../../workflows/messages';

const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const model = `codec-probe-${run}`;
const dataPath = `/srv/corpora/probe-${run}/wisesight-private.jsonl`;
const thaiDescription = `ข้อความลับของลูกค้า ร้านนี้อร่อยมาก ${run}`;
const thaiReason = `ยังไม่ผ่าน ต้องเพิ่มข้อมูล ${run}`;
// Nobody polls this queue: the workflow is recorded and waits, which is all this test needs.
const taskQueue = `payload-codec-unpolled-${run}`;
const encryptedId = `payload-codec-test-${run}`;
const plainId = `payload-codec-control-${run}`;

let dir: string;
let config: MlcConfig;
let connection: Connection;
let dataConverter: DataConverter;
let codec: EncryptionCodec;
let codecClient: Client;
let plainClient: Client;

const spec = parseSpec({
  name: model,
  description: thaiDescription,
  labels: ['neg', 'neu', 'pos', 'q'],
  data: { path: dataPath },
  roles: { auditors: ['alice'], deployers: ['bob'] },
});

/** The history exactly as the server stores and serves it. */
async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistory> {
  const res = await connection.workflowService.getWorkflowExecutionHistory({ namespace: config.temporal.namespace, execution: { workflowId } });
  return res.history!;
}
const historyBytes = (h: temporal.api.history.v1.IHistory) => Buffer.from(temporal.api.history.v1.History.encode(h).finish());
const eventOf = (h: temporal.api.history.v1.IHistory, type: temporal.api.enums.v1.EventType) => h.events!.find((e) => e.eventType === type)!;
const meta = (p: Payload, key: string) => Buffer.from(p.metadata?.[key] ?? []).toString('utf8');
/** `temporal … -o json` prints payload data as base64: the texts inside, one per line. */
const payloadTexts = (json: string) =>
  [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]*)"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8')).join('\n');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-codec-it-'));
  // A data folder of its own, keys from no variable: the key file is made as on a fresh machine.
  const env = { ...process.env, MLC_DATA_DIR: dir, MLC_CONFIG: '', MLC_CODEC_KEYS: '', MLC_CODEC_KEY_FILES: '' };
  config = loadConfig(env);
  dataConverter = await dataConverterFor(config, env);
  codec = dataConverter.payloadCodecs![0] as EncryptionCodec;
  connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
  codecClient = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  plainClient = new Client({ connection, namespace: config.temporal.namespace });

  const started = { taskQueue, args: [{ spec, specDir: dir }], memo: { note: thaiDescription }, workflowExecutionTimeout: '1h' as const };
  const handle = await codecClient.workflow.start('modelLifecycle', { ...started, workflowId: encryptedId });
  await handle.signal(auditDecisionSignal, { decision: 'reject', actor: 'alice', reason: thaiReason });
  await plainClient.workflow.start('modelLifecycle', { ...started, workflowId: plainId });
});

afterAll(async () => {
  for (const id of [encryptedId, plainId]) {
    await codecClient?.workflow
      .getHandle(id)
      .terminate('payload codec test done')
      .catch(() => undefined);
  }
  await connection?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('payloads in Temporal history are encrypted', () => {
  it('the key file was created readable by this user only', async () => {
    expect((await stat(config.temporal.codec.keyFiles[0]!)).mode & 0o777).toBe(0o600);
  });

  it('raw history holds no Thai text, no spec field and no key; the plain control shows they would be found', async () => {
    const secrets = [thaiDescription, thaiReason, dataPath, model];
    const key = codec.keyring.primary.key;
    const keyForms = [key, Buffer.from(key.toString('base64')), Buffer.from(key.toString('hex'))];

    const encrypted = historyBytes(await rawHistory(encryptedId));
    for (const s of secrets) expect(encrypted.includes(Buffer.from(s)), `"${s}" in clear in ${encryptedId}'s history`).toBe(false);
    for (const k of keyForms) expect(encrypted.includes(k), 'the codec key in history').toBe(false);

    const control = historyBytes(await rawHistory(plainId));
    for (const s of [thaiDescription, dataPath, model]) expect(control.includes(Buffer.from(s)), `control lacks "${s}"`).toBe(true);
  });

  it('input, memo and signal are binary/encrypted under the primary key id', async () => {
    const h = await rawHistory(encryptedId);
    const { EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: STARTED, EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: SIGNALED } = temporal.api.enums.v1.EventType;
    const started = eventOf(h, STARTED).workflowExecutionStartedEventAttributes!;
    const signalled = eventOf(h, SIGNALED).workflowExecutionSignaledEventAttributes!;
    const payloads = [...started.input!.payloads!, started.memo!.fields!.note!, ...signalled.input!.payloads!];
    expect(payloads).toHaveLength(3);
    for (const p of payloads) {
      expect(meta(p, 'encoding')).toBe('binary/encrypted');
      expect(meta(p, 'encryption-key-id')).toBe(codec.primaryKeyId);
    }
  });

  it('a client with the codec reads it back: the memo through describe(), the input through its codec', async () => {
    expect((await codecClient.workflow.getHandle(encryptedId).describe()).memo).toEqual({ note: thaiDescription });
    const h = await rawHistory(encryptedId);
    const started = eventOf(h, temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED).workflowExecutionStartedEventAttributes!;
    const [input] = await codec.decode(started.input!.payloads!);
    expect(defaultPayloadConverter.fromPayload(input!)).toEqual(JSON.parse(JSON.stringify({ spec, specDir: dir })));
  });
});

describe('the codec server decodes real history for the Web UI and the temporal CLI', () => {
  let server: CodecServer;
  const token = randomBytes(32).toString('hex');
  beforeAll(async () => {
    server = await startCodecServer({ host: '127.0.0.1', port: 0, codec, token, tokenSource: 'test', uiUrl: config.temporal.uiUrl });
  });
  afterAll(() => server?.close());

  it('as the Web UI calls it: token in the endpoint path, from the UI origin', async () => {
    const h = await rawHistory(encryptedId);
    const started = eventOf(h, temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED).workflowExecutionStartedEventAttributes!;
    const body = {
      payloads: started.input!.payloads!.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(p.data!).toString('base64'),
      })),
    };
    const call = (origin: string) =>
      fetch(`${server.url}/${token}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': config.temporal.namespace, origin },
        body: JSON.stringify(body),
      });
    const res = await call(new URL(config.temporal.uiUrl).origin);
    expect(res.status).toBe(200);
    const decoded = (await res.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString('utf8')).toContain(thaiDescription);
    expect((await call('http://attacker.example')).status).toBe(403);
  });

  it('`temporal workflow show` shows the Thai text only through --codec-endpoint with the token', async () => {
    // Asynchronously: the codec server it calls runs in this process. SIGKILL: a CLI waiting on
    // a codec server that does not answer ignores SIGTERM.
    const show = (...extra: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        const args = ['workflow', 'show', '-w', encryptedId, '--address', config.temporal.address, '--namespace', config.temporal.namespace, '-o', 'json'];
        execFile(path.join(repoRoot, '.venv/bin/temporal'), [...args, ...extra], { timeout: 60_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}\n${payloadTexts(stdout)}` }),
        );
      });
    const withCodec = await show('--codec-endpoint', server.url, '--codec-auth', `Bearer ${token}`);
    expect(withCodec.code, withCodec.out).toBe(0);
    expect(withCodec.out).toContain(thaiDescription);
    expect(withCodec.out).toContain(thaiReason);
    expect(withCodec.out).toContain(dataPath);

    const without = await show();
    expect(without.code, without.out).toBe(0);
    expect(without.out).not.toContain(thaiDescription);
    expect(without.out).not.toContain(dataPath);

    const wrongToken = await show('--codec-endpoint', server.url, '--codec-auth', `Bearer ${'0'.repeat(64)}`);
    expect(wrongToken.out).not.toContain(thaiDescription);
  });
});
