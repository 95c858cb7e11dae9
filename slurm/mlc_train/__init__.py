"""The training job behind `slurm/train.py`: a RoBERTa encoder with an LSTM head, trained on one
node (ROCm GPU on the cluster, CPU in tests), exported to ONNX for scoring everywhere else."""
