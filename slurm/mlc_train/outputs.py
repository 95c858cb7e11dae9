"""Logging and atomic file writes. Everything the job leaves behind is written to a temp file in the
same folder and renamed into place, so a reader (or a requeued job) never sees half a file."""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

# mkstemp creates 0600 files; outputs are read by other users (the scoring worker, auditors), so give
# them the permissions an ordinary open() would. Reading the umask means setting it, once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)


def log(message: str) -> None:
    # SLURM writes stdout to the job's log file; flush so `tail -f` shows progress as it happens.
    print(message, flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yields a temp path beside `target`; renames it onto `target` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # NFS: make the bytes durable before the rename publishes them


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, value: Any) -> None:
    write_text(target, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def torch_save(target: Path, obj: Any) -> None:
    import torch

    with atomic_path(target) as tmp:
        torch.save(obj, tmp)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
