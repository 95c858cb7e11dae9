// Compute: run slurm/train.py on a cluster and follow it to a terminal state.
// The SLURM executor submits over SSH; the local executor runs the same script as a child
// process. Both write the same files into the run folder under the artifact root.
import type { JobPhase } from '../../domain/lifecycle';
import type { ClusterProfile } from '../../domain/spec';

export type { JobPhase };

export interface TrainingJobRequest {
  /**
   * Idempotency key (derived from workflow id, step and attempt). It is put in the job's
   * name/comment; a second submit with the same key returns the existing job instead of
   * creating another.
   */
  key: string;
  /** Run folder, relative to the artifact root; the job writes its outputs (and its log) there. */
  runDir: string;
  /** Folder (relative to the artifact root) with train.jsonl, valid.jsonl, test.jsonl. */
  dataDir: string;
  /** train.py's --config file, relative to the artifact root. */
  configFile: string;
  /** Hyperparameter search: a JSON array of param overrides (relative key); one array task per trial. */
  trialsFile?: string;
  trials?: { count: number; concurrency: number };
  profile: ClusterProfile;
  /**
   * Run this argv (each word quoted) instead of `<python> slurm/train.py ...`: integration
   * tests submit tiny jobs that fail, time out or sleep, and `mlc cluster check` its probe
   * (built from the cluster's configuration and a nonce). Activities and workflows never set
   * it; it never comes from a spec or a signal.
   */
  command?: string[];
}

export interface JobStatus {
  jobId: string;
  /** SLURM's own word: PENDING, RUNNING, COMPLETED, TIMEOUT, OUT_OF_MEMORY, ... */
  state: string;
  phase: JobPhase;
  exitCode?: number;
  /** The signal that ended the job (15 for scancel and time limits, 9 for a memory kill). */
  signal?: number;
  /** How many times SLURM requeued the job (node failure, preemption, `scontrol requeue`). */
  restarts?: number;
  /** SLURM's reason (e.g. "Resources") or our hint for the ML creator on failure. */
  reason?: string;
  elapsedSeconds?: number;
  /** True for failures the cluster caused (NODE_FAIL, BOOT_FAIL, PREEMPTED): resubmit. */
  retryable: boolean;
  /** For job arrays: one status per task index. */
  tasks?: Record<number, JobStatus>;
}

export interface SubmitResult {
  jobId: string;
  /** True when a job with this key already existed and was returned instead of submitting. */
  reused: boolean;
}

export interface ClusterExecutor {
  submit(request: TrainingJobRequest): Promise<SubmitResult>;
  /** Status of many jobs in one round of SLURM commands, whatever their number. */
  status(jobIds: string[]): Promise<Map<string, JobStatus>>;
  /**
   * Resolve once the job is terminal. Calls from one process share a watcher that polls all
   * tracked jobs of the cluster together, once per interval.
   */
  waitFor(jobId: string, options?: { onUpdate?: (status: JobStatus) => void; signal?: AbortSignal }): Promise<JobStatus>;
  /** scancel; an unknown or finished job is not an error. */
  cancel(jobId: string): Promise<void>;
  /** The last lines of the job's log (runDir/slurm-<jobId>.out). */
  logTail(runDir: string, jobId: string, lines?: number): Promise<string>;
  close(): Promise<void>;
}
