// What every command needs: config, a Temporal client (with the payload codec, like every
// client of the product), the way users name a lifecycle (the model name, or the workflow id
// itself), and the server's refusals worded for them.
import { Client, Connection, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { dataConverterFor } from '../adapters/temporal-codec/data-converter';
import { lifecycleWorkflowId } from '../domain/temporal-names';
import { loadConfig, type MlcConfig } from '../temporal.config';
import { CliError } from './cli-error';

export interface CliContext {
  config: MlcConfig;
  client: Client;
  close(): Promise<void>;
}

export async function openContext(): Promise<CliContext> {
  const config = loadConfig();
  const dataConverter = await dataConverterFor(config);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
  } catch (err) {
    throw new CliError(
      `Cannot reach Temporal at ${config.temporal.address} (${(err as Error).message}). Start it with: bash scripts/services.sh start temporal (or set TEMPORAL_ADDRESS).`,
    );
  }
  return { config, client: new Client({ connection, namespace: config.temporal.namespace, dataConverter }), close: () => connection.close() };
}

/**
 * What the server said, worded for the command line. A lifecycle it does not have (status, logs,
 * audit, deploy, rollback, wait): one message that names it, the namespace looked in, and how to
 * list them. An update the lifecycle refused (a deployment asked for while it awaits its audit):
 * the lifecycle's own reason, which the SDK keeps in the error's cause.
 */
export function describeTemporalError(ctx: CliContext, err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError)
    return new CliError(`No lifecycle ${err.workflowId} in namespace ${ctx.config.temporal.namespace}. List them with: mlc status`);
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof Error) return new CliError(`refused: ${err.cause.message}`);
  return err;
}

/** "thai-sentiment" and "mlc-thai-sentiment" both name the same lifecycle. */
export function workflowIdOf(idOrModel: string): string {
  return idOrModel.startsWith('mlc-') ? idOrModel : lifecycleWorkflowId(idOrModel);
}

export function uiLink(config: MlcConfig, workflowId: string): string {
  return `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}
