// Artifact storage: the TrueNAS NFS mount in production, a folder under .data by default.
// Keys are relative POSIX paths ("models/thai-sentiment/runs/<run>/model.onnx"); a key that
// would escape the root is refused.

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
  /** Root as a URI for the registry, e.g. "file:///mnt/truenas/mlc". */
  readonly rootUri: string;
  /** Absolute local path of a key (for tools that need files: onnxruntime, the tokenizer). */
  localPath(key: string): string;
  /** Atomic write (temp file + rename); returns the entry with its sha256. */
  put(key: string, data: Uint8Array | string): Promise<ArtifactEntry>;
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): Promise<string[]>;
  sha256(key: string): Promise<string>;
  /** Hash every file under prefix and write prefix/manifest.json atomically. */
  writeManifest(prefix: string): Promise<Manifest>;
  /** Re-hash against prefix/manifest.json; throws ArtifactIntegrityError on any difference. */
  verifyManifest(prefix: string): Promise<Manifest>;
}
