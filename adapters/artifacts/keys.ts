// Artifact keys: relative POSIX paths in normal form. Refusing anything else (rather than
// normalising it) keeps one spelling per file, so keys in manifests and the registry compare
// equal, and a key can never name a path outside the root. Shared by every store.
import { ArtifactKeyError, ArtifactOutsideRootError } from './errors';

/** put() writes `.<name>.tmp-<pid>-<hex>` beside the target, then renames it into place. */
export const TEMP_NAME = /^\..+\.tmp-\d+-[0-9a-f]+$/;

export function tempNameFor(base: string, random: string): string {
  return `.${base}.tmp-${process.pid}-${random}`;
}

/** Throws ArtifactKeyError unless `key` is a normal relative path to a file. */
export function validateKey(key: string): string {
  const reason = keyProblem(key);
  if (reason) throw new ArtifactKeyError(key, reason);
  return key;
}

/** A folder prefix: '' is the root; one trailing '/' is allowed and dropped. */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return '';
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const reason = keyProblem(trimmed);
  if (reason) throw new ArtifactKeyError(prefix, reason);
  return trimmed;
}

function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'is empty';
  if (key.includes('\0')) return 'contains a NUL byte';
  if (key.includes('\\')) return "contains a backslash (separate folders with '/')";
  if (key.startsWith('/')) return 'is an absolute path';
  const segments = key.split('/');
  if (segments.includes('..')) return "has a '..' segment";
  if (segments.includes('.')) return "has a '.' segment";
  if (segments.includes('')) return "has an empty segment (a doubled or trailing '/')";
  if (TEMP_NAME.test(segments[segments.length - 1]!)) return 'uses the name pattern reserved for in-progress writes';
  return undefined;
}

/** prefix + '/' + rest, where prefix may be the root (''). */
export function joinKey(prefix: string, rest: string): string {
  return prefix ? `${prefix}/${rest}` : rest;
}

/** How the registry names an artifact: `${rootUri}/${key}`, the same for every store. */
export function uriOfKey(rootUri: string, key: string): string {
  return `${rootUri}/${validateKey(key)}`;
}

/** The key of a URI made by uriOfKey; a URI under another root is refused, not guessed at. */
export function keyOfUri(rootUri: string, uri: string): string {
  if (!uri.startsWith(`${rootUri}/`)) throw new ArtifactOutsideRootError(uri, rootUri);
  return validateKey(uri.slice(rootUri.length + 1));
}
