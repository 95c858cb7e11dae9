// Reading local folders, for putFolder (a folder a tool wrote) and the Blob store's download
// cache. Symlinked files and folders are followed, since tool caches (Hugging Face snapshots)
// are made of links; a folder reached twice is walked once, so a link loop cannot hang us.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LocalFile {
  /** Path below the folder, '/'-separated: the key suffix it will have in a store. */
  rel: string;
  path: string;
}

/** Every file below `dir`, sorted by rel. */
export async function filesOf(dir: string): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const seen = new Set<string>();
  const walk = async (folder: string, relFolder: string): Promise<void> => {
    const real = await realpath(folder);
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const rel = relFolder ? `${relFolder}/${entry.name}` : entry.name;
      const kind = entry.isSymbolicLink() ? await stat(path) : entry;
      if (kind.isDirectory()) await walk(path, rel);
      else if (kind.isFile()) files.push({ rel, path });
    }
  };
  await walk(dir, '');
  return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** A stored file's size and SHA-256, as a manifest records it. */
export type FileHash = { size: number; sha256: string };

export async function hashFile(path: string): Promise<FileHash> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
