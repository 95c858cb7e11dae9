// mlc: drive model lifecycles from a terminal. Every command is also possible with the
// `temporal` CLI or the Web UI; this one adds validation, readable output and waiting.
//
// Each command loads its modules when it runs, not when mlc starts: the Temporal client, the Azure
// SDK, the ONNX runtime and the registry's drivers took seconds to load, and every command, even
// --help, paid for all of them.
import { Command } from 'commander';
import type { CliContext } from './context';
import type { ClusterCheckFlags } from './cluster-commands';
import type { EvaluateFlags } from './evaluate';
import type { ValidateFlags } from './validate';
import type { TrackingRegistry } from '../activities/tracking';

type AnyFunction = (...args: never[]) => unknown;
/** `name` from the module `load` imports, imported on the first call. */
function lazy<M extends Record<K, AnyFunction>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return async (...args: Parameters<M[K]>): Promise<Awaited<ReturnType<M[K]>>> => (await load())[name](...args) as Awaited<ReturnType<M[K]>>;
}
const lifecycle = () => import('./lifecycle-commands');
const keyCommands = () => import('./keys-commands');
const runCommands = () => import('./runs');
const aliasCommands = () => import('./aliases');
const monitoring = () => import('./monitor');
const endpoint = () => import('./endpoint-commands');
const startCommand = lazy(lifecycle, 'startCommand');
const statusCommand = lazy(lifecycle, 'statusCommand');
const waitCommand = lazy(lifecycle, 'waitCommand');
const auditCommand = lazy(lifecycle, 'auditCommand');
const deployCommand = lazy(lifecycle, 'deployCommand');
const rollbackCommand = lazy(lifecycle, 'rollbackCommand');
const stopCommand = lazy(lifecycle, 'stopCommand');
const retrainCommand = lazy(lifecycle, 'retrainCommand');
const undeployCommand = lazy(() => import('./undeploy'), 'undeployCommand');
const modelsCommand = lazy(() => import('./models'), 'modelsCommand');
const auditVerifyCommand = lazy(keyCommands, 'auditVerifyCommand');
const keysAddCommand = lazy(keyCommands, 'keysAddCommand');
const keysInitCommand = lazy(keyCommands, 'keysInitCommand');
const keysListCommand = lazy(keyCommands, 'keysListCommand');
const keysRevokeCommand = lazy(keyCommands, 'keysRevokeCommand');
const keysShowCommand = lazy(keyCommands, 'keysShowCommand');
const runsCompareCommand = lazy(runCommands, 'runsCompareCommand');
const runsListCommand = lazy(runCommands, 'runsListCommand');
const runsShowCommand = lazy(runCommands, 'runsShowCommand');
const aliasListCommand = lazy(aliasCommands, 'aliasListCommand');
const aliasSetCommand = lazy(aliasCommands, 'aliasSetCommand');
const monitorCommand = lazy(monitoring, 'monitorCommand');
const monitorHistoryCommand = lazy(monitoring, 'monitorHistoryCommand');
const feedbackCommand = lazy(endpoint, 'feedbackCommand');
const predictCommand = lazy(endpoint, 'predictCommand');
const logsCommand = lazy(() => import('./logs'), 'logsCommand');
const historyCommand = lazy(() => import('./history'), 'historyCommand');
const clusterCheckCommand = lazy(() => import('./cluster-commands'), 'clusterCheckCommand');
const doctorCommand = lazy(() => import('./doctor'), 'doctorCommand');
const evaluateCommand = lazy(() => import('./evaluate'), 'evaluateCommand');
const validateCommand = lazy(() => import('./validate'), 'validateCommand');
const renderConfig = lazy(() => import('../config/show'), 'renderConfig');
const openConfiguredArtifactStore = lazy(() => import('../adapters/artifacts/from-config'), 'openConfiguredArtifactStore');

