"""LoRA training with `peft` + `trl` on a local catalog model: one loop for supervised
fine-tuning (loss on the completion only) and for domain adaptation (loss on every token).

Checkpoints live under the cache, in a folder named by everything that determines the result
(base weights, data fingerprints, settings): a run killed mid-training and started again with
the same inputs resumes from its last checkpoint, and a finished training is reused instead of
repeated unless asked (`retrain=True`). On CPU torch uses the cores other processes leave free.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import config, cpu
from ..cache import cache_key
from ..errors import ParameterError
from ..io import write_json_atomic
from ..models import ModelSpec, local_model_dir, weights_fingerprint
from ..progress import StepProgress
from .settings import TrainSettings, trainable, use_bf16

DONE = "training.json"  # in the checkpoint folder once training finished


@dataclass
class Training:
    """What one training did (or, when `reused`, what the earlier identical training did)."""

    model_id: str
    kind: str
    key: str
    adapter_dir: Path | None
    history: list[dict[str, Any]]
    steps: int
    tokens: int
    seconds: float
    peak_memory_mb: float
    threads: int
    device: str
    precision: str = "fp32"  # "bf16" when mixed precision ran (it changes the adapter's bytes)
    resumed_from_step: int | None = None
    stopped_early: bool = False
    reused: bool = False
    adapter: str | None = None  # the published name, once published
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    def losses(self) -> dict[str, float | None]:
        """Last train loss and best eval loss of the history."""
        train = [h["train_loss"] for h in self.history if h.get("train_loss") is not None]
        evals = [h["eval_loss"] for h in self.history if h.get("eval_loss") is not None]
        return {
            "final_train_loss": train[-1] if train else None,
            "best_eval_loss": min(evals) if evals else None,
            "final_eval_loss": evals[-1] if evals else None,
        }

    def figures(self) -> dict[str, Any]:
        """The numbers a run record and a model card carry."""
        return {
            "kind": self.kind,
            "steps": self.steps,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 1),
            "tokens_per_s": round(self.tokens_per_s, 1),
            "peak_memory_mb": round(self.peak_memory_mb, 1),
            "threads": self.threads,
            "device": self.device,
            "precision": self.precision,
            "resumed_from_step": self.resumed_from_step,
            "stopped_early": self.stopped_early,
            "reused": self.reused,
            **self.losses(),
        }

    def summary(self) -> str:
        """One line for the notebook and the report."""
        f = self.figures()
        how = (
            "reused from an earlier identical training (same base weights, data and settings)"
            if self.reused
            else f"resumed from step {self.resumed_from_step}"
            if self.resumed_from_step
            else "trained in this run"
        )
        stop = ", stopped early on eval loss" if self.stopped_early else ""
        return (
            f"{self.kind}: {f['steps']} steps, {f['tokens']:,} tokens in {f['seconds']} s "
            f"({f['tokens_per_s']} tokens/s on {self.threads} thread(s), {self.device}, "
            f"{self.precision}), peak "
            f"resident memory {f['peak_memory_mb']:.0f} MB; {how}{stop}."
        )


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _callback(bar: StepProgress):
    from transformers import TrainerCallback

    class Watch(TrainerCallback):
        """Progress, peak memory and the tokens and seconds of this `train()` call."""

        def __init__(self) -> None:
            self.peak = _rss_mb()
            self.tokens0 = 0
            self.started = 0.0

        def on_train_begin(self, args, state, control, **kwargs):
            self.tokens0, self.started = state.num_input_tokens_seen, time.perf_counter()
            bar.update(state.global_step - bar.done)

        def on_step_end(self, args, state, control, **kwargs):
            self.peak = max(self.peak, _rss_mb())
            bar.update(state.global_step - bar.done)

    return Watch()


def _history(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for entry in log_history:
        row = rows.setdefault(int(entry.get("step", 0)), {"step": int(entry.get("step", 0))})
        if "loss" in entry:
            row["train_loss"] = float(entry["loss"])
        if "eval_loss" in entry:
            row["eval_loss"] = float(entry["eval_loss"])
    return [rows[k] for k in sorted(rows)]


def run(
    model_id: str,
    train_rows: list[dict[str, Any]],
    eval_rows: list[dict[str, Any]],
    cfg: TrainSettings,
    *,
    kind: str,
    fingerprints: dict[str, str],
    retrain: bool = False,
    progress: bool | None = None,
) -> Training:
    """Train a LoRA adapter on `train_rows` (trl's conversational prompt/completion rows, or
    pre-tokenized `input_ids` rows for domain adaptation), evaluating on `eval_rows`.

    The adapter is saved in the checkpoint folder (`Training.adapter_dir`); `publish` it to make
    it a catalog model.
    """
    spec = trainable(model_id)
    base_sha = weights_fingerprint(spec)
    key = cache_key(
        {
            "base": spec.id,
            "weights": base_sha,
            "kind": kind,
            "data": fingerprints,
            "settings": cfg.model_dump(),
        }
    )[:16]
    out = config.cache_dir() / "tune" / key
    done = out / DONE
    if done.exists() and not retrain:
        record = json.loads(done.read_text(encoding="utf-8"))
        saved = out / "adapter"
        if saved.is_dir():
            return Training(**{**record, "adapter_dir": saved, "reused": True})
    if retrain:
        shutil.rmtree(out, ignore_errors=True)
    return _train(spec, train_rows, eval_rows, cfg, kind, key, out, progress)


def build_trainer(
    spec: ModelSpec,
    train_rows: list[dict[str, Any]],
    eval_rows: list[dict[str, Any]],
    cfg: TrainSettings,
    kind: str,
    out: Path,
    lora: bool = True,
):
    """The `trl.SFTTrainer` for one training, and the device and thread count it runs on.

    `lora=False` trains every weight (the benchmark's comparison); `kind` "sft" puts the loss
    on the completion only, "domain" on every token.
    """
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, EarlyStoppingCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet()
    folder = local_model_dir(spec)
    cuda = torch.cuda.is_available()
    threads = torch.get_num_threads() if cuda else cpu.free_cores()
    if not cuda:
        torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(folder)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    _check_modules(model, spec.id, cfg.target_modules)
    early = cfg.early_stopping_patience > 0
    args = SFTConfig(
        output_dir=str(out),
        max_steps=cfg.max_steps or -1,
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        seed=cfg.seed,
        data_seed=cfg.seed,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=cfg.eval_every,
        eval_on_start=True,
        save_strategy="steps",
        save_steps=cfg.eval_every,
        save_total_limit=2,
        load_best_model_at_end=early,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        max_length=cfg.max_length,
        completion_only_loss=True if kind == "sft" else None,
        include_num_input_tokens_seen="non_padding",
        use_cpu=not cuda,
        bf16=use_bf16(cfg.precision, cuda),
        # trl turns activation checkpointing on by default: it saves memory a 135M model does not
        # need, at the cost of a second forward pass.
        activation_checkpointing=False,
        gradient_checkpointing=False,
        disable_tqdm=True,
        report_to=[],
        dataloader_num_workers=0,
    )
    adapter = LoraConfig(
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():
        # peft reads a transformers property that transformers 5 marks deprecated.
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
        trainer = SFTTrainer(
            model=model,
            args=args,
            processing_class=tok,
            peft_config=adapter if lora else None,
            train_dataset=Dataset.from_list(train_rows),
            eval_dataset=Dataset.from_list(eval_rows),
            callbacks=[EarlyStoppingCallback(cfg.early_stopping_patience)] if early else None,
        )
    trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout
    return trainer, threads, "cuda" if cuda else "cpu"


def _check_modules(model, model_id: str, wanted: list[str]) -> None:
    import torch

    linear = sorted(
        {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    )
    unknown = [w for w in wanted if w not in linear]
    if unknown:
        raise ParameterError(
            f"parameter 'target_modules': {', '.join(map(repr, unknown))} is not a linear module "
            f"of {model_id!r}; its linear modules are {', '.join(linear)}"
        )


def _train(spec, train_rows, eval_rows, cfg, kind, key, out: Path, progress) -> Training:
    import torch

    trainer, threads, device = build_trainer(spec, train_rows, eval_rows, cfg, kind, out)
    steps = cfg.max_steps or -1
    early = cfg.early_stopping_patience > 0
    total = trainer.args.max_steps if steps > 0 else _planned_steps(trainer)
    if progress is None:
        progress = not os.environ.get("WORKBENCH_HEADLESS")
    bar = StepProgress(f"training {spec.id} ({kind})", total, show_bar=progress)
    watch = _callback(bar)
    trainer.add_callback(watch)
    last = last_checkpoint(out)
    try:
        trainer.train(resume_from_checkpoint=last)
    finally:
        bar.close()
    seconds = time.perf_counter() - watch.started
    state = trainer.state
    saved = out / "adapter"
    shutil.rmtree(saved, ignore_errors=True)
    trainer.model.save_pretrained(saved)
    _portable_config(saved / "adapter_config.json", spec.model)
    training = Training(
        model_id=spec.id,
        kind=kind,
        key=key,
        adapter_dir=saved,
        history=_history(state.log_history),
        steps=state.global_step,
        tokens=int(state.num_input_tokens_seen - watch.tokens0),
        seconds=seconds,
        peak_memory_mb=(
            torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else watch.peak
        ),
        threads=threads,
        device=device,
        precision="bf16" if trainer.args.bf16 else "fp32",
        resumed_from_step=int(last.rsplit("-", 1)[-1]) if last else None,
        stopped_early=early and state.global_step < total,
    )
    record = {k: v for k, v in asdict(training).items() if k not in ("adapter_dir", "reused")}
    write_json_atomic(out / DONE, record)
    for checkpoint in out.glob("checkpoint-*"):  # the finished adapter is all a rerun needs
        shutil.rmtree(checkpoint, ignore_errors=True)
    trainer.model = None  # release the model's memory before evaluation loads its own copy
    return training


def last_checkpoint(out: Path) -> str | None:
    """The newest complete checkpoint: the trainer writes `trainer_state.json` last, so a run
    killed while saving leaves a folder without it (or with it cut short), which is skipped."""
    found = []
    for folder in out.glob("checkpoint-*"):
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
            found.append((int(folder.name.rsplit("-", 1)[-1]), folder))
        except (OSError, ValueError):
            continue
    return str(max(found)[1]) if found else None


def quiet() -> None:
    """Silence the libraries' own progress bars and log prints: the workbench shows one bar."""
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _planned_steps(trainer) -> int:
    import math

    per_epoch = math.ceil(len(trainer.train_dataset) / trainer.args.per_device_train_batch_size)
    return max(1, math.ceil(per_epoch * trainer.args.num_train_epochs))


def _portable_config(path: Path, base_model: str) -> None:
    # peft writes the local folder it loaded the base from; the card names the base by its id.
    data = json.loads(path.read_text(encoding="utf-8"))
    data["base_model_name_or_path"] = base_model
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
