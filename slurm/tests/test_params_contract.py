"""The training parameters are written twice: trainingParamsSchema in domain/spec.ts (what a spec may
say) and PARAMS in mlc_train/config.py (what the job accepts, checked before torch loads). Hold them
to each other, names, defaults and ranges, so neither side can change alone."""
from __future__ import annotations

import json
import math
import subprocess

import pytest

from conftest import SLURM_DIR, subprocess_env
from mlc_train.config import PARAMS, resolve_params

REPO = SLURM_DIR.parent
TSX = REPO / "node_modules" / ".bin" / "tsx"
# zod writes an unbounded .int() as bounded by Number.MAX_SAFE_INTEGER.
NO_BOUND = 2**53 - 1


@pytest.fixture(scope="module")
def ts() -> dict:
    if not TSX.exists():
        pytest.skip(f"{TSX} not found: the TypeScript side needs the repo's node_modules (npm ci)")
    done = subprocess.run([str(TSX), str(SLURM_DIR / "tests" / "training_params.ts")], cwd=REPO, capture_output=True,
                          text=True, env=subprocess_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def accepts(name: str, value) -> bool:
    return PARAMS[name][1](value) is None


def test_both_sides_name_the_same_parameters(ts):
    only_ts, only_py = set(ts["defaults"]) - set(PARAMS), set(PARAMS) - set(ts["defaults"])
    assert not only_ts and not only_py, f"only in domain/spec.ts: {sorted(only_ts)}; only in config.py: {sorted(only_py)}"


def test_both_sides_have_the_same_defaults(ts):
    for name, ts_default in ts["defaults"].items():
        py_default = PARAMS[name][0]
        assert isinstance(py_default, bool) == isinstance(ts_default, bool), name
        assert py_default == ts_default, f"{name}: domain/spec.ts says {ts_default!r}, config.py says {py_default!r}"
        assert accepts(name, ts_default), name
    # What a spec without params sends is what the job fills in when given nothing.
    assert resolve_params(ts["defaults"], "params") == resolve_params({}, "params") == ts["defaults"]


def test_both_sides_accept_the_same_ranges(ts):
    for name, prop in ts["schema"]["properties"].items():
        kind = prop.get("type")
        if "enum" in prop:
            assert all(accepts(name, v) for v in prop["enum"]), name
            assert not accepts(name, "no-such-" + name), name
        elif kind == "boolean":
            assert accepts(name, True) and accepts(name, False), name
            assert not accepts(name, 1), name
        elif kind in ("integer", "number"):
            step = 1 if kind == "integer" else 1e-9
            lo = prop.get("minimum", prop.get("exclusiveMinimum", 0))
            top = prop.get("maximum", math.inf)
            if kind == "integer":
                assert not accepts(name, lo + 0.5), f"{name}: config.py takes a fraction"
            else:
                assert accepts(name, lo + (min(top, lo + 1) - lo) / 2), f"{name}: config.py refuses a fraction"
            if "minimum" in prop:
                assert accepts(name, prop["minimum"]), f"{name}: config.py refuses the minimum {prop['minimum']}"
                assert not accepts(name, prop["minimum"] - step), f"{name}: config.py takes less than {prop['minimum']}"
            if "exclusiveMinimum" in prop:
                assert not accepts(name, prop["exclusiveMinimum"]), f"{name}: config.py takes {prop['exclusiveMinimum']}"
                assert accepts(name, prop["exclusiveMinimum"] + step), name
            if top in (NO_BOUND, math.inf):
                assert accepts(name, NO_BOUND if kind == "integer" else 1e12), f"{name}: config.py has an upper bound"
            else:
                assert accepts(name, top), f"{name}: config.py refuses the maximum {top}"
                assert not accepts(name, top + step), f"{name}: config.py takes more than {top}"
        else:
            pytest.fail(f"{name}: no contract check for {prop}")


def test_both_sides_refuse_the_same_changes_in_a_warm_start(ts):
    """A spec's retrain.params may not set what warm_start.py would refuse (or, for the tokenizer's
    params, silently ignore): the same names on both sides, each of them a real param."""
    from mlc_train.warm_start import ARCHITECTURE

    assert sorted(ts["warmStartFixed"]) == sorted(ARCHITECTURE)
    assert set(ARCHITECTURE) <= set(PARAMS)
