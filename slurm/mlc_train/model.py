"""RoBERTa encoder -> bidirectional LSTM -> masked mean pool (the embedding) -> dropout -> linear classifier."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

MODEL_FORMAT = "mlc-roberta-lstm/1"


class RobertaLstmClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, lstm_hidden: int, num_labels: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        width = encoder.config.hidden_size
        # Two one-way LSTMs instead of nn.LSTM(bidirectional=True): the backward pass must start at
        # each row's last real token, not at its padding, or a text's score would depend on how much
        # padding its batch happened to need. Packed sequences would do that but do not export to ONNX.
        self.lstm_fwd = nn.LSTM(width, lstm_hidden, batch_first=True)
        self.lstm_bwd = nn.LSTM(width, lstm_hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * lstm_hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = self.pooled(input_ids, attention_mask)
        with torch.autocast(device_type=pooled.device.type, enabled=False):  # fp32 head, as in pooled()
            return self.classifier(self.dropout(pooled))

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The text's representation the classifier reads: [batch, 2 * lstm_hidden]. Exported as the
        ONNX output `embedding`, so monitoring can test drift in what the model sees."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # The head runs in fp32 whatever the autocast: small next to the encoder, precision-sensitive
        # in its recurrence, and oneDNN has no bf16 LSTM on CPUs without native bf16.
        with torch.autocast(device_type=states.device.type, enabled=False):
            states = states.float()
            lengths = attention_mask.sum(dim=1, keepdim=True)
            positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
            # Index that reverses each row's real tokens in place and leaves padding where it is.
            reverse = torch.where(positions < lengths, lengths - 1 - positions, positions)
            forward_out, _ = self.lstm_fwd(states)
            backward_in = torch.gather(states, 1, reverse.unsqueeze(-1).expand(-1, -1, states.shape[-1]))
            backward_out, _ = self.lstm_bwd(backward_in)
            backward_out = torch.gather(backward_out, 1, reverse.unsqueeze(-1).expand(-1, -1, backward_out.shape[-1]))
            both = torch.cat([forward_out, backward_out], dim=-1)
            mask = attention_mask.unsqueeze(-1).to(both.dtype)
            return (both * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def scratch_encoder_config(params: dict[str, Any], vocab_size: int, pad_id: int, bos_id: int, eos_id: int):
    from transformers import RobertaConfig

    return RobertaConfig(
        vocab_size=vocab_size, hidden_size=params["hiddenSize"], num_hidden_layers=params["numLayers"],
        num_attention_heads=params["numHeads"], intermediate_size=params["intermediateSize"],
        hidden_dropout_prob=params["dropout"], attention_probs_dropout_prob=params["dropout"],
        # RoBERTa numbers real positions from pad_id + 1, so maxLength tokens need pad_id + 1 extra slots.
        max_position_embeddings=params["maxLength"] + pad_id + 1,
        type_vocab_size=1, pad_token_id=pad_id, bos_token_id=bos_id, eos_token_id=eos_id,
    )


def build_model(params: dict[str, Any], num_labels: int, tokenizer, pretrained_dir: Path | None) -> RobertaLstmClassifier:
    from transformers import RobertaModel

    from .errors import ConfigError

    if pretrained_dir is not None:
        encoder = RobertaModel.from_pretrained(str(pretrained_dir), local_files_only=True, add_pooling_layer=False)
        limit = encoder.config.max_position_embeddings - encoder.config.pad_token_id - 1
        if params["maxLength"] > limit:
            raise ConfigError(f"params.maxLength: {params['maxLength']} exceeds what {pretrained_dir} supports ({limit})")
        if encoder.config.pad_token_id != tokenizer.pad_token_id:
            raise ConfigError(f"pretrainedDir: its tokenizer pads with id {tokenizer.pad_token_id} but its model with "
                              f"{encoder.config.pad_token_id}")
    else:
        config = scratch_encoder_config(params, len(tokenizer), tokenizer.pad_token_id,
                                        tokenizer.bos_token_id, tokenizer.eos_token_id)
        encoder = RobertaModel(config, add_pooling_layer=False)
    return RobertaLstmClassifier(encoder, params["lstmHidden"], num_labels, params["dropout"])


def model_artifact(model: RobertaLstmClassifier, params: dict[str, Any], labels: list[str], pad_id: int) -> dict[str, Any]:
    """What model.pt holds: weights plus everything needed to rebuild the module without this run.
    Only tensors and plain values, so torch.load(..., weights_only=True) reads it."""
    return {
        "format": MODEL_FORMAT,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "encoder_config": model.encoder.config.to_dict(),
        "lstm_hidden": model.lstm_fwd.hidden_size,
        "dropout": params["dropout"],
        "labels": list(labels),
        "max_length": params["maxLength"],
        "pad_token_id": pad_id,
        "params": dict(params),
    }


def load_model(path: Path, map_location: str | torch.device = "cpu") -> tuple[RobertaLstmClassifier, dict[str, Any]]:
    from transformers import RobertaConfig, RobertaModel

    blob = torch.load(path, map_location=map_location, weights_only=True)
    encoder = RobertaModel(RobertaConfig.from_dict(blob["encoder_config"]), add_pooling_layer=False)
    model = RobertaLstmClassifier(encoder, blob["lstm_hidden"], len(blob["labels"]), blob["dropout"])
    model.load_state_dict(blob["state_dict"])
    return model.eval(), blob
