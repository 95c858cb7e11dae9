// Artifacts on a filesystem: the TrueNAS NFS mount in production, .data/artifacts by default.
//
// Writes are atomic: bytes go to a temp file in the target's own folder (same filesystem, so
// rename is atomic, also on NFS), are fsynced, then renamed over the target. A reader, a
// crashed writer or a second writer never leaves a half-written model.onnx under its real
// name. Paths are confined to the root twice: lexically (keys.ts) and after resolving
// symlinks, since a link inside the root may point anywhere.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, realpathSync } from 'node:fs';
import { mkdir, open, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { writeFileAtomic } from './atomic';
import type { ArtifactEntry, ArtifactStore, Manifest } from './port';
import { ArtifactIntegrityError, ArtifactKeyError, ArtifactNotFoundError } from './errors';
import { TEMP_NAME, joinKey, tempNameFor, validateKey, validatePrefix } from './keys';

const MANIFEST = 'manifest.json';

const manifestSchema = z.object({
  prefix: z.string(),
  createdAt: z.string(),
  files: z.array(z.object({ key: z.string(), size: z.number().int().nonnegative(), sha256: z.string() })),
});

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly rootUri: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.rootUri = pathToFileURL(this.root).href;
  }

  localPath(key: string): string {
    const path = join(this.root, validateKey(key));
    this.assertInside(key, nearestExistingSync(path), this.realRootSync());
    return path;
  }

  async put(key: string, data: Uint8Array | string): Promise<ArtifactEntry> {
    const target = join(this.root, validateKey(key));
    const dir = dirname(target);
    const realRoot = await this.realRoot();
    // Check before mkdir (a symlinked folder must not let us create folders outside) and after.
    this.assertInside(key, await nearestExisting(dir), realRoot);
    await mkdir(dir, { recursive: true });
    this.assertInside(key, await realpath(dir), realRoot);

    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const temp = join(dir, tempNameFor(target.slice(dir.length + 1), randomBytes(6).toString('hex')));
    await writeFileAtomic(target, bytes, temp);
    await syncFolder(dir);
    return { key, size: bytes.byteLength, sha256 };
  }

  async get(key: string): Promise<Buffer> {
    return readFile(await this.existingPath(key));
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(await this.existingPath(key))).isFile();
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) return false;
      throw error;
    }
  }

  /** Every file key under the folder `prefix` ('' = all), sorted; in-progress writes are hidden. */
  async list(prefix: string): Promise<string[]> {
    const folder = validatePrefix(prefix);
    const realRoot = await this.realRoot();
    let start: string;
    try {
      start = await realpath(join(this.root, folder));
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    this.assertInside(prefix, start, realRoot);
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (TEMP_NAME.test(entry.name)) continue;
        const key = joinKey(keyPrefix, entry.name);
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path, key);
        else if (entry.isFile()) keys.push(key);
        // Symlinks: list a linked file only if it stays inside the root; never follow linked
        // folders (they may loop or lead out).
        else if (entry.isSymbolicLink() && (await linkedFileInside(path, realRoot))) keys.push(key);
      }
    };
    await walk(start, folder);
    return keys.sort();
  }

  async sha256(key: string): Promise<string> {
    return (await hashFile(await this.existingPath(key))).sha256;
  }

  async writeManifest(prefix: string): Promise<Manifest> {
    const folder = validatePrefix(prefix);
    const manifestKey = joinKey(folder, MANIFEST);
    const files: ArtifactEntry[] = [];
    for (const key of await this.list(folder)) {
      if (key !== manifestKey) files.push({ key, ...(await hashFile(await this.existingPath(key))) });
    }
    const manifest: Manifest = { prefix: folder, createdAt: new Date().toISOString(), files };
    await this.put(manifestKey, JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  }

  async verifyManifest(prefix: string): Promise<Manifest> {
    const folder = validatePrefix(prefix);
    const manifestKey = joinKey(folder, MANIFEST);
    const manifest = await this.readManifest(folder, manifestKey);
    const missing: string[] = [];
    const changed: string[] = [];
    for (const entry of manifest.files) {
      let actual;
      try {
        actual = await hashFile(await this.existingPath(entry.key));
      } catch (error) {
        if (!(error instanceof ArtifactNotFoundError)) throw error;
        missing.push(entry.key);
        continue;
      }
      if (actual.sha256 !== entry.sha256 || actual.size !== entry.size) changed.push(entry.key);
    }
    const listed = new Set(manifest.files.map((f) => f.key));
    const extra = (await this.list(folder)).filter((key) => key !== manifestKey && !listed.has(key));
    if (missing.length || changed.length || extra.length) {
      throw new ArtifactIntegrityError(folder, missing, changed, extra);
    }
    return manifest;
  }

  private async readManifest(folder: string, manifestKey: string): Promise<Manifest> {
    let parsed: Manifest;
    try {
      parsed = manifestSchema.parse(JSON.parse((await this.get(manifestKey)).toString('utf8')));
    } catch (error) {
      const problem = error instanceof ArtifactNotFoundError ? `no ${manifestKey}` : `${manifestKey} is unreadable (${String(error)})`;
      throw new ArtifactIntegrityError(folder, [], [], [], problem);
    }
    // A manifest naming files outside its folder (or with bad keys) was not written by us.
    const stray = parsed.files.filter((f) => !isUnder(f.key, folder));
    if (parsed.prefix !== folder || stray.length) {
      throw new ArtifactIntegrityError(folder, [], [], [], `${manifestKey} describes another folder (${parsed.prefix})`);
    }
    return parsed;
  }

  /** The real path of an existing key, refused if a symlink leads outside the root. */
  private async existingPath(key: string): Promise<string> {
    const path = join(this.root, validateKey(key));
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      if (isMissing(error)) throw new ArtifactNotFoundError(key, path, { cause: error });
      throw error;
    }
    this.assertInside(key, real, await this.realRoot());
    return real;
  }

  private assertInside(key: string, realPath: string, realRoot: string): void {
    const rel = relative(realRoot, realPath);
    if (rel === '..' || rel.startsWith('..' + sep)) {
      throw new ArtifactKeyError(key, `resolves to ${realPath}, outside the artifact root ${realRoot} (through a symlink)`);
    }
  }

  // The root itself may be a symlink (e.g. .data/artifacts → /mnt/truenas): compare real paths.
  private realRootPromise?: Promise<string>;
  private realRoot(): Promise<string> {
    this.realRootPromise ??= mkdir(this.root, { recursive: true }).then(() => realpath(this.root));
    return this.realRootPromise;
  }

  private realRootSync(): string {
    try {
      return realpathSync(this.root);
    } catch {
      return this.root; // not created yet: nothing under it can be a symlink
    }
  }
}

function isUnder(key: string, folder: string): boolean {
  try {
    validateKey(key);
  } catch {
    return false;
  }
  return folder === '' || key.startsWith(folder + '/');
}

async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** realpath of the path, or of its closest ancestor that exists (for paths not yet created). */
async function nearestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    try {
      const real = await realpath(p);
      return p === path ? real : join(real, relative(p, path));
    } catch (error) {
      if (!isMissing(error) || dirname(p) === p) throw error;
    }
  }
}

function nearestExistingSync(path: string): string {
  for (let p = path; ; p = dirname(p)) {
    try {
      const real = realpathSync(p);
      return p === path ? real : join(real, relative(p, path));
    } catch (error) {
      if (!isMissing(error) || dirname(p) === p) throw error;
    }
  }
}

async function linkedFileInside(path: string, realRoot: string): Promise<boolean> {
  try {
    const real = await realpath(path);
    const rel = relative(realRoot, real);
    return !(rel === '..' || rel.startsWith('..' + sep)) && (await stat(real)).isFile();
  } catch {
    return false; // dangling link
  }
}

// The rename is durable only once the folder entry is on disk. Some filesystems refuse fsync
// on a folder; the file itself is already synced, so that is not worth failing the write.
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // ignore: see above
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
