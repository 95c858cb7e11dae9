"""Failures the job reports to its caller. Each carries the exit code the submitter maps to a reason,
so a user sees what failed and what to do without reading a traceback."""


class JobError(Exception):
    exit_code = 1


class ConfigError(JobError):
    """A field in CONFIG.json, TRIALS.json or the CLI/environment is wrong; the message names it."""

    exit_code = 2


class DataError(JobError):
    """A data file is missing or holds a row the job cannot use; the message names path and line."""

    exit_code = 3


class ParityError(JobError):
    """The exported ONNX model does not score like the PyTorch model it came from."""

    exit_code = 4


# Exit codes that are not errors but tell the caller how the job ended.
EXIT_CHECKPOINTED = 75  # SIGUSR1 outside SLURM (or requeue failed): state saved, rerun to resume (EX_TEMPFAIL)
EXIT_TERMINATED = 143  # SIGTERM: state saved, then exit as a terminated process would (128 + 15)
