// In-memory activities for workflow tests: they record every call and play back scripted
// job states, so the tests can assert what the workflow decided. The real activities are
// exercised against real services in test/integration and test/e2e.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ControlActivities, ScoringActivities } from '../../activities';
import type { UndeployTarget } from '../../activities/deploy';
import type { MonitoringReportResult } from '../../activities/monitoring';
import type { ObservedJob } from '../../activities/training';
import type { DecisionRecord } from '../../adapters/db/port';
import { stateInfo } from '../../adapters/slurm/states';
import { artifactLayout } from '../../domain/artifact-layout';
import type { JobWatchBeat } from '../../domain/training-progress';
import { fakeSigning } from './fake-signing';

export interface Script {
  /** Terminal state of each submitted job, in submission order (default COMPLETED). */
  jobEnds: string[];
  gatesPassed: boolean[];
  degraded: boolean;
  /** Azure rollout: traffic shares (of the new version) at which the routed smoke check fails. */
  failRolloutAt: number[];
  /** Preprocessing fails for good with this DatasetError message. */
  preprocessFails: string;
  /** What a hanging job's watcher heartbeats (the real one's JobWatchBeat); none by default. */
  watchBeat: JobWatchBeat;
  /** What computeMonitoringReport returns, over the defaults `degraded` picks. */
  monitoringReport: Partial<MonitoringReportResult>;
  /** Recording a decision of this kind takes this long (real milliseconds), to open a race. */
  slowRecord: { kind: string; ms: number };
  /** Taking the version off the endpoint fails for good with this message. */
  retireFails: string;
  /** Shipping a version to the built-in endpoint takes this long (real milliseconds). */
  slowDeployMs: number;
  /** What `mlc undeploy` finds in the registry and on the server; by default, no such model. */
  undeployTarget: UndeployTarget;
}

