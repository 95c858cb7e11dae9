// putFolder, once for every store: the order of its steps is what makes it safe to rerun.
// The old manifest goes first (from then on the folder reads as incomplete), then files that
// the new folder lacks (leftovers of a crashed attempt or an older version), then each file
// atomically, and the manifest last: a folder is complete exactly when its manifest exists.
// The manifest records the hashes of the local files, so bytes damaged on the way in are
// caught by the first verify, not blessed by a re-hash of what arrived.
import type { ArtifactEntry, Manifest } from './port';
import { ArtifactIntegrityError, ArtifactKeyError } from './errors';
import { joinKey, validateKey, validatePrefix } from './keys';
import { MANIFEST, manifestKeyOf, newManifest, serializeManifest } from './manifest';
import { filesOf } from './local-files';

/** What putFolder needs of a store. */
export interface FolderWriter {
  list(prefix: string): Promise<string[]>;
  /** Deletes one key; a key that is already gone is fine. */
  remove(key: string): Promise<void>;
  /** Atomically stores the local file at `path` under `key`; size and sha256 of what was read. */
  putFile(key: string, path: string): Promise<ArtifactEntry>;
  put(key: string, data: string): Promise<ArtifactEntry>;
}

export async function putFolderWith(writer: FolderWriter, localDir: string, prefix: string): Promise<Manifest> {
  const folder = validatePrefix(prefix);
  if (folder === '') {
    throw new ArtifactKeyError(prefix, 'is the artifact root; putFolder replaces everything under its prefix, so give it a folder');
  }
  const manifestKey = manifestKeyOf(folder);
  // A manifest.json in the local folder (a copy of another stored folder) is replaced by ours.
  const local = (await filesOf(localDir)).filter((f) => f.rel !== MANIFEST).map((f) => ({ key: validateKey(joinKey(folder, f.rel)), path: f.path }));
  const wanted = new Set(local.map((f) => f.key));

  await writer.remove(manifestKey);
  for (const key of await writer.list(folder)) {
    if (!wanted.has(key)) await writer.remove(key);
  }
  const entries: ArtifactEntry[] = [];
  for (const file of local) entries.push(await writer.putFile(file.key, file.path));

  // Someone else writing under the same prefix meanwhile: refuse to bless a mixed folder.
  const now = await writer.list(folder);
  const extra = now.filter((key) => !wanted.has(key));
  const missing = [...wanted].filter((key) => !now.includes(key));
  if (extra.length || missing.length) {
    throw new ArtifactIntegrityError(folder, missing, [], extra, 'the folder changed while putFolder was writing it (a second writer?)');
  }
  const manifest = newManifest(folder, entries);
  await writer.put(manifestKey, serializeManifest(manifest));
  return manifest;
}
