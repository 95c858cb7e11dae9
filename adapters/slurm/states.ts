// Every SLURM job state, mapped to our four phases, whether a resubmit may help, and what the
// ML creator should do. A state we do not know is a failure that carries SLURM's own word,
// never a silent "still running".
import type { JobPhase } from './port';

export interface StateInfo {
  phase: JobPhase;
  /** True when the cluster, not the job, caused the failure: resubmitting is safe. */
  retryable: boolean;
  /** What to do, for failures; undefined while queued, running or after success. */
  hint?: string;
}

const queued = ['PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'SUSPENDED', 'RESV_DEL_HOLD'];
const running = ['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING', 'RESIZING', 'STOPPED'];

// What the training workflow does with a retryable failure (workflows/training.ts).
const resubmitted = 'mlc resubmits it, up to training.maxInfraRetries times, into the same run folder';

const failures: Record<string, Omit<StateInfo, 'phase'>> = {
  FAILED: { retryable: false, hint: 'the job exited with an error: read the log tail' },
  OUT_OF_MEMORY: { retryable: false, hint: 'the job ran out of memory: lower training.params.batchSize or maxLength, or raise training.profile.memory' },
  TIMEOUT: {
    retryable: false,
    hint: 'the job hit its time limit before it could checkpoint and requeue itself: raise training.profile.timeLimit, or training.profile.checkpointSignalSeconds if the log has no "checkpoint saved (reason: signal)" line',
  },
  NODE_FAIL: { retryable: true, hint: `a node failed under the job (the cluster's fault): ${resubmitted}, where it resumes from its last checkpoint` },
  BOOT_FAIL: { retryable: true, hint: `the node failed to boot for the job (the cluster's fault): ${resubmitted}` },
  PREEMPTED: { retryable: true, hint: `a higher-priority job preempted this one: ${resubmitted}, where it resumes from its last checkpoint` },
  DEADLINE: { retryable: false, hint: "the job's deadline passed before it could finish: remove the --deadline option or start earlier" },
  CANCELLED: { retryable: false, hint: 'the job was cancelled (scancel by a user or an admin)' },
  SPECIAL_EXIT: { retryable: false, hint: 'the job was requeued in the SPECIAL_EXIT hold: release it with `scontrol release` or resubmit' },
  REVOKED: { retryable: false, hint: 'a federated sibling cluster took the job: look for it there' },
  UNKNOWN: {
    retryable: false,
    hint: "SLURM no longer knows the job (it left the controller after MinJobAge and there is no accounting database to ask): check the run folder's DONE file and log",
  },
};

export function stateInfo(state: string, exit: { exitCode?: number; signal?: number } = {}): StateInfo {
  if (queued.includes(state)) return { phase: 'queued', retryable: false };
  if (running.includes(state)) return { phase: 'running', retryable: false };
  if (state === 'COMPLETED') return { phase: 'succeeded', retryable: false };
  const known = failures[state];
  if (!known) return { phase: 'failed', retryable: false, hint: `SLURM reported the unknown state "${state}": check \`scontrol show job\` and the log` };
  if (state === 'FAILED') return { phase: 'failed', retryable: false, hint: failedHint(exit) };
  return { phase: 'failed', ...known };
}

function failedHint({ exitCode, signal }: { exitCode?: number; signal?: number }): string {
  // Without a memory cgroup, SLURM's OverMemoryKill SIGKILLs the job and calls it FAILED.
  if (signal === 9) {
    return 'the job was killed (SIGKILL), most often for exceeding its memory (look for "exceeded memory limit" in the log): lower training.params.batchSize or maxLength, or raise training.profile.memory';
  }
  if (signal) return `the job was killed by signal ${signal}: read the log tail`;
  if (exitCode !== undefined) return `train.py exited with code ${exitCode}: read the log tail for the error`;
  return 'the job exited with an error: read the log tail';
}