export function fakeActivities(script: Partial<Script> = {}, signing = fakeSigning()) {
  const calls: { name: string; input: unknown }[] = [];
  const decisions: DecisionRecord[] = [];
  const jobs: string[] = [];
  let versions = 0;
  let evaluations = 0;
  let traffic: Record<string, number> = {};
  const log = (name: string, input: unknown) => calls.push({ name, input });

  const control: ControlActivities = {
    async preprocessData(input) {
      log('preprocessData', input);
      if (script.preprocessFails) throw ApplicationFailure.create({ type: 'DatasetError', message: script.preprocessFails, nonRetryable: true });
      const datasetHash = `hash-g${input.generation}`;
      return { datasetHash, datasetDir: artifactLayout.dataset(input.spec.name, datasetHash), report: {} };
    },
    async prepareTrainingRun(input) {
      log('prepareTrainingRun', input);
      const runDir = artifactLayout.run(input.model, input.runKey);
      const { search } = input;
      const trials = search ? { trialsFile: `${runDir}/trials.json`, trials: { count: search.trials, concurrency: search.concurrency } } : {};
      return { runDir, configFile: `${runDir}/config.json`, ...trials };
    },
    async submitTrainingJob(input) {
      log('submitTrainingJob', input);
      jobs.push(input.resubmission?.key ?? input.runKey); // the key SLURM would see in the job's name
      return { jobId: String(100 + jobs.length), reused: false };
    },
    async awaitJobChange(input): Promise<ObservedJob> {
      log('awaitJobChange', input);
      const end = script.jobEnds?.[Number(input.jobId) - 101] ?? 'COMPLETED';
      if (input.lastState === null) return { jobId: input.jobId, state: 'RUNNING', ...stateInfo('RUNNING'), elapsedSeconds: 1 };
      if (end === 'HANG') {
        // A job that never ends: heartbeat until the workflow cancels us, as the real one does.
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat(script.watchBeat);
          await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 100))]);
        }
      }
      // The real state table decides the phase, so a scripted state means what SLURM's does.
      const { phase, retryable, hint } = stateInfo(end, { exitCode: 1 });
      return {
        jobId: input.jobId,
        state: end,
        phase,
        retryable,
        elapsedSeconds: 60,
        ...(phase === 'failed' ? { exitCode: 1, reason: hint, logTail: 'Traceback: scripted failure' } : {}),
      };
    },
    async cancelTrainingJob(input) {
      log('cancelTrainingJob', input);
    },
    async registerTrainedModel(input) {
      log('registerTrainedModel', input);
      versions += 1;
      const runDir = input.trials ? `${input.runDir}/trial-1` : input.runDir;
      return { version: versions, sha256: `sha-${versions}`, trainMetrics: { best_val_macro_f1: 0.5 }, runDir, trials: [] };
    },
    async recordDecision(input) {
      log('recordDecision', input);
      if (script.slowRecord?.kind === input.kind) await new Promise((r) => setTimeout(r, script.slowRecord!.ms));
      decisions.push(input);
    },
    async deployModelVersion(input) {
      log('deployModelVersion', input);
      if (script.slowDeployMs) await new Promise((r) => setTimeout(r, script.slowDeployMs));
      return { endpointUrl: 'http://127.0.0.1:8765' };
    },
    // Azure ML: a release whose steps succeed unless the script says which step fails.
    async prepareAzureMlRelease(input) {
      log('prepareAzureMlRelease', input);
      return {
        deploymentName: `version-${input.version}`,
        modelId: `models/${input.model}/versions/${input.version}`,
        codeId: 'code',
        environmentId: 'env',
        packageSha256: 'pkg',
        smokeTexts: ['a', 'b'],
      };
    },
    async createAzureMlDeployment(input) {
      log('createAzureMlDeployment', input);
      return { scoringUri: `https://${input.deployment.endpoint}.example/score` };
    },
    async getAzureMlTraffic(input) {
      log('getAzureMlTraffic', input);
      return { ...traffic };
    },
    async setAzureMlTraffic(input) {
      log('setAzureMlTraffic', input);
      traffic = { ...input.traffic };
    },
    async checkAzureMlEndpoint(input) {
      log('checkAzureMlEndpoint', input);
      // The new version's share during a rollout: the smaller of the live shares.
      const share = Math.min(100, ...Object.values(traffic).filter((p) => p > 0));
      const failing = !input.pinned && script.failRolloutAt?.includes(share);
      const detail = failing ? '2 of 2 requests failed' : 'fine';
      return { ok: !failing, requests: 2, failures: failing ? 2 : 0, p95Ms: 5, servedBy: {}, detail };
    },
    async recordAzureMlDeployment(input) {
      log('recordAzureMlDeployment', input);
    },
    async pruneAzureMlDeployments(input) {
      log('pruneAzureMlDeployments', input);
      return [];
    },
    async retireAzureMlDeployments(input) {
      log('retireAzureMlDeployments', input);
      const live = Object.keys(traffic);
      traffic = {};
      return live;
    },
    async retireDeployment(input) {
      log('retireDeployment', input);
      if (script.retireFails) throw ApplicationFailure.create({ type: 'RegistryUnavailable', message: script.retireFails, nonRetryable: true });
      const deployed = [...decisions].reverse().find((d) => (d.kind === 'deploy' || d.kind === 'rollback') && d.outcome === 'approved');
      return { retired: deployed?.version ?? null };
    },
    async undeployTarget(input) {
      log('undeployTarget', input);
      return script.undeployTarget ?? { spec: null, live: null, runningLifecycle: null };
    },
    async ensureMonitoringSchedule(input) {
      log('ensureMonitoringSchedule', input);
      return { scheduleId: `mlc-monitor-${input.model}` };
    },
    async pauseMonitoringSchedule(input) {
      log('pauseMonitoringSchedule', input);
    },
    async exportFeedbackData(input) {
      log('exportFeedbackData', input);
      return { key: artifactLayout.feedback(input.model, input.generation), rows: 5 };
    },
    async answerTrackingRequest(input) {
      log('answerTrackingRequest', input);
      return null;
    },
    async checkSpecData(input) {
      log('checkSpecData', input);
      return { sources: [], quarantined: [], quarantinedCount: 0, usable: false, error: 'not scripted' };
    },
    async listMonitoringReports(input) {
      log('listMonitoringReports', input);
      return [];
    },
    ...signing.activities,
  };

  const scoring: ScoringActivities = {
    async evaluateModel(input) {
      log('evaluateModel', input);
      const passed = script.gatesPassed?.[evaluations++] ?? true;
      const value = passed ? 0.6 : 0.1;
      return {
        metrics: { test_macro_f1: value },
        gates: [{ metric: 'macro_f1', min: 0.3, value, passed }],
        gatesPassed: passed,
        auditPackageKey: artifactLayout.auditPackage(input.runDir),
      };
    },
    async computeMonitoringReport(input) {
      log('computeMonitoringReport', input);
      const degraded = script.monitoringReport?.degraded ?? script.degraded ?? false;
      return {
        reportKey: artifactLayout.monitoringReport(input.model, 'r'),
        pageKey: artifactLayout.monitoringPage(input.model, 'r'),
        version: 1,
        degraded,
        breached: degraded,
        reasons: degraded ? ['PSI 0.61 ≥ 0.25'] : ['fine'],
        predictions: 100,
        feedback: 60,
        psi: degraded ? 0.61 : 0.01,
        feedbackAccuracy: 0.9,
        estimatedAccuracy: 0.8,
        driftedFeatures: [],
        alert: 'not needed',
        ...script.monitoringReport,
      };
    },
  };

  return { control, scoring, calls, decisions, jobs, sign: signing.sign, named: (name: string) => calls.filter((c) => c.name === name).map((c) => c.input) };
}
