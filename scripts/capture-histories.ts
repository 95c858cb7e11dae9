// Captures the histories test/replay/replay.test.ts replays: each scenario drives the
// workflows on the time-skipping test server with the in-memory activities of the workflow
// tests, and saves every execution's history as JSON (the format `temporal workflow show
// --output json` writes), named <workflowId>.json, or <workflowId>.run-<n>.json for a
// continue-as-new chain. docs/changing-workflows.md says when regenerating is right.
//
//   npx tsx scripts/capture-histories.ts                 write the fixtures that are missing
//   npx tsx scripts/capture-histories.ts --overwrite     replace them (only when no execution
//                                                        of the old shape can still be running)
//   npx tsx scripts/capture-histories.ts lifecycle-full  only the named scenarios
import { historyToJSON } from '../test/replay/history-json';
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditDecision } from '../domain/lifecycle';
import { parseSpec, type ModelSpec } from '../domain/spec';
import { taskQueues } from '../domain/temporal-names';
import { repoRoot, searchAttributes } from '../temporal.config';
import { deployFirstVersion, reach, until } from '../test/workflows/drive';
import { fakeActivities, type Script } from '../test/workflows/fake-activities';
import { fakeEvidence, fakeSigning } from '../test/workflows/fake-signing';
import { auditDecisionUpdate, deployRequestUpdate, rollbackRequestUpdate, stopRequestUpdate } from '../workflows/messages';

const historiesDir = path.join(repoRoot, 'test/replay/histories');

// Short on purpose: every field of the spec is in each history's input payload.
const spec = parseSpec({
  name: 'replay',
  labels: ['neg', 'pos'],
  data: { path: 'data.jsonl' },
  gates: [{ metric: 'macro_f1', min: 0.3 }],
  roles: { auditors: ['alice'], deployers: ['bob'] },
});

// One set of keys for every scenario, so the signed one can sign before its workers start.
const signing = fakeSigning();

interface Ctx {
  env: TestWorkflowEnvironment;
  /** Runs fn with workers on both task queues, backed by in-memory activities that follow script. */
  run: <T>(script: Partial<Script>, fn: () => Promise<T>) => Promise<T>;
}

