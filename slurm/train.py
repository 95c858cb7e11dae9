#!/usr/bin/env python3
"""The SLURM training job. Usage and outputs: slurm/README.md.

python slurm/train.py --config CONFIG.json --data-dir DATA_DIR --out-dir OUT_DIR
                      [--cache-dir CACHE_DIR] [--trials TRIALS.json]
"""
import os
import sys

# Runnable as a plain script from any working directory (sbatch runs it by path).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mlc_train.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
