// What the built-in endpoint asks the registry and the artifact store: which version serves a
// model, the audit package of a version, and each model's last monitoring run (for /metrics). A version's folder is resolved once, and only
// after its files still match their manifest and an auditor's approval holds for them
// (activities/approval.ts): a model swapped on the share is never loaded.
import { verifyApprovedVersion } from '../activities/approval';
import type { ArtifactStore } from '../adapters/artifacts/port';
import type { Registry } from '../adapters/db/port';
import type { Deployment, MonitoringSnapshot } from '../adapters/endpoint/server';
import { artifactLayout } from '../domain/artifact-layout';

/**
 * The registry's newest deployment of a model, looked up per request so a deploy or rollback
 * takes effect at once. A version's checked folder never changes, so it is remembered.
 */
export function deploymentResolver(registry: Registry, store: ArtifactStore) {
  const modelDirs = new Map<string, string>();
  return async (model?: string): Promise<Deployment | null> => {
    let name = model;
    if (!name) {
      const deployed = await registry.deployedModels();
      if (deployed.length !== 1) return null;
      name = deployed[0]!;
    }
    const active = await registry.activeDeployment(name);
    if (!active) return null;
    const key = `${name}@${active.version}`;
    let modelDir = modelDirs.get(key);
    if (!modelDir) {
      const { runDir } = await verifyApprovedVersion(store, registry, name, active.version);
      modelDir = await store.localFolder(runDir);
      modelDirs.set(key, modelDir);
    }
    return { model: name, version: active.version, sha256: active.artifactSha256, modelDir };
  };
}

/** The audit package page of a version, or null when the version or its page does not exist. */
export function auditPageReader(registry: Registry, store: ArtifactStore) {
  return async (model: string, version: number): Promise<string | null> => {
    const mv = await registry.getModelVersion(model, version);
    if (!mv) return null;
    const key = artifactLayout.auditPackage(store.keyOf(mv.artifactUri));
    if (!(await store.exists(key))) return null;
    return (await store.get(key)).toString('utf8');
  };
}

/** The latest monitoring report of every deployed model, for the endpoint's /metrics gauges. */
export function latestMonitoringReader(registry: Registry) {
  return async (): Promise<MonitoringSnapshot[]> => {
    const models = await registry.deployedModels();
    const latest = await Promise.all(models.map((m) => registry.latestMonitoringReport(m)));
    return latest.flatMap((r) => (r ? [{ model: r.model, version: r.version, windowEnd: r.windowEnd, degraded: r.degraded, report: r.report }] : []));
  };
}
