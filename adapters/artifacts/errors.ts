// Artifact failures a caller can act on. A bad key or a failed integrity check is a bug or a
// tampered/damaged file: activities should not retry them.

export class ArtifactKeyError extends Error {
  override readonly name = 'ArtifactKeyError';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`artifact key ${JSON.stringify(key)} is refused: it ${reason}. Keys are relative POSIX paths under the artifact root, like "models/m/runs/r/model.onnx".`);
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
      `artifacts under ${prefix || '(root)'} fail their manifest check — ${parts.join('; ')}. ` +
        `Do not use these files; re-run the step that produced them.`,
    );
  }
}
