"""The payload of `mlc cluster check`: what a training job would find on a node.

Runs where train.py would run (same python, same modules, same working directory) and
prints one line, `MLC-PROBE {json}`, that the worker reads back from the job's log. It
exits 0 even when torch is missing, so "no torch" and "no python" stay different answers.
Standard library only until torch, so it runs in any interpreter.
"""

import argparse
import json
import os
import platform
import socket
import sys


def loaded_modules():
    # Lmod and Environment Modules both keep the loaded list here, e.g. "rocm/5.7.1:gcc/12".
    return [m for m in os.environ.get("LOADEDMODULES", "").split(":") if m]


def missing_modules(wanted, loaded):
    # "rocm" is satisfied by "rocm/5.7.1"; "rocm/5.7.1" only by itself.
    return [w for w in wanted if not any(m == w or m.startswith(w + "/") for m in loaded)]


def torch_report():
    try:
        import torch  # noqa: PLC0415 - optional on purpose
    except Exception as e:  # ImportError, or a broken build's OSError
        return {"torch": None, "torchError": f"{type(e).__name__}: {e}"}
    out = {
        "torch": torch.__version__,
        "cudaVersion": getattr(torch.version, "cuda", None),
        "hipVersion": getattr(torch.version, "hip", None),
        "gpu": False,
        "deviceCount": 0,
        "device": None,
    }
    try:
        out["gpu"] = bool(torch.cuda.is_available())
        if out["gpu"]:
            out["deviceCount"] = torch.cuda.device_count()
            out["device"] = torch.cuda.get_device_name(0)
    except Exception as e:  # a driver that is there but broken
        out["gpuError"] = f"{type(e).__name__}: {e}"
    return out


def write_nonce(path, nonce):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(nonce + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return None
    except OSError as e:
        return f"{type(e).__name__}: {e}"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nonce-file", required=True)
    p.add_argument("--nonce", required=True)
    p.add_argument("--modules", nargs="*", default=[])
    args = p.parse_args(argv)

    loaded = loaded_modules()
    report = {
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "loadedModules": loaded,
        "missingModules": missing_modules(args.modules, loaded),
        **torch_report(),
        "nonceError": write_nonce(args.nonce_file, args.nonce),
    }
    print("MLC-PROBE " + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
