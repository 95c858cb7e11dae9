// One manifest format and one integrity check for every store, so a folder written by the FS
// store and one written to Blob are checked by the same rules (changed / missing / extra) and
// a manifest.json means the same thing wherever it lies.
import { z } from 'zod';
import type { ArtifactEntry, ArtifactStore, Manifest } from './port';
import { ArtifactIntegrityError, ArtifactNotFoundError } from './errors';
import { joinKey, validateKey, validatePrefix } from './keys';
import type { FileHash } from './local-files';

export const MANIFEST = 'manifest.json';

const manifestSchema = z.object({
  prefix: z.string(),
  createdAt: z.string(),
  files: z.array(z.object({ key: z.string(), size: z.number().int().nonnegative(), sha256: z.string() })),
});

export function manifestKeyOf(folder: string): string {
  return joinKey(folder, MANIFEST);
}

export function newManifest(folder: string, files: ArtifactEntry[]): Manifest {
  return { prefix: folder, createdAt: new Date().toISOString(), files: [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

export function serializeManifest(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

/** The manifest of `folder` from its bytes (undefined: there is none); unusable ones are integrity failures. */
export function parseManifest(folder: string, bytes: Uint8Array | undefined): Manifest {
  const manifestKey = manifestKeyOf(folder);
  if (bytes === undefined) throw new ArtifactIntegrityError(folder, [], [], [], `no ${manifestKey}`);
  let parsed: Manifest;
  try {
    parsed = manifestSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  } catch (error) {
    throw new ArtifactIntegrityError(folder, [], [], [], `${manifestKey} is unreadable (${String(error)})`);
  }
  // A manifest naming files outside its folder (or with bad keys) was not written by us.
  const stray = parsed.files.filter((f) => !isUnder(f.key, folder) || f.key === manifestKey);
  if (parsed.prefix !== folder || stray.length) {
    throw new ArtifactIntegrityError(folder, [], [], [], `${manifestKey} describes another folder (${parsed.prefix})`);
  }
  if (new Set(parsed.files.map((f) => f.key)).size !== parsed.files.length) {
    throw new ArtifactIntegrityError(folder, [], [], [], `${manifestKey} names a file twice`);
  }
  return parsed;
}

/**
 * Throws ArtifactIntegrityError unless every file of the manifest hashes as recorded
 * (`hashOf` gives undefined for a missing one) and `listed` (the folder's keys now) holds no
 * file the manifest does not name.
 */
export async function checkAgainstManifest(manifest: Manifest, hashOf: (key: string) => Promise<FileHash | undefined>, listed: string[]): Promise<void> {
  const missing: string[] = [];
  const changed: string[] = [];
  for (const entry of manifest.files) {
    const actual = await hashOf(entry.key);
    if (!actual) missing.push(entry.key);
    else if (actual.sha256 !== entry.sha256 || actual.size !== entry.size) changed.push(entry.key);
  }
  const named = new Set(manifest.files.map((f) => f.key));
  const manifestKey = manifestKeyOf(manifest.prefix);
  const extra = listed.filter((key) => key !== manifestKey && !named.has(key));
  if (missing.length || changed.length || extra.length) {
    throw new ArtifactIntegrityError(manifest.prefix, missing, changed, extra);
  }
}

/** `store.get`, or undefined when the key does not exist. */
export async function getIfExists(store: Pick<ArtifactStore, 'get'>, key: string): Promise<Buffer | undefined> {
  try {
    return await store.get(key);
  } catch (error) {
    if (error instanceof ArtifactNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Hashes every file under `prefix` but the manifest and writes manifest.json beside them; `hashOf`
 * is the store's cheapest way to read a file just listed (throws when it is gone).
 */
export async function writeManifestOf(
  store: Pick<ArtifactStore, 'list' | 'put'>,
  hashOf: (key: string) => Promise<FileHash>,
  prefix: string,
): Promise<Manifest> {
  const folder = validatePrefix(prefix);
  const manifestKey = manifestKeyOf(folder);
  const files: ArtifactEntry[] = [];
  for (const key of await store.list(folder)) {
    if (key !== manifestKey) files.push({ key, ...(await hashOf(key)) });
  }
  const manifest = newManifest(folder, files);
  await store.put(manifestKey, serializeManifest(manifest));
  return manifest;
}

/**
 * The folder's manifest, once every file matches it and no file is there that it does not name;
 * `hashIfExists` gives undefined for a missing file.
 */
export async function verifyManifestOf(
  store: Pick<ArtifactStore, 'list' | 'get'>,
  hashIfExists: (key: string) => Promise<FileHash | undefined>,
  prefix: string,
): Promise<Manifest> {
  const folder = validatePrefix(prefix);
  const manifest = parseManifest(folder, await getIfExists(store, manifestKeyOf(folder)));
  await checkAgainstManifest(manifest, hashIfExists, await store.list(folder));
  return manifest;
}

/** The part of `key` below `folder` (a relative path inside a local copy of the folder). */
export function relativeKey(key: string, folder: string): string {
  return folder ? key.slice(folder.length + 1) : key;
}

function isUnder(key: string, folder: string): boolean {
  try {
    validateKey(key);
  } catch {
    return false;
  }
  return folder === '' || key.startsWith(folder + '/');
}