/** Each scenario returns the executions to save: a file name (without .json) and the run. */
type Capture = { name: string; workflowId: string; runId?: string };
const scenarios: Record<string, (ctx: Ctx) => Promise<Capture[]>> = {
  // Audit refusal and approval, deploy, a monitoring run that asks for a retrain (continue-
  // as-new), generation 2 approved and deployed, then a rollback to version 1.
  'lifecycle-full': ({ env, run }) =>
    run({ degraded: true }, async () => {
      const h = await start(env, 'lifecycle-full');
      await reach(h, 'awaiting_audit');
      await audit(h, { decision: 'approve', actor: 'mallory', reason: 'looks fine' });
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'v1 ok', version: 1 });
      await deploy(h, 'bob');
      await reach(h, 'monitoring');
      await monitor(env, 'lifecycle-full-monitor', h.workflowId, spec);
      await reach(h, 'awaiting_audit', 2);
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'v2 ok' });
      await deploy(h, 'bob');
      await reach(h, 'monitoring', 2);
      await h.executeUpdate(rollbackRequestUpdate, { args: [{ actor: 'bob', version: 1, reason: 'v2 misroutes questions' }] });
      await until(h, (s) => s.deployedVersion === 1 && s.stage === 'monitoring', 'rolled back to version 1');
      await h.terminate('captured');
      return [...(await chain(h)), { name: 'lifecycle-full-monitor', workflowId: 'lifecycle-full-monitor' }];
    }),

  'reject-override': ({ env, run }) =>
    run({}, async () => {
      const h = await start(env, 'reject-override');
      await reach(h, 'awaiting_audit');
      await audit(h, { decision: 'reject', actor: 'alice', reason: 'q recall too low', paramsOverride: { epochs: 9 } });
      await until(h, (s) => s.version === 2 && s.stage === 'awaiting_audit', 'offered version 2 for audit');
      await h.terminate('captured');
      return chain(h);
    }),

  search: ({ env, run }) =>
    run({}, async () => {
      const searching = {
        ...spec,
        training: { ...spec.training, search: { trials: 4, concurrency: 2, space: { learningRate: [0.001, 0.0005], epochs: [2, 3] } } },
      };
      const h = await start(env, 'search', searching);
      await reach(h, 'awaiting_audit');
      await h.terminate('captured');
      return chain(h);
    }),

  // Cancelled (temporal workflow cancel, the Web UI) while its version is live and monitored.
  'lifecycle-cancelled': ({ env, run }) =>
    run({}, async () => {
      const h = await start(env, 'lifecycle-cancelled');
      await deployFirstVersion(h);
      await h.cancel();
      await h.result().catch(() => undefined);
      return chain(h);
    }),

  // A deployer stops it (mlc stop) while its version is live and monitored.
  'lifecycle-stopped': ({ env, run }) =>
    run({}, async () => {
      const h = await start(env, 'lifecycle-stopped');
      await deployFirstVersion(h);
      await h.executeUpdate(stopRequestUpdate, { args: [{ actor: 'bob', reason: 'retired' }] });
      await h.result();
      return chain(h);
    }),

  // Stopped by a deployer with --undeploy: version 1 taken off the endpoint on the record.
  'lifecycle-undeployed': ({ env, run }) =>
    run({}, async () => {
      const h = await start(env, 'lifecycle-undeployed');
      await deployFirstVersion(h);
      await h.executeUpdate(stopRequestUpdate, { args: [{ actor: 'bob', reason: 'retired', undeploy: true }] });
      await h.result();
      return chain(h);
    }),

  // mlc undeploy once the lifecycle has ended: a refusal (recorded), then a signed one that takes version 1 off.
  undeploy: ({ env, run }) => {
    const signedSpec = parseSpec({ ...spec, roles: { ...spec.roles, signatures: 'required' } });
    const undeployTarget = { spec: signedSpec, live: { version: 1, target: 'local', artifactSha256: 'sha-1' }, runningLifecycle: null };
    return run({ undeployTarget }, async () => {
      const undeploy = (workflowId: string, actor: string, signed?: unknown) =>
        env.client.workflow.execute('undeployModel', {
          taskQueue: taskQueues.control,
          workflowId,
          args: [{ model: spec.name, request: { actor, reason: 'retired', ...(signed ? { signed } : {}) } }],
        });
      await undeploy('undeploy-refused', 'alice');
      const statement = { lifecycle: 'undeploy-signed', generation: null, model: spec.name, version: 1, decision: 'undeploy' as const, reason: 'retired' };
      const now = new Date(await env.currentTimeMs());
      await undeploy('undeploy-signed', 'bob', signing.sign('bob', statement, { manifestSha256: null, evaluationSha256: null }, 'bob', now));
      return ['undeploy-refused', 'undeploy-signed'].map((id) => ({ name: id, workflowId: id }));
    });
  },

  // Stopped while version 1 is being deployed: the stop waits for the rollout, then takes
  // effect. (Before patched('stop-waits-for-rollout') it was refused; the lifecycle went on to
  // monitoring, where a second stop ended it.)
  'lifecycle-stopped-while-deploying': ({ env, run }) =>
    run({ slowDeployMs: 1500 }, async () => {
      const h = await start(env, 'lifecycle-stopped-while-deploying');
      await reach(h, 'awaiting_audit');
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'v1 ok' });
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob' }] });
      await reach(h, 'deploying');
      const verdict = await h.executeUpdate(stopRequestUpdate, { args: [{ actor: 'alice', reason: 'pulled before launch' }] });
      if (!verdict.accepted) {
        await reach(h, 'monitoring');
        await h.executeUpdate(stopRequestUpdate, { args: [{ actor: 'alice', reason: 'pulled after launch' }] });
      }
      await h.result();
      return chain(h);
    }),

  // A node failure resubmits; the out-of-memory that follows ends the lifecycle failed.
  'job-failed': ({ env, run }) =>
    run({ jobEnds: ['NODE_FAIL', 'OUT_OF_MEMORY'] }, async () => {
      const h = await start(env, 'job-failed');
      await h.result().catch(() => undefined);
      return chain(h);
    }),

  // Generation 2's rollout fails at 50% (traffic restored); the next deploy request succeeds.
  'azureml-rollout': ({ env, run }) => {
    const azureSpec = parseSpec({ ...spec, deployment: { target: 'azureml', workspace: 'prod', endpoint: 'x-endpoint' } });
    const script = { degraded: true, failRolloutAt: [] as number[] };
    return run(script, async () => {
      const h = await start(env, 'azureml-rollout', azureSpec);
      await reach(h, 'awaiting_audit');
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'v1 ok' });
      await deploy(h, 'bob');
      await reach(h, 'monitoring');
      await monitor(env, 'azureml-rollout-monitor', h.workflowId, azureSpec);
      await reach(h, 'awaiting_audit', 2);
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'v2 ok' });
      script.failRolloutAt.push(50);
      await deploy(h, 'bob');
      await until(h, (s) => s.stage === 'awaiting_deploy' && s.lastDecision?.outcome === 'failed', 'reported the failed rollout');
      script.failRolloutAt.length = 0;
      await deploy(h, 'bob');
      await reach(h, 'monitoring', 2);
      await h.terminate('captured');
      return chain(h);
    });
  },

  // Every decision signed (roles.signatures: required), the monitor's retrain request too.
  'signed-decisions': ({ env, run }) => {
    const signedSpec = parseSpec({ ...spec, roles: { ...spec.roles, signatures: 'required' } });
    return run({ degraded: true }, async () => {
      const h = await start(env, 'signed-decisions', signedSpec);
      await reach(h, 'awaiting_audit');
      const about = { lifecycle: h.workflowId, generation: 1, model: spec.name, version: 1 };
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'unsigned' });
      const approve = signing.sign('alice', { ...about, decision: 'approve', reason: 'v1 ok' }, fakeEvidence(1));
      await audit(h, { decision: 'approve', actor: 'alice', reason: 'v1 ok', signed: approve });
      const release = signing.sign('bob', { ...about, decision: 'deploy', reason: 'release 1' }, fakeEvidence(1));
      await h.executeUpdate(deployRequestUpdate, { args: [{ actor: 'bob', reason: 'release 1', signed: release }] });
      await reach(h, 'monitoring');
      await monitor(env, 'signed-decisions-monitor', h.workflowId, signedSpec);
      await reach(h, 'awaiting_audit', 2);
      await h.terminate('captured');
      return [...(await chain(h)), { name: 'signed-decisions-monitor', workflowId: 'signed-decisions-monitor' }];
    });
  },

  // The admin workflows mlc keys and mlc audit verify run through a worker.
  admin: ({ env, run }) =>
    run({}, async () => {
      const admin = (type: string, workflowId: string, arg: unknown) =>
        env.client.workflow.execute(type, { taskQueue: taskQueues.control, workflowId, args: [arg] });
      await admin('changeSigningKey', 'admin-add-key', { action: 'add', name: 'dora', publicKey: 'ed25519:' + 'A'.repeat(43) + '=', addedBy: 'admin' });
      await admin('listSigningKeys', 'admin-list-keys', {});
      await admin('verifyDecisionLog', 'admin-verify-log', { model: 'replay' });
      await admin('trackingRequest', 'admin-tracking-request', { method: 'listRuns', args: ['replay'] });
      return ['admin-add-key', 'admin-list-keys', 'admin-verify-log', 'admin-tracking-request'].map((id) => ({ name: id, workflowId: id }));
    }),

  // mlc monitor --history and mlc status read monitoring reports through a worker on the embedded registry.
  'admin-monitoring-history': ({ env, run }) =>
    run({}, async () => {
      const workflowId = 'admin-monitoring-history';
      await env.client.workflow.execute('monitoringHistory', { taskQueue: taskQueues.control, workflowId, args: [{ model: 'replay', limit: 5 }] });
      return [{ name: workflowId, workflowId }];
    }),

  // mlc validate --on-worker checks a spec's data where the worker reads it.
  'admin-data-check': ({ env, run }) =>
    run({}, async () => {
      const workflowId = 'admin-data-check';
      await env.client.workflow.execute('dataCheckRequest', { taskQueue: taskQueues.control, workflowId, args: [{ spec, specDir: '/data/specs' }] });
      return [{ name: workflowId, workflowId }];
    }),

  'monitoring-healthy': ({ env, run }) =>
    run({ degraded: false }, async () => {
      await monitor(env, 'monitoring-healthy', 'mlc-replay', spec);
      return [{ name: 'monitoring-healthy', workflowId: 'monitoring-healthy' }];
    }),

  // The lifecycle it would signal is gone (cancelled, terminated or failed earlier).
  'monitoring-lifecycle-gone': ({ env, run }) =>
    run({ degraded: true }, async () => {
      await monitor(env, 'monitoring-lifecycle-gone', 'mlc-replay-gone', spec).catch(() => undefined);
      return [{ name: 'monitoring-lifecycle-gone', workflowId: 'monitoring-lifecycle-gone' }];
    }),
};

