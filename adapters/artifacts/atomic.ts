// The one way files are written here: a temp file beside the target, fsync, rename. A reader
// (or a crash) sees the old file or the new one, never a part of either.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

export async function writeFileAtomic(
  target: string,
  bytes: Uint8Array,
  temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
): Promise<void> {
  try {
    const file = await open(temp, 'wx', 0o644);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}
