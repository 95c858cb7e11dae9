"""The training job behind `slurm/train.py`: a RoBERTa encoder with an LSTM head, trained on one
node (ROCm GPU on the cluster, CPU in tests), exported to ONNX for scoring everywhere else."""
import os

# Must be set before torch loads OpenMP. With the default (spinning) wait policy, torch's threads
# on a node shared with other work burn their time slices waiting for each other: a 2-core CPU
# run measured 132 s of training instead of 10 s. Passive waiting costs next to nothing when idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