const withTemporal =
  <A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => Promise<void>) =>
  async (...args: A) => {
    const { openContext, describeTemporalError } = await import('./context');
    const ctx = await openContext();
    try {
      await fn(ctx, ...args);
    } catch (err) {
      throw describeTemporalError(ctx, err);
    } finally {
      await ctx.close();
    }
  };
// The registry for tracking commands: PostgreSQL directly, or the embedded one through a worker.
const withTracking =
  <A extends unknown[]>(fn: (registry: TrackingRegistry, ...args: A) => Promise<void>) =>
  async (...args: A) => {
    const { openTracking } = await import('./registry-access');
    const access = await openTracking();
    try {
      await fn(access.registry, ...args);
    } finally {
      await access.close();
    }
  };
const openStore = async () => openConfiguredArtifactStore((await import('../temporal.config')).loadConfig());
const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command('mlc')
  .description("Run a production model's lifecycle on Temporal: train on SLURM, audit, deploy, monitor, retrain.")
  .showHelpAfterError('(run mlc <command> --help for usage)')
  // Options belong to the command they follow (`mlc runs show X --json` is show's --json).
  .enablePositionalOptions();

program
  .command('validate')
  .argument('<spec>', 'model spec, YAML or JSON')
  .description('check a model spec and its data (as preprocess will read them) without starting anything')
  .option('--on-worker', 'read the data where the worker runs (its files, its data roots), through a running worker')
  .option('--no-data', 'check the spec only')
  .action((spec: string, opts: ValidateFlags) => validateCommand(spec, opts));

program
  .command('config')
  .description('the effective configuration')
  .command('show')
  .description('every setting, where it came from (default, file, environment), secrets masked')
  .action(async () => console.log(await renderConfig((await import('../temporal.config')).loadConfigAndSources())));

program
  .command('start')
  .argument('<spec>', 'model spec, YAML or JSON')
  .description("start a lifecycle for the spec's model")
  .option('--wait', 'wait until the first version awaits audit')
  .action(withTemporal((ctx, spec: string, opts: { wait?: boolean }) => startCommand(ctx, spec, opts)));

program
  .command('status')
  .argument('[id]', 'model name or workflow id; omit to list running lifecycles')
  .description('stage, job (epoch, step and last validation while it trains), metrics and last decision')
  .option('--json', 'print the raw status')
  .action(withTemporal((ctx, id: string | undefined, opts: { json?: boolean }) => statusCommand(ctx, id, opts)));

program
  .command('wait')
  .argument('<id>', 'model name or workflow id')
  .description('wait until the lifecycle reaches a stage')
  .requiredOption('--stage <stage>', 'stage to wait for (repeatable: any of them)', collect)
  .option('--generation <n>', 'only in this generation or a later one')
  .option('--timeout <duration>', 'give up after this long, e.g. 20m', '1h')
  .action(withTemporal((ctx, id: string, opts: { stage: string[]; generation?: string; timeout?: string }) => waitCommand(ctx, id, opts)));

const audit = program.command('audit').description('approve or reject the version awaiting audit');
for (const decision of ['approve', 'reject'] as const) {
  audit
    .command(decision)
    .argument('<id>', 'model name or workflow id')
    .requiredOption('--as <user>', 'your user name; must be an auditor in the spec')
    .requiredOption('--reason <text>', 'why (recorded with the decision)')
    .option('--version <n>', 'the version you audited (refused if another is waiting)')
    .option('--set <param=value>', decision === 'reject' ? 'change a training parameter for the next attempt (repeatable)' : 'ignored on approve', collect)
    .option('--print-signal', 'print the signed message as a `temporal workflow signal` command instead of sending it')
    .action(
      withTemporal((ctx, id: string, opts: { as: string; reason: string; version?: string; set?: string[]; printSignal?: boolean }) =>
        auditCommand(ctx, decision, id, opts),
      ),
    );
}
audit
  .command('verify')
  .argument('<model>', 'model name')
  .description("re-check the model's decision log: every hash link and every signature; names the first row that fails")
  .action(withTemporal((ctx, model: string) => auditVerifyCommand(ctx, model)));

