"""The settings of a LoRA training, checked before anything loads, and which models can be
trained here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..errors import ParameterError
from ..io import Schema, validate
from ..models import ModelSpec, get_model


class TrainSettings(Schema):
    """LoRA hyperparameters; each field is a parameter of the fine-tuning notebook."""

    rank: int = Field(8, gt=0)
    alpha: int = Field(16, gt=0)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(default=["q_proj", "v_proj"], min_length=1)
    max_steps: int = Field(40, ge=0)
    epochs: float = Field(1.0, gt=0.0)
    learning_rate: float = Field(3e-3, gt=0.0)
    batch_size: int = Field(8, gt=0)
    max_length: int = Field(128, ge=16)
    eval_every: int = Field(10, gt=0)
    early_stopping_patience: int = Field(0, ge=0)
    seed: int = 0
    precision: Literal["auto", "bf16", "fp32"] = "auto"


def settings(**values: Any) -> TrainSettings:
    """Typed settings; a wrong value is an error naming the parameter."""
    return validate(TrainSettings, values, "fine-tuning parameters", ParameterError)


def trainable(model_id: str) -> ModelSpec:
    """The catalog model to train, or an error saying why it cannot be trained here."""
    spec = get_model(model_id)
    if spec.provider != "transformers":
        raise ParameterError(
            f"parameter 'base_model': {model_id!r} is served by {spec.provider!r}; an HTTP "
            "endpoint cannot be fine-tuned here, only a local transformers model"
        )
    if spec.adapter:
        raise ParameterError(
            f"parameter 'base_model': {model_id!r} already carries adapter {spec.adapter!r}; "
            f"train on its base {model_id.split('+')[0]!r}"
        )
    return spec


def use_bf16(precision: str, cuda: bool) -> bool:
    """Mixed bf16 where the hardware computes it natively ("auto"), or as asked."""
    import torch

    if precision != "auto":
        return precision == "bf16"
    if cuda:
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # AVX512-BF16 or AMX
