// Artifact storage: the TrueNAS NFS mount in production, a folder under .data by default, or
// an Azure Blob container (`azblob://account/container/prefix`). Keys are relative POSIX
// paths ("models/thai-sentiment/runs/<run>/model.onnx"); a key that would escape the root is
// refused. Callers never see where bytes live: folder-shaped work (a dataset staged by a
// tool, a model folder onnxruntime must open) goes through putFolder and localFolder, which
// every implementation provides.

export interface ArtifactEntry {
  key: string;
  size: number;
  sha256: string;
}

/** What a run folder holds, with checksums; written as manifest.json in that folder. */
export interface Manifest {
  prefix: string;
  createdAt: string;
  files: ArtifactEntry[];
}

export interface ArtifactStore {
  /** Root as a URI for the registry, e.g. "file:///mnt/truenas/mlc" or "azblob://acct/container/mlc". */
  readonly rootUri: string;
  /** `${rootUri}/${key}`: how the registry names an artifact. */
  uriOf(key: string): string;
  /** The key of a URI from uriOf; ArtifactOutsideRootError when it names another root. */
  keyOf(uri: string): string;
  /** Atomic write: readers see the old bytes or the new, never part; returns size and sha256. */
  put(key: string, data: Uint8Array | string): Promise<ArtifactEntry>;
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /** Every file key under the folder `prefix` ('' = all), sorted; in-progress writes hidden. */
  list(prefix: string): Promise<string[]>;
  sha256(key: string): Promise<string>;
  /** Hash every file under prefix and write prefix/manifest.json atomically. */
  writeManifest(prefix: string): Promise<Manifest>;
  /** Re-hash against prefix/manifest.json; throws ArtifactIntegrityError on any difference. */
  verifyManifest(prefix: string): Promise<Manifest>;
  /**
   * Copy every file of a local folder (recursively) under `prefix`, then write its manifest
   * last: a folder is complete exactly when its manifest exists. Files already under prefix
   * that are not in localDir are removed first, so a crashed earlier attempt leaves nothing
   * behind. Returns the manifest.
   */
  putFolder(localDir: string, prefix: string): Promise<Manifest>;
  /**
   * A local folder holding the files under `prefix` (after verifying them against its
   * manifest when one exists), for tools that need real files: onnxruntime, tokenizers, a
   * packaging step. On a filesystem store this is the folder itself; on Blob, a download
   * cached under the store's cache folder by manifest hash. Treat it as read-only.
   */
  localFolder(prefix: string): Promise<string>;
}