const keys = program.command('keys').description('signing keys: who may sign decisions');
keys
  .command('init')
  .requiredOption('--as <user>', 'your user name')
  .description('create your Ed25519 key pair (private key mode 0600 under ~/.config/mlc/keys) and print the public key')
  .action((opts: { as: string }) => keysInitCommand(opts));
keys
  .command('show')
  .requiredOption('--as <user>', 'whose key (on this machine)')
  .description('print the public key of a key made with mlc keys init')
  .action((opts: { as: string }) => keysShowCommand(opts));
keys
  .command('add')
  .argument('<user>', 'whose key it is')
  .argument('<public-key>', 'ed25519:… as mlc keys init printed it')
  .option('--by <admin>', 'who registers it (recorded)')
  .description("register a person's public key (an admin's task)")
  .action(withTemporal((ctx, user: string, publicKey: string, opts: { by?: string }) => keysAddCommand(ctx, user, publicKey, opts)));
keys
  .command('list')
  .argument('[user]', 'only this person')
  .description('the keys in force')
  .action(withTemporal((ctx, user?: string) => keysListCommand(ctx, user)));
keys
  .command('revoke')
  .argument('<public-key>', 'the key to revoke')
  .description('stop counting statements signed with a key')
  .action(withTemporal((ctx, publicKey: string) => keysRevokeCommand(ctx, publicKey)));

program
  .command('deploy')
  .argument('<id>', 'model name or workflow id')
  .description('deploy the approved version to the endpoint')
  .requiredOption('--as <user>', 'your user name; must be a deployer in the spec')
  .option('--reason <text>', 'why (recorded)')
  .option('--version <n>', 'the approved version you mean to deploy')
  .option('--no-wait', 'return once the request is accepted')
  .option('--print-signal', 'print the signed message as a `temporal workflow signal` command instead of sending it')
  .action(
    withTemporal((ctx, id: string, opts: { as: string; reason?: string; version?: string; wait?: boolean; printSignal?: boolean }) =>
      deployCommand(ctx, id, opts),
    ),
  );

program
  .command('rollback')
  .argument('<id>', 'model name or workflow id')
  .description('put an earlier approved version back live (while monitoring)')
  .requiredOption('--to <version>', 'the approved version to serve again')
  .requiredOption('--as <user>', 'your user name; must be a deployer in the spec')
  .requiredOption('--reason <text>', 'why (recorded)')
  .option('--print-signal', 'print the signed message as a `temporal workflow signal` command instead of sending it')
  .action(withTemporal((ctx, id: string, opts: { to: string; as: string; reason: string; printSignal?: boolean }) => rollbackCommand(ctx, id, opts)));

program
  .command('retrain')
  .argument('<id>', 'model name or workflow id')
  .description("train the next generation now (recorded), on the spec's data plus the labelled feedback, then audit it; while monitoring")
  .requiredOption('--as <user>', 'your user name; must be an auditor or deployer in the spec')
  .requiredOption('--reason <text>', 'why (recorded)')
  .option('--wait', 'wait until the next generation awaits audit (or fails)')
  .option('--print-signal', 'print the signed message as a `temporal workflow signal` command instead of sending it')
  .action(withTemporal((ctx, id: string, opts: { as: string; reason: string; wait?: boolean; printSignal?: boolean }) => retrainCommand(ctx, id, opts)));

program
  .command('stop')
  .argument('<id>', 'model name or workflow id')
  .description('end the lifecycle (recorded): cancels a running job, pauses monitoring; the deployed version stays deployed unless --undeploy')
  .requiredOption('--as <user>', 'your user name; must be an auditor or deployer in the spec')
  .requiredOption('--reason <text>', 'why (recorded)')
  .option('--undeploy', 'also take the deployed version off the endpoint (a deployer only; on Azure ML its deployments are deleted)')
  .option('--print-signal', 'print the signed message as a `temporal workflow signal` command instead of sending it')
  .action(withTemporal((ctx, id: string, opts: { as: string; reason: string; undeploy?: boolean; printSignal?: boolean }) => stopCommand(ctx, id, opts)));

