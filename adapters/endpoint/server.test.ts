import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedbackRecord, PredictionRecord } from '../db/port';
import type { LoadScorer, Scorer } from '../scoring/port';
import { startEndpoint, type Deployment, type Endpoint } from './server';

const KEY = 'k'.repeat(64);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const j = async (r: Response): Promise<any> => r.json();
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

/** A scorer that says "pos" for texts with "good"; predict waits on `hold` when set. */
function fakes() {
  const state = {
    deployment: { model: 'thai-sentiment', version: 1, modelDir: '/m/v1', sha256: 'aa' } as Deployment | null,
    logged: [] as PredictionRecord[],
    feedback: [] as FeedbackRecord[],
    closed: [] as string[],
    loads: [] as string[],
    scored: [] as string[],
    hold: null as Promise<void> | null,
    failLog: false,
    failLoad: false,
  };
  const loadScorer: LoadScorer = async (dir) => {
    state.loads.push(dir);
    if (state.failLoad) throw new Error(`model.onnx not found in ${dir}`);
    const scorer: Scorer = {
      labels: ['neg', 'pos'],
      async predict(texts) {
        state.scored.push(...texts);
        if (state.hold) await state.hold;
        return texts.map((t) =>
          t.includes('good') ? { label: 'pos', probabilities: { neg: 0.1, pos: 0.9 } } : { label: 'neg', probabilities: { neg: 0.8, pos: 0.2 } },
        );
      },
      close: async () => void state.closed.push(dir),
    };
    return scorer;
  };
  return {
    state,
    options: {
      host: '127.0.0.1',
      port: 0,
      apiKey: KEY,
      loadScorer,
      resolveDeployment: async (model?: string) => (state.deployment && (!model || model === state.deployment.model) ? state.deployment : null),
      logPredictions: async (records: PredictionRecord[]) => {
        if (state.failLog) throw new Error('database is down');
        state.logged.push(...records);
      },
      addFeedback: async (records: FeedbackRecord[]) => (state.feedback.push(...records), records.length),
    },
  };
}

