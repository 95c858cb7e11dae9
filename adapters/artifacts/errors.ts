// Artifact failures a caller can act on. A bad key, a failed integrity check, a URI from
// another store or a write-once conflict is a bug, a damaged file or a setting to change:
// retrying cannot fix them, so they carry `nonRetryable` (the activity wrapper honours it).

export class ArtifactKeyError extends Error {
  override readonly name = 'ArtifactKeyError';
  readonly nonRetryable = true;
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(
      `artifact key ${JSON.stringify(key)} is refused: it ${reason}. Keys are relative POSIX paths under the artifact root, like "models/m/runs/r/model.onnx".`,
    );
  }
}

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
  constructor(
    readonly key: string,
    readonly path: string,
    options?: { cause: unknown },
  ) {
    super(`artifact ${key} does not exist (looked at ${path})`, options);
  }
}

/** Files under a prefix no longer match its manifest.json (or the manifest is unusable). */
export class ArtifactIntegrityError extends Error {
  override readonly name = 'ArtifactIntegrityError';
  readonly nonRetryable = true;
  constructor(
    readonly prefix: string,
    readonly missing: string[],
    readonly changed: string[],
    readonly extra: string[],
    readonly problem?: string,
  ) {
    const parts = [
      problem,
      missing.length ? `missing: ${missing.join(', ')}` : undefined,
      changed.length ? `changed: ${changed.join(', ')}` : undefined,
      extra.length ? `not in the manifest: ${extra.join(', ')}` : undefined,
    ].filter(Boolean);
    super(
      `artifacts under ${prefix || '(root)'} fail their manifest check — ${parts.join('; ')}. ` + `Do not use these files; re-run the step that produced them.`,
    );
  }
}

/** A registry URI that does not name this store's root: the worker points at another store. */
export class ArtifactOutsideRootError extends Error {
  override readonly name = 'ArtifactOutsideRootError';
  readonly nonRetryable = true;
  constructor(
    readonly uri: string,
    readonly rootUri: string,
  ) {
    super(
      `artifact ${uri} is not under this worker's artifact store ${rootUri}: ` + `point the artifact setting (MLC_ARTIFACTS_ROOT) at the store the run used.`,
    );
  }
}

/** An artifact location that is neither a filesystem path nor an azblob:// URI, or is unusable. */
export class ArtifactLocationError extends Error {
  override readonly name = 'ArtifactLocationError';
  readonly nonRetryable = true;
  constructor(
    readonly location: string,
    readonly problem: string,
  ) {
    super(
      `artifact location ${JSON.stringify(location)} ${problem}. Use a folder path (or a file:// URL), ` +
        `e.g. /mnt/truenas/mlc, or azblob://<account>/<container>/<optional prefix>.`,
    );
  }
}

/**
 * A write-once blob already holds different bytes: a package of this name was uploaded before
 * with other contents. Overwriting would change what a deployed version points at.
 */
export class WriteOnceConflictError extends Error {
  override readonly name = 'WriteOnceConflictError';
  readonly nonRetryable = true;
  constructor(
    readonly blobUrl: string,
    readonly existingSha256: string,
    readonly newSha256: string,
  ) {
    super(
      `${blobUrl} already exists with different contents (sha256 ${existingSha256}, this upload ${newSha256}); ` +
        `blobs there are written once. Upload under a new version name, or delete that blob if you are sure nothing uses it.`,
    );
  }
}