program
  .command('undeploy')
  .argument('<model>', 'model name')
  .description(
    'take the deployed version off its endpoint (recorded) once the lifecycle that deployed it has ended: after mlc stop without --undeploy, or a failed one',
  )
  .requiredOption('--as <user>', "your user name; must be a deployer in the spec of the model's latest lifecycle")
  .requiredOption('--reason <text>', 'why (recorded)')
  .option('--print-start', 'print the signed request as a `temporal workflow start` command instead of starting it')
  .action(withTemporal((ctx, model: string, opts: { as: string; reason: string; printStart?: boolean }) => undeployCommand(ctx, model, opts)));

program
  .command('models')
  .description('every model in the registry: versions, the one deployed, the last decision')
  .option('--json', 'print the models as JSON')
  .action(withTracking((registry, opts: { json?: boolean }) => modelsCommand(registry, opts)));

program
  .command('history')
  .argument('<model>', 'model name')
  .description('every decision about the model from the registry: who, when, what, outcome, why, version')
  .option('--json', 'print the decisions as JSON')
  .action(withTracking((registry, model: string, opts: { json?: boolean }) => historyCommand(registry, model, opts)));

const runs = program
  .command('runs')
  .argument('<model>', 'model name')
  .description('training runs of a model: params, metrics, state, duration, dataset hash, git commit (then: runs show, runs compare)')
  .option('--json', 'print the runs as JSON')
  .enablePositionalOptions()
  .action(withTracking((registry, model: string, opts: { json?: boolean }) => runsListCommand(registry, model, opts)));
runs
  .command('show')
  .argument('<run>', 'run key, as mlc runs lists it')
  .description('one run: params, metrics, its curves (per epoch and per step) and its artifacts')
  .option('--json', 'print the run, its metric history and artifacts as JSON')
  .action(withTracking((registry, run: string, opts: { json?: boolean }) => runsShowCommand(registry, run, opts, openStore)));
runs
  .command('compare')
  .argument('<a>', 'run key')
  .argument('<b>', 'run key')
  .description('two runs side by side: params (≠ where they differ) and metrics with B − A')
  .option('--json', 'print the comparison as JSON')
  .action(withTracking((registry, a: string, b: string, opts: { json?: boolean }) => runsCompareCommand(registry, a, b, opts)));

program
  .command('evaluate')
  .argument('<model>', 'model name')
  .description("score a labelled JSONL/CSV file (your golden set) with a version, through the product's normalisation and scorer; records nothing")
  .requiredOption('--version <n|alias>', 'version number, or an alias such as champion')
  .requiredOption('--data <file>', 'labelled JSONL or CSV')
  .option('--text-field <name>', 'text column', 'text')
  .option('--label-field <name>', 'label column', 'label')
  .option('--json', 'print the metrics as JSON')
  .action(
    withTracking(async (registry, model: string, flags: EvaluateFlags) => {
      const { loadScorer } = await import('../adapters/scoring/onnx-scorer');
      await evaluateCommand(model, flags, { registry, openStore, loadScorer });
    }),
  );

const alias = program.command('alias').description('named pointers to versions: champion (the deployed one), challenger, or your own');
alias
  .command('set')
  .argument('<model>', 'model name')
  .argument('<alias>', 'alias name, e.g. challenger or staging (champion moves only with a deployment)')
  .argument('<version>', 'version number')
  .requiredOption('--as <user>', 'your user name (recorded)')
  .requiredOption('--reason <text>', 'why (recorded)')
  .description('point an alias at a version, atomically, and record the move')
  .action(
    withTracking((registry, model: string, name: string, version: string, opts: { as: string; reason: string }) =>
      aliasSetCommand(registry, model, name, version, opts),
    ),
  );
alias
  .command('list')
  .argument('<model>', 'model name')
  .description("the model's aliases and the versions they name")
  .option('--history', 'also every move of every alias, oldest first')
  .option('--json', 'print as JSON')
  .action(withTracking((registry, model: string, opts: { json?: boolean; history?: boolean }) => aliasListCommand(registry, model, opts)));

