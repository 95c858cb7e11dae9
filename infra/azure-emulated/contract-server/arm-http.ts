// The small HTTP vocabulary every handler shares: ARM's error envelope
// ({"error":{"code","message"}}), JSON in and out, and an error class that carries the
// status, code and any headers (Retry-After, WWW-Authenticate) a refusal needs.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class ArmError extends Error {
  override name = 'ArmError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A request body that is not JSON: ARM's 400 InvalidRequestContent. */
export async function readJson(req: IncomingMessage, limitBytes = 4 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new ArmError(413, 'RequestEntityTooLarge', `The request body is larger than ${limitBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text && { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendArmError(res: ServerResponse, err: ArmError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message, details: [], additionalInfo: [] } }, err.headers);
}

export const notFound = (what: string) => new ArmError(404, 'ResourceNotFound', `${what} was not found.`);
export const userError = (message: string, status = 400) => new ArmError(status, 'UserError', message);
