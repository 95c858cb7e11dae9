// Every captured history must still replay against the workflow code as it is now: a
// lifecycle runs for months, and a worker deployed with a change that does not replay its
// history breaks it mid-run (docs/changing-workflows.md). The fixtures come from
// scripts/capture-histories.ts; a history of the old shape kept next to its successor is
// named <name>.pre-<patch id>.json.
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../temporal.config';
import { PAUSE_WHEN_LIFECYCLE_GONE } from '../../workflows/monitoring';
import { workflowBundle } from '../workflows/env';
import { historyFromJSON } from './history-json';

const dir = path.join(repoRoot, 'test/replay/histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const prePatch = `monitoring-lifecycle-gone.pre-${PAUSE_WHEN_LIFECYCLE_GONE}.json`;
const postPatch = 'monitoring-lifecycle-gone.json';

interface Fixture {
  file: string;
  workflowId: string;
  workflowType: string;
  history: ReturnType<typeof historyFromJSON>;
}

/** <workflowId>.json or <workflowId>.<anything>.json: the id is the name up to the first dot. */
function load(file: string): Fixture {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  const workflowType = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '(unknown type)';
  return { file, workflowId: file.split('.')[0]!, workflowType, history };
}

/** One line per fixture that no longer replays, naming its file and workflow. */
async function replay(bundle: WorkflowBundle, fixtures: Fixture[]): Promise<string[]> {
  const failures: string[] = [];
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: 'replay-test' },
    fixtures.map(({ workflowId, history }) => ({ workflowId, history })),
  );
  // One result per history, in the order given.
  let i = 0;
  for await (const result of results) {
    const f = fixtures[i++]!;
    if (result.error) failures.push(`${f.file} (workflow ${f.workflowId}, ${f.workflowType}): ${result.error.name}: ${result.error.message}`);
  }
  expect(i, 'every history was replayed').toBe(fixtures.length);
  return failures;
}

let current: WorkflowBundle;
beforeAll(async () => {
  // The failures these tests provoke on purpose would each print a worker's warning.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  current = await workflowBundle();
});

describe('captured histories', () => {
  it('cover every workflow type the workers register', async () => {
    const registered = Object.keys(await import('../../workflows/index'));
    const captured = new Set(files.map((f) => load(f).workflowType));
    expect(
      registered.filter((t) => !captured.has(t)),
      'workflow types without a captured history',
    ).toEqual([]);
  });

  it('all replay against the current workflow code', async () => {
    expect(files.length).toBeGreaterThan(0);
    const failures = await replay(current, files.map(load));
    expect(failures, `histories that no longer replay (see docs/changing-workflows.md):\n${failures.join('\n')}`).toEqual([]);
  });
});

describe(`patched('${PAUSE_WHEN_LIFECYCLE_GONE}')`, () => {
  it('the history recorded before the change (the monitor failed) replays with the patch in place', async () => {
    const old = load(prePatch);
    expect(eventTypes(old)).not.toContain('EVENT_TYPE_MARKER_RECORDED');
    expect(eventTypes(old).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
    expect(await replay(current, [old])).toEqual([]);
  });

  it('the history recorded after it (the monitor paused the Schedule) replays too', async () => {
    const after = load(postPatch);
    const marker = after.history.events?.find((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(marker, 'the post-patch fixture records the patch marker').toBeDefined();
    expect(activityTypes(after)).toContain('pauseMonitoringSchedule');
    expect(eventTypes(after).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    expect(await replay(current, [after])).toEqual([]);
  });

  it('the same change without patched() would break the old history: the replay test says which', async () => {
    const [failure, ...rest] = await replay(await unpatched(), [load(prePatch)]);
    expect(rest).toEqual([]);
    expect(failure).toContain(`${prePatch} (workflow monitoring-lifecycle-gone, modelMonitoring): DeterminismViolationError`);
    // And the error is the SDK's own class, not a text match.
    const direct = await Worker.runReplayHistory({ workflowBundle: await unpatched() }, load(prePatch).history, 'monitoring-lifecycle-gone').catch(
      (e: unknown) => e,
    );
    expect(direct).toBeInstanceOf(DeterminismViolationError);
  });

  it('removing patched() outright, without deprecatePatch() first, breaks the history recorded with it', async () => {
    const [failure] = await replay(await unpatched(), [load(postPatch)]);
    expect(failure).toMatch(/DeterminismViolationError: .*patch marker encountered for change monitor-pauses-schedule-when-lifecycle-gone/s);
  });
});

describe('a history changed by hand', () => {
  it('an activity renamed in the lifecycle history fails replay by name', async () => {
    const f = load('lifecycle-full.run-1.json');
    const scheduled = f.history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'preprocessData')!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'cleanData';
    const failures = await replay(current, [f]);
    expect(failures).toEqual([
      expect.stringMatching(
        /^lifecycle-full\.run-1\.json \(workflow lifecycle-full, modelLifecycle\): DeterminismViolationError: .*(cleanData|preprocessData)/s,
      ),
    ]);
  });
});

function eventTypes(f: Fixture): string[] {
  return (f.history.events ?? []).map((e) => String(eventTypeName(e.eventType)));
}

function activityTypes(f: Fixture): string[] {
  return (f.history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

// Events decoded from JSON carry their type as the enum's number.
function eventTypeName(t: unknown): string {
  return typeof t === 'number' ? proto.temporal.api.enums.v1.EventType[t]! : String(t);
}

/** The change as it would be without patched() (or with it removed), bundled on its own once. */
let unpatchedBundle: Promise<WorkflowBundle> | null = null;
function unpatched(): Promise<WorkflowBundle> {
  const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
  unpatchedBundle ??= bundleWorkflowCode({ workflowsPath: path.join(repoRoot, 'test/replay/unpatched-monitoring.ts'), logger: quiet });
  return unpatchedBundle;
}