program
  .command('monitor')
  .argument('<model>', 'model name')
  .description("run the monitoring check now and print its report's summary and page; --history: the trend over past runs")
  .option('--history', 'list past runs instead: estimated and realized accuracy, drifted features, verdict')
  .option('--limit <n>', 'with --history: how many runs', '20')
  .option('--no-wait', 'return once the run is triggered')
  .option('--json', 'print the report summary (or the runs) as JSON')
  .action(
    withTemporal((ctx, model: string, opts: { history?: boolean; limit?: string; wait?: boolean; json?: boolean }) =>
      opts.history ? monitorHistoryCommand(ctx, model, opts) : monitorCommand(ctx, model, opts),
    ),
  );

program
  .command('predict')
  .argument('<text...>', 'texts to classify')
  .description('score texts on the deployed model')
  .option('--model <name>', 'model to use (default: the only deployed one)')
  .option('--endpoint <url>', 'endpoint base URL')
  .option('--json', 'raw JSON')
  .action((texts: string[], opts: { model?: string; endpoint?: string; json?: boolean }) => predictCommand(texts, opts));

program
  .command('feedback')
  .argument('<file>', 'JSONL or CSV with a label and a text, a request id, or both')
  .description('send labelled production samples for monitoring and retraining')
  .requiredOption('--model <name>', 'model the feedback is about')
  .option('--endpoint <url>', 'endpoint base URL')
  .option('--text-field <name>', 'text column', 'text')
  .option('--label-field <name>', 'label column', 'label')
  .option('--request-id-field <name>', 'column with the requestId the prediction was served under (judged against what was served)', 'requestId')
  .option('--source <name>', 'who labelled these (sending the same rows from the same source again adds nothing)', 'mlc-cli')
  .action((file: string, opts: { model: string; endpoint?: string; textField?: string; labelField?: string; requestIdField?: string; source?: string }) =>
    feedbackCommand(file, opts),
  );

program
  .command('logs')
  .argument('<id>', 'model name or workflow id')
  .description("the current training job's log")
  .option('-f, --follow', 'keep printing until the job ends')
  .option('-n, --lines <n>', 'lines to show first', '50')
  .action(withTemporal((ctx, id: string, opts: { follow?: boolean; lines?: string }) => logsCommand(ctx, id, opts)));

program
  .command('cluster')
  .description('compute clusters from the configuration')
  .command('check')
  .argument('<name>', 'cluster name (mlc config show lists them)')
  .description('SSH, scheduler, profile and a tiny probe job: python, torch, GPU, shared artifact folder; each failure with its fix')
  .option('--spec <file>', "check this spec's training.profile (partition, account/qos, gres, modules)")
  .option('--json', 'print the results as JSON')
  .option('--timeout <seconds>', 'give up on the probe job after this long, queueing included', '300')
  .action((name: string, opts: ClusterCheckFlags) => clusterCheckCommand(name, opts));

program
  .command('doctor')
  .description(
    'check everything the configuration names, as the product uses it: Temporal, namespace, search attributes, payload keys, codec server, workers, registry, artifact store, endpoint, cluster logins; each failure with its fix',
  )
  .option('--json', 'print the results as JSON')
  .option('--timeout <seconds>', 'count a check that takes longer as hung', '45')
  .action((opts: { json?: boolean; timeout?: string }) => doctorCommand(opts));

program.parseAsync().catch(async (err: unknown) => {
  // Imported here, not up front: a command that threw one of these has already loaded its module.
  const [{ SpecError }, { ConfigError }, { CliError }] = await Promise.all([import('../domain/spec'), import('../temporal.config'), import('./cli-error')]);
  if (err instanceof SpecError || err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof CliError) {
    console.error(`mlc: ${err.message}`);
    process.exit(err.exitCode);
  }
  console.error(`mlc: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  process.exit(1);
});
