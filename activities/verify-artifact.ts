// The check every deployment target makes before shipping: the bytes on the store are the
// bytes the auditor approved. The approval is bound to model.onnx's sha256, not to a name.
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { Registry } from '../adapters/db/port';
import { verifyApprovedVersion } from './approval';
import { userError } from './errors';

export async function verifyAuditedArtifact(
  store: ArtifactStore,
  registry: Registry,
  model: string,
  version: number,
  auditedSha256: string,
): Promise<{ runDir: string; runKey: string; sha256: string }> {
  const mv = await registry.getModelVersion(model, version);
  if (!mv) throw userError('UnknownModelVersion', `${model} has no version ${version} in the registry`);
  const runDir = store.keyOf(mv.artifactUri);
  await store.verifyManifest(runDir);
  const onDisk = await store.sha256(`${runDir}/model.onnx`);
  if (onDisk !== auditedSha256 || mv.sha256 !== auditedSha256) {
    throw userError(
      'ArtifactHashMismatch',
      `Refusing to deploy ${model} v${version}: model.onnx has sha256 ${onDisk} (registry: ${mv.sha256}) but the auditor approved ${auditedSha256}. The artifact changed after the audit; retrain and audit again.`,
      { onDisk, audited: auditedSha256 },
    );
  }
  // The workflow's word is not enough: the registry must hold an approval bound to these files.
  await verifyApprovedVersion(store, registry, model, version);
  return { runDir, runKey: mv.runKey, sha256: onDisk };
}
