// Uploading a deployable package to an Azure ML datastore container. Azure ML model versions
// point at these blobs, so a blob, once written, must never change under a version: each
// upload is conditional on the blob not existing (If-None-Match: *). A rerun after a crash
// finds its own earlier blobs, sees the same bytes and skips them; different bytes under the
// same name are a conflict a human must resolve. Every blob is re-read and hashed at the end,
// so "uploaded" means "the service holds exactly these bytes".
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { ArtifactIntegrityError, WriteOnceConflictError } from './errors';
import { joinKey, validateKey, validatePrefix } from './keys';
import { sha256Of } from './local-files';

export interface WriteOnceProgress {
  name: string;
  outcome: 'uploaded' | 'skipped';
  done: number;
  total: number;
}

export async function uploadWriteOnce(
  container: ContainerClient,
  prefix: string,
  files: { name: string; bytes: Uint8Array }[],
  onProgress?: (progress: WriteOnceProgress) => void,
): Promise<{ uploaded: string[]; skipped: string[] }> {
  const folder = validatePrefix(prefix);
  const planned = files.map((f) => ({ blobName: joinKey(folder, validateKey(f.name)), bytes: f.bytes, sha256: sha256Of(f.bytes) }));
  const uploaded: string[] = [];
  const skipped: string[] = [];
  for (const file of planned) {
    const blob = container.getBlockBlobClient(file.blobName);
    let outcome: WriteOnceProgress['outcome'] = 'uploaded';
    try {
      await blob.uploadData(file.bytes, { conditions: { ifNoneMatch: '*' }, metadata: { sha256: file.sha256 } });
    } catch (error) {
      if (!alreadyExists(error)) throw error;
      // The metadata says what its writer uploaded: if it differs, no download is needed to
      // know this is a conflict. If it agrees (or is absent) the bytes must agree too.
      const claimed = (await blob.getProperties()).metadata?.['sha256'];
      if (claimed !== undefined && claimed !== file.sha256) throw new WriteOnceConflictError(blob.url, claimed, file.sha256);
      const existing = await hashOf(blob);
      if (existing !== file.sha256) throw new WriteOnceConflictError(blob.url, existing, file.sha256);
      outcome = 'skipped';
    }
    (outcome === 'uploaded' ? uploaded : skipped).push(file.blobName);
    onProgress?.({ name: file.blobName, outcome, done: uploaded.length + skipped.length, total: planned.length });
  }
  // Skipped blobs were hashed above; check what this call wrote.
  const changed: string[] = [];
  for (const file of planned.filter((f) => uploaded.includes(f.blobName))) {
    if ((await hashOf(container.getBlobClient(file.blobName))) !== file.sha256) changed.push(file.blobName);
  }
  if (changed.length) throw new ArtifactIntegrityError(folder, [], changed, [], 'uploaded blobs read back with other bytes');
  return { uploaded, skipped };
}

// Put Blob with If-None-Match: * on an existing blob answers 409 BlobAlreadyExists; some
// service versions and emulators answer 412 ConditionNotMet instead.
function alreadyExists(error: unknown): boolean {
  const { statusCode, code } = error as { statusCode?: number; code?: string };
  if (statusCode === 409) return code === undefined || code === 'BlobAlreadyExists';
  if (statusCode === 412) return code === undefined || code === 'ConditionNotMet';
  return false;
}

async function hashOf(blob: BlobClient): Promise<string> {
  const response = await blob.download(0, undefined, { maxRetryRequests: 5 });
  const hash = createHash('sha256');
  for await (const chunk of response.readableStreamBody!) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
