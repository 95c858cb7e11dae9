"""Evidently on the monitoring bench's window: the comparison side of bench/monitoring.ts.

Reads the same window from PostgreSQL (psql COPY ... TO STDOUT, so no driver is needed), computes
the same per-row features as mlc (domain/monitoring/features.ts: the script counts are the
table's generated columns; shares and probabilities binned the same way), and runs Evidently's
DataDriftPreset with its defaults. Prints one JSON line: timings, peak memory of this process,
and each column's test, value, threshold and verdict.

Usage (bench/monitoring.ts runs it): python bench/monitoring_evidently.py <database-url> <reference.json> <labels,comma,separated> <version>
"""

import io
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def features(frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    chars = frame["text_chars"].astype(float)
    share = lambda count: np.where(chars > 0, np.floor(count / chars.replace(0, np.nan) * 100 + 0.5) / 100, np.nan)
    probs = np.stack([frame[f"p_{l}"].astype(float).to_numpy() for l in labels], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(probs > 0, probs * np.log(probs), 0.0), axis=1)
    out = pd.DataFrame(
        {
            "chars": frame["text_chars"].astype(float),
            "thai_share": share(frame["thai_chars"]),
            "latin_share": share(frame["latin_chars"]),
            "digit_share": share(frame["digit_chars"]),
            "symbol_share": share(frame["text_chars"] - frame["thai_chars"] - frame["latin_chars"] - frame["digit_chars"] - frame["space_chars"]),
            "max_probability": np.floor(probs.max(axis=1) * 1000 + 0.5) / 1000,
            "entropy": np.floor(entropy * 1000 + 0.5) / 1000,
        }
    )
    for i, l in enumerate(labels):
        out[f"p_{l}"] = np.floor(probs[:, i] * 1000 + 0.5) / 1000
    out["predicted_label"] = frame["label"].astype(str)
    return out


def main() -> None:
    url, reference_file, labels_arg, version = sys.argv[1:5]
    labels = labels_arg.split(",")
    started = time.perf_counter()
    probs = ", ".join(f"coalesce((probabilities ->> '{l}')::float8, 0) as p_{l}" for l in labels)
    query = (
        f"copy (select label, text_chars, thai_chars, latin_chars, digit_chars, space_chars, {probs} "
        f"from predictions where model = 'bench' and version = {int(version)}) to stdout with (format csv, header true)"
    )
    csv = subprocess.run(["psql", url, "-X", "-q", "-c", query], check=True, capture_output=True).stdout
    current = features(pd.read_csv(io.BytesIO(csv)), labels)
    del csv
    loaded = time.perf_counter()
    with open(reference_file, encoding="utf-8") as f:
        reference = features(pd.DataFrame(json.load(f)), labels)
    numeric = [c for c in current.columns if c != "predicted_label"]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=["predicted_label"])
    snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(current, data_definition=definition), Dataset.from_pandas(reference, data_definition=definition))
    result = snapshot.dict()
    done = time.perf_counter()
    columns = []
    for metric in result["metrics"]:
        config = metric.get("config", {})
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        value, threshold, method = float(metric["value"]), float(config["threshold"]), config["method"]
        p_value = "p_value" in method
        columns.append(
            {
                "column": config["column"],
                "method": method,
                "value": value if math.isfinite(value) else None,
                "threshold": threshold,
                "drifted": bool(value < threshold if p_value else value >= threshold),
            }
        )
    # ru_maxrss is in kilobytes on Linux: the peak resident memory of this process.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": int(len(current)), "loadSeconds": loaded - started, "reportSeconds": done - loaded, "totalSeconds": done - started, "peakMb": peak_mb, "columns": columns}))


if __name__ == "__main__":
    main()
