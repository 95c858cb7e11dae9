import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FeedbackRecord, PredictionRecord } from '../db/port';
import type { LoadScorer, Scorer } from '../scoring/port';
import { parsePrometheusText, sampleValue } from './prometheus-text';
import { startEndpoint, type Deployment, type Endpoint, type EndpointOptions } from './server';

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
    /** The texts of each predict call: one per micro-batch. */
    predictCalls: [] as string[][],
    hold: null as Promise<void> | null,
    failLog: false,
    /** Fails the logPredictions calls whose records this picks (one call per micro-batch). */
    failLogIf: null as ((records: PredictionRecord[]) => boolean) | null,
    failLoad: false,
  };
  const loadScorer: LoadScorer = async (dir) => {
    state.loads.push(dir);
    if (state.failLoad) throw new Error(`model.onnx not found in ${dir}`);
    const scorer: Scorer = {
      labels: ['neg', 'pos'],
      async predict(texts) {
        state.scored.push(...texts);
        state.predictCalls.push(texts);
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
        if (state.failLog || state.failLogIf?.(records)) throw new Error('database is down');
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
      [{ texts: ['ok', '  '] }, 'texts.1'],
      [{ texts: ['\u200b \ufeff\u00a0\n', 'ok'] }, 'texts.0'],
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
    const blank = await j(await post('/score', { texts: ['\u200b'] }));
    expect(blank.error).toBe(
      'invalid request body: texts.0: has nothing to score once whitespace and invisible characters (zero-width space, BOM) are removed; leave it out of the request',
    );
    expect(f.state.scored).toEqual([]);
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
    // /health alone notices too: it never lists a model taken off since it was loaded.
    f.state.deployment = { model: 'thai-sentiment', version: 2, modelDir: '/m/v2', sha256: 'bb' };
    expect((await post('/score', { texts: ['a'] })).status).toBe(200);
    expect((await j(await fetch(`${ep.url}/health`))).models).toEqual([{ model: 'thai-sentiment', version: 2, sha256: 'bb' }]);
    f.state.deployment = null;
    expect((await j(await fetch(`${ep.url}/health`))).models).toEqual([]);
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

describe('local endpoint under load (fake scorer)', () => {
  let f: ReturnType<typeof fakes>;
  const started: Endpoint[] = [];
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const start = async (over: Partial<EndpointOptions>) => {
    const ep = await startEndpoint({ ...f.options, ...over });
    started.push(ep);
    return ep;
  };
  const post = (ep: Endpoint, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${ep.url}/score`, { method: 'POST', headers, body: JSON.stringify(body) });
  /** Holds every predict call until the returned function is called. */
  const holdScoring = () => {
    let open!: () => void;
    f.state.hold = new Promise<void>((r) => (open = r));
    return open;
  };

  beforeEach(() => {
    f = fakes();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((ep) => ep.close()));
  });

  it('answers 429 with Retry-After once a key passes its rate limit, while another key is unaffected', async () => {
    const other = 'o'.repeat(64);
    const ep = await start({ additionalApiKeys: [other], limits: { rateLimit: { max: 3, windowMs: 60_000 } } });
    for (let i = 0; i < 3; i++) expect((await post(ep, { texts: ['a'] })).status).toBe(200);
    const limited = await post(ep, { texts: ['a'] });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = await j(limited);
    expect(body.error).toMatch(/^rate limit: more than 3 requests in 60 s from this API key .*retry after/);
    expect(body.requestId).toBe(limited.headers.get('x-request-id'));
    expect((await post(ep, { texts: ['b'] }, { ...auth, authorization: `Bearer ${other}` })).status).toBe(200);
    // Without a valid key, requests count against the client's address, apart from both keys.
    for (let i = 0; i < 3; i++) expect((await post(ep, { texts: ['a'] }, { authorization: `Bearer guess-${i}` })).status).toBe(401);
    expect((await post(ep, { texts: ['a'] }, { authorization: 'Bearer guess-3' })).status).toBe(429);
    expect(f.state.logged.map((r) => r.text)).toEqual(['a', 'a', 'a', 'b']);
  });

  it('sheds every request with 503 and Retry-After while the process is past a pressure bound', async () => {
    const ep = await start({ limits: { pressure: { maxHeapUsedBytes: 1, sampleIntervalMs: 50, retryAfterSeconds: 7 } } });
    await sleep(150); // a few samples
    for (const res of [await fetch(`${ep.url}/health?model=thai-sentiment`), await post(ep, { texts: ['good'] })]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect((await j(res)).error).toMatch(/^the endpoint is overloaded \(heap \d+ MiB used, the bound is 0 MiB\).*retry after 7 s$/);
    }
    expect(f.state.loads).toEqual([]);
    // Prometheus still scrapes, and sees the refusals.
    const scrape = await fetch(`${ep.url}/metrics`, { headers: auth });
    expect(scrape.status).toBe(200);
    const samples = parsePrometheusText(await scrape.text());
    expect(sampleValue(samples, 'mlc_endpoint_refused_total', { route: '/health', status: '503' })).toBe(1);
    expect(sampleValue(samples, 'mlc_endpoint_refused_total', { route: '/score', status: '503' })).toBe(1);
  });

  it('sheds a request with 503 and Retry-After when too many texts wait for the model already', async () => {
    const ep = await start({ limits: { batching: { maxPendingTexts: 3 } } });
    const open = holdScoring();
    const first = post(ep, { texts: ['good a', 'good b'] });
    await sleep(50);
    const shed = await post(ep, { texts: ['c', 'd'] });
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('5');
    expect((await j(shed)).error).toMatch(/^model thai-sentiment v1 has 2 texts waiting \(the limit is 3\): retry after 5 s$/);
    open();
    expect((await first).status).toBe(200);
    expect((await post(ep, { texts: ['c', 'd'] })).status).toBe(200);
  });

  it('answers 503 with Retry-After past the request time limit, and never scores texts that were still waiting', async () => {
    const ep = await start({ limits: { requestTimeoutMs: 200, batching: { maxWaitMs: 0 } } });
    const open = holdScoring();
    const scoring = post(ep, { texts: ['in the batch'] });
    await sleep(50);
    const waiting = await post(ep, { texts: ['still waiting'] });
    expect(waiting.status).toBe(503);
    expect(waiting.headers.get('retry-after')).toBe('5');
    expect((await j(waiting)).error).toMatch(/^no answer within 200 ms \(the endpoint's request time limit\)/);
    expect((await scoring).status).toBe(503);
    open();
    await sleep(50);
    expect(f.state.scored).toEqual(['in the batch']);
    // A batch that had left finishes and is logged: a row without an answer is allowed, never an answer without a row.
    expect(f.state.logged.map((r) => r.text)).toEqual(['in the batch']);
  });

  it('scores concurrent requests in fewer predict calls than requests, each answered with its own texts in order', async () => {
    const ep = await start({ limits: { batching: { maxWaitMs: 20 } } });
    // The first batch takes a while, as a real one does: the others arrive meanwhile. Counted from
    // the first predict, not from here, so a busy machine that delivers the requests late still
    // has them all queued behind it.
    const open = holdScoring();
    const bodies = Array.from({ length: 12 }, (_, i) => (i % 2 ? [`good ${i}`, `meh ${i}`] : [`meh ${i}`]));
    const pending = Promise.all(bodies.map((texts) => post(ep, { texts }).then(j)));
    while (f.state.predictCalls.length === 0) await sleep(5);
    await sleep(250);
    open();
    const answers = await pending;
    expect(f.state.predictCalls.length).toBeLessThan(bodies.length);
    expect(f.state.predictCalls.flat().sort()).toEqual(bodies.flat().sort());
    answers.forEach((answer, i) => {
      expect(answer.predictions.map((p: { label: string }) => p.label)).toEqual(bodies[i]!.map((t) => (t.startsWith('good') ? 'pos' : 'neg')));
      expect(f.state.logged.filter((r) => r.requestId === answer.requestId).map((r) => r.text)).toEqual(bodies[i]);
    });
    // At most one log call per batch: batches scored while a call ran share the next one.
    expect(ep.batchStats()).toEqual([
      { model: 'thai-sentiment', version: 1, predictCalls: f.state.predictCalls.length, commitCalls: expect.any(Number), requests: 12, texts: 18 },
    ]);
    expect(ep.batchStats()[0]!.commitCalls).toBeLessThanOrEqual(f.state.predictCalls.length);
  });

  it('fails exactly the micro-batch whose logging failed, with 503, and no other', async () => {
    const ep = await start({ limits: { batching: { maxWaitMs: 0 } } });
    const open = holdScoring();
    const first = post(ep, { texts: ['good first'] });
    await sleep(50);
    f.state.failLogIf = (records) => records.some((r) => r.text === 'doomed');
    const neighbours = ['doomed', 'good neighbour', 'meh neighbour'].map((t) => post(ep, { texts: [t] }));
    await sleep(50);
    open();
    const [ok, ...failed] = await Promise.all([first, ...neighbours]);
    expect(ok.status).toBe(200);
    for (const res of failed) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const body = await j(res);
      expect(body.error).toMatch(/could not be logged, so none are returned: database is down/);
      expect(body.predictions).toBeUndefined();
    }
    expect(f.state.predictCalls.map((texts) => [...texts].sort())).toEqual([['good first'], ['doomed', 'good neighbour', 'meh neighbour']]);
    expect(f.state.logged.map((r) => r.text)).toEqual(['good first']);
    expect((await post(ep, { texts: ['good later'] })).status).toBe(200);
  });

  it("with predictionLogging 'after-answer', answers before the log call ends, retries a failed one, and close waits for it", async () => {
    let release!: () => void;
    const logHeld = new Promise<void>((r) => (release = r));
    let failures = 1;
    const reported: string[] = [];
    const ep = await start({
      predictionLogging: 'after-answer',
      onError: (_e, { route }) => reported.push(route),
      logPredictions: async (records) => {
        if (failures-- > 0) throw new Error('database is down');
        await logHeld;
        f.state.logged.push(...records);
      },
    });
    const res = await post(ep, { texts: ['good one'] });
    expect(res.status).toBe(200);
    expect((await j(res)).predictions).toEqual([{ label: 'pos', probabilities: { neg: 0.1, pos: 0.9 } }]);
    expect(f.state.logged).toEqual([]); // answered, not on record yet
    // The log call leaves within 100 ms (it waits for company: nobody waits for it) and fails once.
    await vi.waitFor(() =>
      expect(reported).toEqual([
        expect.stringMatching(/^prediction log: 1 answered texts not logged yet, next try in \d+ s \(is the registry's database up\?\)$/),
      ]),
    );
    expect(await ep.whenLogged(50)).toBe(1);
    const closed = ep.close();
    release();
    await closed;
    expect(f.state.logged.map((r) => r.text)).toEqual(['good one']);
  });

  it('refuses limits that make no sense, naming the field', async () => {
    await expect(start({ limits: { batching: { maxBatchTexts: 0 } } })).rejects.toThrow(/invalid endpoint limits: batching\.maxBatchTexts: /);
  });
});

describe('the audit package page', () => {
  const page = '<!doctype html><title>audit</title><svg></svg>';
  let ep: Endpoint;
  afterEach(async () => {
    await ep?.close();
  });

  it('is served behind the key, as HTML that may request nothing, and 404 names what is missing', async () => {
    const f = fakes();
    ep = await startEndpoint({ ...f.options, auditPage: async (model, version) => (model === 'thai-sentiment' && version === 1 ? page : null) });
    const url = `${ep.url}/models/thai-sentiment/versions/1/audit`;
    expect((await fetch(url)).status).toBe(401);
    const ok = await fetch(url, { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/html/);
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await ok.text()).toBe(page);
    const missing = await fetch(`${ep.url}/models/thai-sentiment/versions/2/audit`, { headers: auth });
    expect(missing.status).toBe(404);
    expect((await j(missing)).error).toContain('thai-sentiment v2');
    expect((await fetch(`${ep.url}/models/thai-sentiment/versions/x/audit`, { headers: auth })).status).toBe(400);
  });
});
