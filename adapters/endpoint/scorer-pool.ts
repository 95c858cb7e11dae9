// One loaded scorer per deployed (model, version), swapped without dropping requests: a request
// holds a lease on the scorer it started with; when the registry names a new version, the new
// scorer is loaded, becomes current once ready, and the old one is closed when its last lease
// ends. A failed load is not cached, so fixing the files and retrying works.
import type { LoadScorer, Scorer } from '../scoring/port';

export interface Deployment {
  model: string;
  version: number;
  /** Local folder with model.onnx, labels.json and the tokenizer files. */
  modelDir: string;
  /** sha256 of model.onnx, as approved and deployed. */
  sha256: string;
}

export interface Lease {
  readonly scorer: Scorer;
  readonly deployment: Deployment;
  release(): void;
}

interface Entry {
  key: string;
  deployment: Deployment;
  ready: Promise<Scorer>;
  loaded: boolean;
  leases: number;
  retired: boolean;
  closing: boolean;
}

export class ScorerPool {
  private readonly entries = new Map<string, Entry>();
  /** model → key of the entry that serves it. */
  private readonly current = new Map<string, string>();
  /** model → sequence number of the acquire that installed the current entry. */
  private readonly installedBy = new Map<string, number>();
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly loadScorer: LoadScorer,
    private readonly onCloseError: (error: unknown, deployment: Deployment) => void = () => {},
  ) {}

  /** Leases the scorer for a deployment, loading it first if needed. Always release() the lease. */
  async acquire(deployment: Deployment): Promise<Lease> {
    if (this.closed) throw new Error('the endpoint is shutting down');
    const seq = ++this.sequence;
    const key = JSON.stringify([deployment.model, deployment.version, deployment.sha256, deployment.modelDir]);
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry = { key, deployment, ready: this.loadScorer(deployment.modelDir), loaded: false, leases: 0, retired: false, closing: false };
      created.ready.then(
        () => (created.loaded = true),
        () => this.entries.get(key) === created && this.entries.delete(key),
      );
      this.entries.set(key, created);
      entry = created;
    }
    entry.leases++;
    let scorer: Scorer;
    try {
      scorer = await entry.ready;
    } catch (error) {
      entry.leases--;
      throw error;
    }
    this.install(entry, seq);
    let released = false;
    const held = entry;
    return {
      scorer,
      deployment: entry.deployment,
      release: () => {
        if (released) return;
        released = true;
        held.leases--;
        this.maybeClose(held);
      },
    };
  }

  /** The model is no longer deployed: stop listing it and close its scorer once idle. */
  retire(model: string): void {
    const key = this.current.get(model);
    if (key === undefined) return;
    this.current.delete(model);
    this.installedBy.set(model, this.sequence);
    const entry = this.entries.get(key);
    if (entry) {
      entry.retired = true;
      this.maybeClose(entry);
    }
  }

  /** What is loaded and current, for /health. */
  loaded(): Deployment[] {
    return [...this.current.values()]
      .map((k) => this.entries.get(k))
      .filter((e): e is Entry => !!e && e.loaded)
      .map((e) => e.deployment);
  }

  /** Closes every scorer once its leases end; new acquires fail. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.current.clear();
    for (const e of all) {
      e.retired = true;
      this.maybeClose(e);
    }
    await Promise.allSettled(all.map((e) => e.ready));
  }

  private install(entry: Entry, seq: number): void {
    const model = entry.deployment.model;
    const currentKey = this.current.get(model);
    if (currentKey === entry.key) return;
    // A slower load that was asked for before the current one must not replace it (v2 finishing
    // after v3 was installed); its request still gets the scorer it asked for.
    if (seq < (this.installedBy.get(model) ?? 0)) {
      entry.retired = true;
      return;
    }
    entry.retired = false;
    this.current.set(model, entry.key);
    this.installedBy.set(model, seq);
    const previous = currentKey === undefined ? undefined : this.entries.get(currentKey);
    if (previous) {
      previous.retired = true;
      this.maybeClose(previous);
    }
  }

  private maybeClose(entry: Entry): void {
    if (!entry.retired || entry.leases > 0 || entry.closing) return;
    entry.closing = true;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.ready.then((s) => s.close()).catch((error) => entry.loaded && this.onCloseError(error, entry.deployment));
  }
}
