"""What a fine-tuning run records: the adapter and its training in `run.json`, the headline
metrics, and the evaluation in the adapter's own card."""

from __future__ import annotations

from typing import Any

from .. import adapters, runs, tracking
from .card import record_evaluation
from .domain import Adaptation
from .settings import TrainSettings
from .supervised import Prepared
from .train import Training


def record(
    prepared: Prepared,
    cfg: TrainSettings,
    training: Training,
    adapter: adapters.Adapter,
    metrics: dict[str, Any],
    verdict: str,
    adaptation: Adaptation | None = None,
) -> None:
    """Write the adapter, training figures and metrics into the run record, and the evaluation
    into the adapter's card (keyed by run id)."""
    run = tracking.current()
    run.log_section(
        "adapter",
        {
            "model_id": adapter.model_id,
            "name": adapter.name,
            "sha256": adapter.sha256,
            "base_model": adapter.base_model,
            "base_weights_sha256": adapter.meta.get("base_weights_sha256"),
            "lora": cfg.model_dump(),
            "datasets": prepared.fingerprints(),
            "sizes": prepared.sizes(),
            "leakage": prepared.leakage.summary(),
        },
    )
    figures: dict[str, Any] = {"supervised": training.figures()}
    if adaptation is not None:
        figures["domain"] = {
            **adaptation.training.figures(),
            "adapter": adaptation.training.adapter,
            "perplexity_before": round(adaptation.perplexity_before, 3),
            "perplexity_after": round(adaptation.perplexity_after, 3),
            "held_out_documents": adaptation.corpus.eval_docs,
        }
    run.log_section("training", figures)
    # Four significant digits: a p-value of 7e-12 must not read 0.
    shown = {k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in metrics.items()}
    # The verdict first: the index shows a run's first metrics.
    run.log_metrics({"recommendation": verdict, **shown})
    if adaptation is not None:
        run.log_metrics(
            {
                "domain_perplexity_before": round(adaptation.perplexity_before, 3),
                "domain_perplexity_after": round(adaptation.perplexity_after, 3),
            }
        )
    run_id = runs.current_run_id() or "interactive session"
    record_evaluation(adapter.name, run_id, {"task": prepared.task.name, **metrics})
