// Long-running operations as Azure ML runs them: the PUT/PATCH/DELETE answers at once
// (201/200/202) with an Azure-AsyncOperation status URL; polling it says InProgress until
// the work is done, then Succeeded, or Failed with {code, message}; the SDK then reads the
// resource. Operations live on the server, not in a connection, so a client that died can
// resume polling the same URL. One operation at a time per endpoint (its deployments share
// the lock): a second one is a 409 Conflict, as Azure answers.
import { randomUUID } from 'node:crypto';
import { ArmError } from './arm-http';
import { PROVIDER, type EmulatorState, type OperationRecord, type Scope } from './state';

/** A failure the operation reports through its status URL (not as an HTTP error). */
export class OperationFailure extends Error {
  override name = 'OperationFailure';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StartedOperation {
  operation: OperationRecord;
  /** Headers for the response that started it. */
  headers: Record<string, string>;
}

export class Operations {
  constructor(
    private readonly state: EmulatorState,
    private readonly scope: Scope,
    private readonly armEndpoint: () => string,
    private readonly retryAfterSeconds: number,
  ) {}

  private base(): string {
    return `/subscriptions/${this.scope.subscriptionId}/providers/${PROVIDER}/locations/${this.scope.location}`;
  }
  statusPath(id: string): string {
    return `${this.base()}/mfeOperationsStatus/${id}`;
  }
  resultPath(id: string): string {
    return `${this.base()}/mfeOperationResults/${id}`;
  }
  private url(path: string, apiVersion: string): string {
    return `${this.armEndpoint()}${path}?api-version=${apiVersion}&type=async`;
  }
  retryAfter(): Record<string, string> {
    return this.retryAfterSeconds > 0 ? { 'Retry-After': String(this.retryAfterSeconds) } : {};
  }

  /** The running operation that a new one on this endpoint (or deployment) would collide with. */
  running(endpoint: string, deployment?: string): OperationRecord | undefined {
    const e = endpoint.toLowerCase();
    const d = deployment?.toLowerCase();
    for (const op of this.state.operations.values()) {
      if (op.status !== 'InProgress' || op.endpoint.toLowerCase() !== e) continue;
      // An endpoint operation excludes everything on the endpoint; deployment operations
      // exclude endpoint operations and others on the same deployment.
      if (d === undefined || op.deployment === undefined || op.deployment.toLowerCase() === d) return op;
    }
    return undefined;
  }

  assertIdle(what: string, endpoint: string, deployment?: string): void {
    const op = this.running(endpoint, deployment);
    if (op) {
      throw new ArmError(
        409,
        'Conflict',
        `${what} cannot proceed: an operation is in progress on this endpoint (${op.name} on ${op.deployment ? `deployment ${op.deployment} of ` : ''}endpoint ${op.endpoint}, operation id ${op.id}). Wait for it to finish, then retry.`,
      );
    }
  }

  /**
   * Start `work` in the background; it resolves when the resource is in its final state or
   * throws an OperationFailure (any other error reads as InternalServerError).
   */
  start(
    name: string,
    target: { endpoint: string; deployment?: string },
    apiVersion: string,
    options: { resourcePath?: string; withLocation?: boolean },
    work: () => Promise<void>,
  ): StartedOperation {
    const id = randomUUID();
    const op: OperationRecord = {
      id,
      name,
      endpoint: target.endpoint,
      ...(target.deployment !== undefined && { deployment: target.deployment }),
      status: 'InProgress',
      startTime: new Date().toISOString(),
      ...(options.resourcePath !== undefined && { resourcePath: options.resourcePath }),
      done: Promise.resolve(),
    };
    this.state.operations.set(id, op);
    op.done = (async () => {
      try {
        await work();
        op.status = 'Succeeded';
      } catch (err) {
        op.status = 'Failed';
        op.error =
          err instanceof OperationFailure
            ? { code: err.code, message: err.message }
            : { code: 'InternalServerError', message: `The emulator failed: ${(err as Error).message}` };
      } finally {
        op.endTime = new Date().toISOString();
      }
    })();
    return {
      operation: op,
      headers: {
        'Azure-AsyncOperation': this.url(this.statusPath(id), apiVersion),
        ...(options.withLocation && { Location: this.url(this.resultPath(id), apiVersion) }),
        'x-ms-async-operation-timeout': 'PT1H',
        ...this.retryAfter(),
      },
    };
  }

  /** Body of the Azure-AsyncOperation URL. */
  statusBody(id: string): Record<string, unknown> {
    const op = this.state.operations.get(id);
    if (!op) throw new ArmError(404, 'ResourceNotFound', `Operation ${id} was not found.`);
    return {
      id: this.statusPath(id),
      name: id,
      status: op.status,
      startTime: op.startTime,
      ...(op.endTime && { endTime: op.endTime }),
      ...(op.error && { error: op.error }),
    };
  }

  get(id: string): OperationRecord | undefined {
    return this.state.operations.get(id);
  }
}
