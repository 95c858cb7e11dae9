// Nothing serves a version without a valid approval: before the endpoint loads a version and
// before a deployment or an Azure ML package ships one, its folder must still match its
// manifest, and an auditor's approval must be bound to that manifest — by a signature that
// verifies under the auditor's registered key when the approval was signed, or by model.onnx's
// sha256 when the lifecycle did not require signatures.
import type { Manifest } from '../adapters/artifacts/port';
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { DecisionRecord, Registry } from '../adapters/db/port';
import { openDecision } from '../adapters/signing/decisions';
import { subjectsOf } from '../domain/decision-statement';
import { userError } from './errors';
import { manifestDigest } from './signing';

export interface ApprovedVersion {
  runDir: string;
  runKey: string;
  /** model.onnx's sha256, as the manifest records it. */
  sha256: string;
  approvedBy: string;
}

export async function verifyApprovedVersion(store: ArtifactStore, registry: Registry, model: string, version: number): Promise<ApprovedVersion> {
  const mv = await registry.getModelVersion(model, version);
  if (!mv) throw userError('UnknownModelVersion', `${model} has no version ${version} in the registry`);
  const runDir = store.keyOf(mv.artifactUri);
  // Throws ArtifactIntegrityError naming each changed, missing or extra file.
  const manifest = await store.verifyManifest(runDir);
  const onnx = manifest.files.find((f) => f.key.endsWith('/model.onnx'));
  if (!onnx) throw userError('NotApproved', `${model} v${version}: the manifest of ${runDir} lists no model.onnx`);
  const approvals = (await registry.listDecisions(model)).filter((d) => d.kind === 'audit' && d.outcome === 'approved' && d.version === version);
  if (!approvals.length) {
    throw userError(
      'NotApproved',
      `${model} v${version} has no auditor's approval in the registry, so it is not served or shipped; approve it first (mlc audit approve)`,
    );
  }
  const why: string[] = [];
  for (const approval of approvals) {
    const problem = await approvalProblem(registry, approval, manifest, onnx.sha256, version);
    if (!problem) return { runDir, runKey: mv.runKey, sha256: onnx.sha256, approvedBy: approval.actor };
    why.push(`${approval.actor}'s approval: ${problem}`);
  }
  throw userError('NotApproved', `${model} v${version} is not served or shipped: no approval holds for its files. ${why.join('; ')}`);
}

async function approvalProblem(registry: Registry, approval: DecisionRecord, manifest: Manifest, onnxSha256: string, version: number): Promise<string | null> {
  if (!approval.envelope) {
    return approval.artifactSha256 === onnxSha256
      ? null
      : `it approved model.onnx ${approval.artifactSha256?.slice(0, 12)}, the folder holds ${onnxSha256.slice(0, 12)}`;
  }
  const opened = openDecision(approval.envelope, await registry.listSigningKeys(approval.actor));
  if (!opened.ok) return opened.why;
  const { predicate } = opened.statement;
  if (predicate.decision !== 'approve' || predicate.version !== version)
    return `the signed statement is a ${predicate.decision} of version ${predicate.version}`;
  const bound = subjectsOf(opened.statement).manifestSha256;
  const actual = manifestDigest(manifest);
  return bound === actual
    ? null
    : `it binds manifest ${bound?.slice(0, 12) ?? 'none'}, but the folder's manifest is ${actual.slice(0, 12)}: the files changed after approval`;
}
