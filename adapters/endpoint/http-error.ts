// How the endpoint refuses: one error class with the status, the message the client reads and
// the headers it needs (Retry-After, Allow, WWW-Authenticate), and a translation of fastify's
// own errors (body too large, ...) into the same words and shape.
import { type z } from 'zod';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    /** Shedding by design (rate limit, overload, timeout): a 5xx the operator need not be told about one by one. */
    readonly shed = false,
  ) {
    super(message);
  }
}

/** Parses with zod; a 400 that names each bad field by its path. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === undefined) throw new HttpError(400, 'request body is empty; send JSON');
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw invalidBody(result.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })));
}

export function invalidBody(issues: { path: string; message: string }[]): HttpError {
  return new HttpError(400, `invalid request body: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

function mebibytes(bytes: number): string {
  return `${+(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** fastify's errors (and anything else carrying a 4xx/5xx statusCode) as HttpErrors; null for a plain failure (a bug: 500). */
export function toHttpError(error: unknown, limits: { maxBodyBytes: number }): HttpError | null {
  if (error instanceof HttpError) return error;
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new HttpError(413, `request body exceeds ${limits.maxBodyBytes} bytes (${mebibytes(limits.maxBodyBytes)}): send fewer texts per request`);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600) return new HttpError(e.statusCode, e.message ?? 'request refused');
  return null;
}