describe('local endpoint (fake scorer)', () => {
  let f: ReturnType<typeof fakes>;
  let ep: Endpoint;
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${ep.url}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeEach(async () => {
    f = fakes();
    ep = await startEndpoint(f.options);
  });
  afterEach(async () => {
    await ep.close();
  });

  it('answers /health without a key', async () => {
    const res = await fetch(`${ep.url}/health`);
    expect(res.status).toBe(200);
    expect(await j(res)).toEqual({ status: 'ok', models: [] });
  });

  it('normalizes texts as training did, and logs them as they were sent', async () => {
    const raw = 'ร้าน\u200bนี้   ดี\u00a0มาก ';
    const res = await post('/score', { texts: [raw] });
    expect(res.status).toBe(200);
    expect(f.state.scored).toEqual(['ร้านนี้ ดี มาก']);
    expect(f.state.logged[0]!.text).toBe(raw);
  });

  it('loads a model on /health?model=, so a deployment can be confirmed as serving', async () => {
    const res = await fetch(`${ep.url}/health?model=thai-sentiment`);
    expect(res.status).toBe(200);
    expect((await j(res)).models).toEqual([expect.objectContaining({ model: 'thai-sentiment', version: 1 })]);
    expect((await fetch(`${ep.url}/health?model=unknown`)).status).toBe(404);
  });

  it('refuses /score without the right key, with 401', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: KEY }, { authorization: `Basic ${KEY}` }]) {
      const res = await post('/score', { texts: ['x'] }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(f.state.loads).toEqual([]);
  });

  it('scores, logs every prediction with the request id, and lists the loaded model', async () => {
    const res = await post('/score', { texts: ['good food', 'meh'] });
    expect(res.status).toBe(200);
    const body = await j(res);
    expect(body).toMatchObject({
      model: 'thai-sentiment',
      version: 1,
      predictions: [{ label: 'pos', probabilities: { neg: 0.1, pos: 0.9 } }, { label: 'neg' }],
    });
    expect(res.headers.get('x-request-id')).toBe(body.requestId);
    expect(f.state.logged).toEqual([
      { model: 'thai-sentiment', version: 1, requestId: body.requestId, text: 'good food', label: 'pos', probabilities: { neg: 0.1, pos: 0.9 } },
      { model: 'thai-sentiment', version: 1, requestId: body.requestId, text: 'meh', label: 'neg', probabilities: { neg: 0.8, pos: 0.2 } },
    ]);
    const health = await j(await fetch(`${ep.url}/health`));
    expect(health.models).toEqual([{ model: 'thai-sentiment', version: 1, sha256: 'aa' }]);
  });

  it('names the bad field with 400', async () => {
    const cases: [unknown, string][] = [
      [{ texts: [] }, 'texts'],
      [{ texts: ['ok', 5] }, 'texts.1'],
      [{ texts: ['x'.repeat(5001)] }, 'texts.0'],
      [{ texts: Array(257).fill('a') }, 'texts'],
      [{ text: ['a'] }, 'texts'],
      [{ texts: ['a'], model: '' }, 'model'],
    ];
    for (const [body, path] of cases) {
      const res = await post('/score', body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      const json = await j(res);
      expect(json.issues.map((i: { path: string }) => i.path)).toContain(path);
      expect(json.error).toContain(`${path}:`);
    }
    const bad = await post('/score', '{"texts": [');
    expect(bad.status).toBe(400);
    expect((await j(bad)).error).toMatch(/not valid JSON/);
    expect(f.state.logged).toEqual([]);
  });

  it('returns 413 for bodies over 1 MiB, declared or streamed', async () => {
    const big = JSON.stringify({ texts: Array(300).fill('x'.repeat(4000)) });
    expect((await post('/score', big)).status).toBe(413);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await fetch(`${ep.url}/score`, { method: 'POST', headers: auth, body: stream, duplex: 'half' });
    expect(res.status).toBe(413);
    // The connection still works afterwards.
    expect((await post('/score', { texts: ['good'] })).status).toBe(200);
  });

  it('returns 404 without a deployment, for an unknown route, and 405 for a wrong method', async () => {
    expect((await post('/score', { model: 'other', texts: ['a'] })).status).toBe(404);
    f.state.deployment = null;
    const res = await post('/score', { texts: ['a'] });
    expect(res.status).toBe(404);
    expect((await j(res)).error).toMatch(/no model is deployed/);
    expect((await fetch(`${ep.url}/nope`)).status).toBe(404);
    // An undeployed model is unloaded once a request for it finds no deployment.
    f.state.deployment = { model: 'thai-sentiment', version: 1, modelDir: '/m/v1', sha256: 'aa' };
    expect((await post('/score', { texts: ['a'] })).status).toBe(200);
    f.state.deployment = null;
    expect((await post('/score', { model: 'thai-sentiment', texts: ['a'] })).status).toBe(404);
    expect((await j(await fetch(`${ep.url}/health`))).models).toEqual([]);
    await new Promise((r) => setTimeout(r, 10));
    expect(f.state.closed).toEqual(['/m/v1']);
    const wrong = await fetch(`${ep.url}/score`, { headers: auth });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('answers 503, with no predictions, when logging fails', async () => {
    f.state.failLog = true;
    const res = await post('/score', { texts: ['good'] });
    expect(res.status).toBe(503);
    const body = await j(res);
    expect(body.error).toMatch(/could not be logged.*database is down/);
    expect(body.predictions).toBeUndefined();
  });

  it('answers 503 when the model cannot be loaded, and recovers once it can', async () => {
    f.state.failLoad = true;
    const res = await post('/score', { texts: ['good'] });
    expect(res.status).toBe(503);
    expect((await j(res)).error).toMatch(/thai-sentiment v1 could not be loaded from \/m\/v1: model.onnx not found/);
    f.state.failLoad = false;
    expect((await post('/score', { texts: ['good'] })).status).toBe(200);
  });

  it('swaps to a new version atomically: in-flight requests finish on the old one, which is then closed', async () => {
    expect((await post('/score', { texts: ['warm up'] })).status).toBe(200);
    let open!: () => void;
    f.state.hold = new Promise<void>((r) => (open = r));
    const inFlight = post('/score', { texts: ['good old'] });
    await new Promise((r) => setTimeout(r, 50));
    f.state.hold = null;
    f.state.deployment = { model: 'thai-sentiment', version: 2, modelDir: '/m/v2', sha256: 'bb' };
    const fresh = await j(await post('/score', { texts: ['good new'] }));
    expect(fresh.version).toBe(2);
    expect(f.state.closed).toEqual([]); // v1 still has a request in flight
    open();
    const old = await j(await inFlight);
    expect(old.version).toBe(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(f.state.closed).toEqual(['/m/v1']);
    expect(f.state.logged.map((r) => [r.text, r.version])).toEqual([
      ['warm up', 1],
      ['good new', 2],
      ['good old', 1],
    ]);
    expect((await j(await fetch(`${ep.url}/health`))).models).toEqual([{ model: 'thai-sentiment', version: 2, sha256: 'bb' }]);
  });

  it('accepts feedback with labels the model knows, naming a bad one', async () => {
    const ok = await post('/feedback', {
      model: 'thai-sentiment',
      items: [
        { text: 'good', label: 'pos' },
        { text: 'bad', label: 'neg' },
      ],
    });
    expect(ok.status).toBe(200);
    expect(await j(ok)).toEqual({ accepted: 2 });
    expect(f.state.feedback).toEqual([
      { model: 'thai-sentiment', text: 'good', label: 'pos', source: 'endpoint' },
      { model: 'thai-sentiment', text: 'bad', label: 'neg', source: 'endpoint' },
    ]);
    const bad = await post('/feedback', {
      model: 'thai-sentiment',
      items: [
        { text: 'a', label: 'pos' },
        { text: 'b', label: 'angry' },
      ],
    });
    expect(bad.status).toBe(400);
    expect((await j(bad)).issues).toEqual([{ path: 'items.1.label', message: '"angry" is not one of the model\'s labels: neg, pos' }]);
    expect((await post('/feedback', { model: 'thai-sentiment', items: [{ text: 'a' }] })).status).toBe(400);
    expect((await post('/feedback', { items: [{ text: 'a', label: 'pos' }] }, {})).status).toBe(401);
    expect(f.state.feedback).toHaveLength(2);
  });

  it('accepts feedback by request id, text optional, and names a row that has neither', async () => {
    const served = await j(await post('/score', { texts: ['good one'] }));
    const ok = await post('/feedback', {
      model: 'thai-sentiment',
      items: [
        { requestId: served.requestId, label: 'neg' },
        { requestId: 'r-batch', text: 'a copy', label: 'pos' },
        { requestId: 'r-blank', text: ' ', label: 'pos' },
      ],
    });
    expect(ok.status).toBe(200);
    expect(f.state.feedback).toEqual([
      { model: 'thai-sentiment', requestId: served.requestId, label: 'neg', source: 'endpoint' },
      { model: 'thai-sentiment', requestId: 'r-batch', text: 'a copy', label: 'pos', source: 'endpoint' },
      { model: 'thai-sentiment', requestId: 'r-blank', label: 'pos', source: 'endpoint' }, // a blank text is no text
    ]);
    const bad = await post('/feedback', {
      model: 'thai-sentiment',
      items: [{ text: 'ok', label: 'pos' }, { label: 'pos' }, { text: '  ', label: 'neg' }, { requestId: '', label: 'neg' }],
    });
    expect(bad.status).toBe(400);
    const body = await j(bad);
    expect(body.issues.map((i: { path: string }) => i.path)).toEqual(['items.1', 'items.2', 'items.3.requestId']);
    expect(body.error).toMatch(
      /items\.1: names nothing to judge: give "text" \(the text that was scored\), "requestId" \(the requestId its \/score answer returned\), or both/,
    );
    expect(f.state.feedback).toHaveLength(3);
  });

  it('closes the loaded scorers on close', async () => {
    await post('/score', { texts: ['a'] });
    await ep.close();
    expect(f.state.closed).toEqual(['/m/v1']);
    ep = await startEndpoint(f.options); // for afterEach
  });
});
