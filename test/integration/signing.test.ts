// The signing activities on real adapters (PGlite registry, artifact folder, key files): the
// evidence a decision binds, opening statements against registered keys, the worker's own
// service key, and `mlc audit verify`'s check of a whole decision log.
import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createControlActivities, type ActivityDeps } from '../../activities';
import { verifyApprovedVersion } from '../../activities/approval';
import { auditPageReader, deploymentResolver } from '../../workers/serving';
import { FsArtifactStore } from '../../adapters/artifacts/fs-store';
import { openRegistry } from '../../adapters/db/open';
import type { Registry } from '../../adapters/db/port';
import { signDecision } from '../../adapters/signing/decisions';
import { generateSigningKey } from '../../adapters/signing/keys';
import { artifactLayout } from '../../domain/artifact-layout';
import { loadConfig } from '../../temporal.config';

const env = new MockActivityEnvironment();
const call = <A, R>(fn: (input: A) => Promise<R>, input: A): Promise<R> => env.run<[A], R, typeof fn>(fn, input);
const runDir = artifactLayout.run('signed', 'run-1');
const alice = generateSigningKey();
const bob = generateSigningKey();

let dir: string;
let registry: Registry;
let store: FsArtifactStore;
let activities: ReturnType<typeof createControlActivities>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlc-signing-'));
  registry = await openRegistry({ dataDir: dir });
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const config = loadConfig({ ...process.env, MLC_DATA_ROOTS: dir });
  const deps = { config: { ...config, paths: { ...config.paths, secrets: path.join(dir, 'secrets') } }, registry, store } as unknown as ActivityDeps;
  activities = createControlActivities(deps);
  await store.put(`${runDir}/model.onnx`, 'onnx bytes');
  await store.put(`${runDir}/tokenizer.json`, '{}');
  await store.writeManifest(runDir);
  await store.put(`${artifactLayout.evaluation(runDir)}/evaluation.json`, '{"accuracy":0.7}');
  for (const [name, key] of [
    ['alice', alice],
    ['bob', bob],
  ] as const) {
    await call(activities.registerSigningKey, { name, publicKey: key.publicKey, addedBy: 'admin' });
  }
});
afterAll(async () => {
  await registry?.close();
});

const predicate = { lifecycle: 'mlc-signed', generation: 1, model: 'signed', version: 1, decision: 'approve' as const, actor: 'alice', reason: 'ok' };