function start(env: TestWorkflowEnvironment, workflowId: string, withSpec: ModelSpec = spec): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return env.client.workflow.start('modelLifecycle', { taskQueue: taskQueues.control, workflowId, args: [{ spec: withSpec, specDir: '/tmp' }] });
}

function monitor(env: TestWorkflowEnvironment, workflowId: string, lifecycleWorkflowId: string, s: ModelSpec): Promise<unknown> {
  return env.client.workflow.execute('modelMonitoring', {
    taskQueue: taskQueues.control,
    workflowId,
    args: [{ model: s.name, lifecycleWorkflowId, labels: s.labels, monitoring: s.monitoring, deployment: s.deployment }],
  });
}

function audit(h: WorkflowHandle, d: AuditDecision) {
  return h.executeUpdate(auditDecisionUpdate, { args: [d] });
}

function deploy(h: WorkflowHandle, actor: string) {
  return h.executeUpdate(deployRequestUpdate, { args: [{ actor }] });
}

/** Every execution of a lifecycle's continue-as-new chain, oldest first. */
async function chain(h: WorkflowHandleWithFirstExecutionRunId): Promise<Capture[]> {
  const runs: string[] = [];
  for (let runId: string | undefined = h.firstExecutionRunId; runId;) {
    runs.push(runId);
    const { events } = await h.client.getHandle(h.workflowId, runId).fetchHistory();
    runId = events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  if (runs.length === 1) return [{ name: h.workflowId, workflowId: h.workflowId }];
  return runs.map((runId, i) => ({ name: `${h.workflowId}.run-${i + 1}`, workflowId: h.workflowId, runId }));
}

// test/workflows/env.ts, but loadable by Node's own ESM loader (tsx): @temporalio/proto is
// CommonJS, so its namespace comes from the default export, not a named import.
async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const executable = process.env.MLC_TEST_SERVER ?? path.join(repoRoot, '.venv/bin/temporal-test-server');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: executable } } });
  const keyword = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(Object.values(searchAttributes).map((name) => [name, keyword])),
  });
  return env;
}

