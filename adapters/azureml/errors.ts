// What can go wrong talking to Azure ML, as named errors a deployer can act on. Each says
// what failed, where, and what to do. Whether retrying can help is a property of the class
// (`nonRetryable`), read by the activity wrapper: quota and a crashing container need a
// person; a conflict (another operation in progress) and throttling pass with time.
import { isRestError } from '@azure/core-rest-pipeline';

export class AzureMlError extends Error {
  override name = 'AzureMlError';
  readonly nonRetryable: boolean = false;
  constructor(
    message: string,
    readonly code?: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** OutOfQuota: the subscription cannot host the instances asked for. */
export class AzureQuotaError extends AzureMlError {
  override name = 'AzureQuotaError';
  override readonly nonRetryable = true;
  constructor(
    readonly instanceType: string,
    readonly instanceCount: number,
    detail: string,
    options?: { cause: unknown },
  ) {
    super(
      `Azure ML has no quota for ${instanceCount} × ${instanceType}: ${detail} Ask for more quota for that VM family in the subscription, or set deployment.instanceType / instanceCount to something that fits, then deploy again.`,
      'OutOfQuota',
      options,
    );
  }
}

/** ResourceNotReady: the scoring container did not come up (score.py's init() failed, say). */
export class AzureDeploymentCrashedError extends AzureMlError {
  override name = 'AzureDeploymentCrashedError';
  override readonly nonRetryable = true;
  constructor(
    readonly deployment: string,
    detail: string,
    readonly logTail: string,
    options?: { cause: unknown },
  ) {
    super(
      `Azure ML deployment ${deployment} did not become ready: ${detail}\nLast lines of its container log:\n${logTail || '(no log)'}\nFix the scoring script or its environment, then deploy again.`,
      'ResourceNotReady',
      options,
    );
  }
}

/** Any other operation that Azure reported as Failed, with its code and message. */
export class AzureOperationFailedError extends AzureMlError {
  override name = 'AzureOperationFailedError';
  override readonly nonRetryable = true;
  constructor(what: string, code: string, detail: string, options?: { cause: unknown }) {
    super(`${what} failed in Azure ML (${code}): ${detail}`, code, options);
  }
}

/** 409: another operation runs on the same endpoint. Retried by the activity after a wait. */
export class AzureConflictError extends AzureMlError {
  override name = 'AzureConflictError';
  constructor(what: string, detail: string, options?: { cause: unknown }) {
    super(`${what}: Azure ML is busy with another operation on this endpoint (${detail}); waiting and trying again.`, 'Conflict', options);
  }
}

/** 429 after the SDK's own retries: honour Retry-After. */
export class AzureThrottledError extends AzureMlError {
  override name = 'AzureThrottledError';
  constructor(
    what: string,
    readonly retryAfterMs: number,
    options?: { cause: unknown },
  ) {
    super(`${what}: Azure throttled the request (429); retry after ${Math.ceil(retryAfterMs / 1000)}s.`, 'TooManyRequests', options);
  }
}

/** 401/403 or a credential that could not get a token. */
export class AzureAuthError extends AzureMlError {
  override name = 'AzureAuthError';
  override readonly nonRetryable = true;
  constructor(detail: string, options?: { cause: unknown }) {
    super(
      `Azure refused the worker's credentials: ${detail} The worker authenticates with @azure/identity's DefaultAzureCredential (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, a managed identity, or 'az login'), or with the workspace's credential in the configuration; fix that one and retry.`,
      'AuthenticationFailed',
      options,
    );
  }
}

/** The workspace's configuration does not lead anywhere usable. */
export class AzureConfigError extends AzureMlError {
  override name = 'AzureConfigError';
  override readonly nonRetryable = true;
}

/** A rollout step's smoke requests failed or were too slow; traffic was put back. */
export class RolloutStepFailedError extends AzureMlError {
  override name = 'RolloutStepFailedError';
  override readonly nonRetryable = true;
}

/** Turn a RestError (or a credential failure) into one of the errors above. */
export function fromAzure(what: string, err: unknown): unknown {
  if (err instanceof AzureMlError) return err;
  if (
    (err as Error)?.name === 'CredentialUnavailableError' ||
    (err as Error)?.name === 'AuthenticationError' ||
    (err as Error)?.name === 'AggregateAuthenticationError'
  ) {
    return new AzureAuthError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  // A long-running operation that Azure reported Failed is not a RestError: the poller
  // rejects with "The long-running operation has failed. <Code>. <message>".
  const failedOp = /long-running operation has failed\.?\s*([A-Za-z]+)?\.?\s*([\s\S]*)/.exec((err as Error)?.message ?? '');
  if (!isRestError(err) && failedOp)
    return new AzureOperationFailedError(what, failedOp[1] ?? 'Failed', failedOp[2]?.trim() || (err as Error).message, { cause: err });
  if (!isRestError(err)) return err;
  const body = errorBody(err);
  const code = body.code ?? err.code ?? String(err.statusCode ?? 'unknown');
  const message = body.message ?? err.message;
  switch (err.statusCode) {
    case 401:
    case 403:
      return new AzureAuthError(`${what}: ${err.statusCode} ${code}: ${message}.`, { cause: err });
    case 409:
      return new AzureConflictError(what, message, { cause: err });
    case 429: {
      const retryAfter = Number(err.response?.headers.get('retry-after') ?? 10);
      return new AzureThrottledError(what, (Number.isFinite(retryAfter) ? retryAfter : 10) * 1000, { cause: err });
    }
    case 400:
    case 404:
      return new AzureOperationFailedError(what, code, message, { cause: err });
  }
  return new AzureMlError(`${what}: Azure answered ${err.statusCode ?? 'nothing'} ${code}: ${message}`, code, { cause: err });
}

function errorBody(err: { response?: { bodyAsText?: string | null } }): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(err.response?.bodyAsText ?? '') as { error?: { code?: string; message?: string } };
    return parsed.error ?? {};
  } catch {
    return {};
  }
}