describe('signing activities', () => {
  it('binds the manifest and evaluation digests, and a changed manifest changes them', async () => {
    const evidence = await call(activities.decisionEvidence, { runDir });
    expect(evidence.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(evidence.evaluationSha256).toMatch(/^[0-9a-f]{64}$/);
    await store.put(`${runDir}/model.onnx`, 'tampered bytes');
    await store.writeManifest(runDir);
    const after = await call(activities.decisionEvidence, { runDir });
    expect(after.manifestSha256).not.toBe(evidence.manifestSha256);
    expect(after.evaluationSha256).toBe(evidence.evaluationSha256);
  });

  it('opens a statement only under a key registered for its actor', async () => {
    const evidence = await call(activities.decisionEvidence, { runDir });
    const good = signDecision(predicate, evidence, alice);
    expect(await call(activities.openSignedDecision, { envelope: good })).toMatchObject({ ok: true, signer: 'alice' });
    expect(await call(activities.openSignedDecision, { envelope: signDecision(predicate, evidence, bob) })).toMatchObject({ ok: false });
    const [aliceKey] = await registry.listSigningKeys('alice');
    expect(await call(activities.revokeSigningKey, { publicKey: aliceKey!.publicKey })).toBe(true);
    expect(await call(activities.openSignedDecision, { envelope: good })).toMatchObject({
      ok: false,
      why: expect.stringContaining('no public key is registered for alice'),
    });
    await call(activities.registerSigningKey, { name: 'alice', publicKey: generateSigningKey().publicKey, addedBy: 'admin' });
  });

  it('signs the monitor’s requests with a 0600 service key it registers itself', async () => {
    const envelope = await call(activities.signServiceDecision, { predicate: { ...predicate, actor: 'mlc-monitor', decision: 'retrain', generation: null } });
    expect((await stat(path.join(dir, 'secrets/service-signing.key'))).mode & 0o777).toBe(0o600);
    expect(await call(activities.openSignedDecision, { envelope })).toMatchObject({ ok: true, signer: 'mlc-monitor' });
  });

  it('verifies a whole log, and names a row whose signature does not hold', async () => {
    const evidence = await call(activities.decisionEvidence, { runDir });
    const base = { model: 'signed', version: 1, kind: 'audit' as const, workflowId: 'mlc-signed', artifactSha256: null };
    const byBob = signDecision({ ...predicate, actor: 'bob', decision: 'deploy' }, evidence, bob);
    await registry.recordDecision({
      ...base,
      outcome: 'approved',
      actor: 'bob',
      reason: 'ok',
      decidedAt: '2026-11-29T08:00:00Z',
      decisionKey: 'd1',
      envelope: byBob,
      signerKeyId: byBob.signatures[0]!.keyid,
    });
    expect(await call(activities.verifyDecisionLog, { model: 'signed' })).toMatchObject({ rows: 1, signed: 1, firstFailure: null });
    // A writer who can append rows but holds no one's key: the chain holds, the signature does not.
    const forged = { ...byBob, signatures: [{ keyid: byBob.signatures[0]!.keyid, sig: Buffer.alloc(64, 7).toString('base64') }] };
    await registry.recordDecision({
      ...base,
      outcome: 'approved',
      actor: 'bob',
      reason: 'ok',
      decidedAt: '2026-11-29T08:01:00Z',
      decisionKey: 'd2',
      envelope: forged,
    });
    const report = await call(activities.verifyDecisionLog, { model: 'signed' });
    expect(report.firstFailure).toMatchObject({ decisionKey: 'd2', why: expect.stringContaining('does not verify') });
  });

  it('serves or ships a version only while a signed approval binds its manifest', async () => {
    const model = 'gated';
    const dir2 = artifactLayout.run(model, 'run-g');
    await store.put(`${dir2}/model.onnx`, 'approved bytes');
    await store.writeManifest(dir2);
    await store.put(`${artifactLayout.evaluation(dir2)}/evaluation.json`, '{}');
    const version = await registry.registerModelVersion({
      model,
      runKey: 'run-g',
      artifactUri: store.uriOf(dir2),
      sha256: await store.sha256(`${dir2}/model.onnx`),
      metrics: {},
    });
    const carol = generateSigningKey();
    await call(activities.registerSigningKey, { name: 'carol', publicKey: carol.publicKey, addedBy: 'admin' });
    const evidence = await call(activities.decisionEvidence, { runDir: dir2 });
    const envelope = signDecision({ ...predicate, model, version, actor: 'carol' }, evidence, carol);
    await registry.recordDecision({
      model,
      version,
      kind: 'audit',
      outcome: 'approved',
      actor: 'carol',
      reason: 'ok',
      artifactSha256: null,
      workflowId: 'mlc-gated',
      decidedAt: '2026-11-29T09:00:00Z',
      decisionKey: 'g1',
      envelope,
      signerKeyId: envelope.signatures[0]!.keyid,
    });
    expect(await verifyApprovedVersion(store, registry, model, version)).toMatchObject({ approvedBy: 'carol' });
    // The worker's endpoint loads a version only through the same check, and serves its audit page.
    await registry.recordDeployment({ deploymentKey: 'gd1', model, version, target: 'local', endpointUrl: 'http://x', artifactSha256: 'a', actor: 'bob' });
    await store.put(artifactLayout.auditPackage(dir2), '<!doctype html><title>audit</title>');
    expect(await deploymentResolver(registry, store)(model)).toMatchObject({ model, version, modelDir: expect.stringContaining('run-g') });
    expect(await auditPageReader(registry, store)(model, version)).toContain('<title>audit</title>');
    expect(await auditPageReader(registry, store)(model, version + 1)).toBeNull();
    // Someone with write access to the store swaps the model and rewrites the manifest to match.
    await store.put(`${dir2}/model.onnx`, 'other bytes');
    await store.writeManifest(dir2);
    await expect(verifyApprovedVersion(store, registry, model, version)).rejects.toMatchObject({
      type: 'NotApproved',
      message: expect.stringContaining('the files changed after approval'),
    });
    await expect(deploymentResolver(registry, store)(model)).rejects.toMatchObject({ type: 'NotApproved' });
  });
});