function workflowBundle(): Promise<WorkflowBundle> {
  const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
  return bundleWorkflowCode({ workflowsPath: path.join(repoRoot, 'workflows/index.ts'), logger: quiet });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const overwrite = args.includes('--overwrite');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in scenarios));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  const wanted = names.length ? names : Object.keys(scenarios);

  mkdirSync(historiesDir, { recursive: true });
  // Scenarios that fail on purpose would otherwise fill the terminal with workers' warnings.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  const [env, bundle] = await Promise.all([timeSkippingEnv(), workflowBundle()]);
  const ctx: Ctx = {
    env,
    run: async (script, fn) => {
      const fakes = fakeActivities(script, signing);
      const control = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: taskQueues.control,
        workflowBundle: bundle,
        activities: fakes.control,
      });
      const scoring = await Worker.create({ connection: env.nativeConnection, taskQueue: taskQueues.scoring, activities: fakes.scoring });
      return control.runUntil(scoring.runUntil(fn));
    },
  };
  try {
    for (const name of wanted) {
      const captures = await scenarios[name]!(ctx);
      for (const c of captures) {
        const file = path.join(historiesDir, `${c.name}.json`);
        if (existsSync(file) && !overwrite) {
          console.log(`kept     ${path.relative(repoRoot, file)} (exists; --overwrite replaces it)`);
          continue;
        }
        const history = await env.client.workflow.getHandle(c.workflowId, c.runId).fetchHistory();
        writeFileSync(file, `${historyToJSON(history)}\n`);
        console.log(`captured ${path.relative(repoRoot, file)} (${history.events?.length ?? 0} events)`);
      }
    }
  } finally {
    await env.teardown();
  }
}

await main();
