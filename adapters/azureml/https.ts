// A JSON POST that can trust an extra CA: the endpoint's scoring URI may be served with a
// certificate the system store does not know (an emulator; a private CA), and fetch() in
// Node 20 takes no per-request CA without an extra dependency.
import http from 'node:http';
import https from 'node:https';

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function postJson(url: string, payload: unknown, headers: Record<string, string>, ca?: string, timeoutMs = 30_000): Promise<JsonResponse> {
  const target = new URL(url);
  const body = Buffer.from(JSON.stringify(payload));
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers },
        timeout: timeoutMs,
        ...(ca && target.protocol === 'https:' && { ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          const flat = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
          resolve({ status: res.statusCode ?? 0, headers: flat, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} within ${timeoutMs / 1000}s`)));
    req.on('error', reject);
    req.end(body);
  });
}
