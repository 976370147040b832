"""`build`: a synthetic set from seeds or documents, through generation, augmentation, label
correction and the filters; and its datasheet."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import config, tracking
from ..augment import augment_noise, augment_paraphrase
from ..data import read_jsonl, read_yaml_mapping
from ..documents import load_corpus
from ..filters import apply_filters, row_id
from ..models import weights_fingerprint
from ._generate import STRATEGIES, correct_labels, from_seeds, paragraphs, qa_from_documents


@dataclass
class SynthResult:
    """Everything one synthetic-data run produced, for display and for the datasheet."""

    kind: str  # "seeds" or "documents"
    source: str
    accepted: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    funnel: list[tuple[str, int]]
    seeds: list[dict[str, Any]]
    task_spec: dict[str, Any]
    cost_usd: float


QA_TASK = {
    "description": "Synthetic extractive QA generated from documents",
    "instruction": "Answer the question using the context. Reply with a short answer only.",
    "metrics": ["token_f1", "exact_match"],
    "primary_metric": "token_f1",
    "max_tokens": 32,
}
KEEP = (
    "id",
    "input",
    "reference",
    "strategy",
    "source_ids",
    "parent_id",
    "question",
    "supporting_text",
    "needs_review",
    "review_reason",
    "suspect_label",
    "proposed_label",
    "label_reason",
)


def build(
    source: str,
    strategies: list[str],
    model: str,
    n_target: int,
    *,
    seed: int = 0,
    dedup_threshold: float = 0.92,
    min_chars: int = 15,
    max_chars: int = 2000,
) -> SynthResult:
    """Generate, augment, review and filter a synthetic set from seeds (JSONL) or documents (folder)."""
    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        raise ValueError(
            f"unknown strategy {', '.join(map(repr, unknown))}; choose from {', '.join(STRATEGIES)}"
        )
    path = config.datasets_dir() / source
    seeds: list[dict[str, Any]] = []
    if path.suffix == ".jsonl":
        kind = "seeds"
        seeds = read_jsonl(path, required=("id", "input", "reference"))
        tracking.current().log_dataset(path)
        spec_path = path.with_suffix(".yaml")
        base = read_yaml_mapping(spec_path, "task specification") if spec_path.exists() else {}
        task_spec = {k: v for k, v in base.items() if k not in ("name", "data")}
        task_spec["description"] = f"Synthetic examples in the style of {source}"
        task_spec.setdefault("instruction", "Complete the task.")
        task_spec.setdefault("metrics", ["exact_match"])
        labels = list(base.get("labels") or [])
        rows, rejected = (
            from_seeds(model, seeds, n_target, seed=seed)
            if "from_seeds" in strategies
            else ([], [])
        )
    else:
        kind = "documents"
        corpus = load_corpus(path)
        for d in corpus:
            tracking.current().log_dataset(d.path)
        docs = [(d.id, d.text) for d in corpus]
        chunks = paragraphs(docs)
        task_spec, labels = dict(QA_TASK), []
        n_multi = max(1, n_target // 4) if "multi_hop" in strategies else 0
        n_single = n_target if "single_hop" in strategies else 0
        rows, rejected = qa_from_documents(model, chunks, n_single, seed=seed, multi_hop=n_multi)
    for row in rows:
        row["id"] = row_id(row)
    augmented: list[dict[str, Any]] = []
    if "paraphrase" in strategies:
        para, para_rejected = augment_paraphrase(model, rows, seed=seed)
        augmented += para
        rejected += para_rejected
    if "noise" in strategies:
        augmented += augment_noise(rows, seed=seed)
    for row in augmented:
        row["id"] = row_id(row)
    candidates = rows + augmented
    if "correct" in strategies and labels and candidates:
        candidates = correct_labels(
            model, candidates, labels, instruction=task_spec.get("instruction", "")
        )
    result = apply_filters(
        candidates,
        dedup_threshold=dedup_threshold,
        min_chars=min_chars,
        max_chars=max_chars,
        against=[str(s["input"]) for s in seeds],
        generated=len(candidates) + len(rejected),
    )
    rejected = [{**r, "reject_step": "generated"} for r in rejected] + result.rejected
    cost = sum(float(r.get("cost_usd") or 0.0) for r in rows + augmented + rejected)
    accepted = sorted(
        ({k: r[k] for k in KEEP if k in r} for r in result.accepted), key=lambda r: r["id"]
    )
    return SynthResult(kind, source, accepted, rejected, result.funnel, seeds, task_spec, cost)


def datasheet(result: SynthResult, name: str, parameters: dict[str, Any], model: str) -> str:
    """A datasheet (Markdown): what the set is, where it came from, how it was filtered, its limits."""
    record = tracking.current().data
    funnel = "\n".join(f"| {step} | {count} |" for step, count in result.funnel)
    reasons = Counter(f"{r.get('reject_step')}: {r.get('reject_reason')}" for r in result.rejected)
    # Reasons may quote what a server or model wrote: escape them (the datasheet is shown as Markdown).
    rejected = (
        "\n".join(f"- {n} x {html.escape(reason)}" for reason, n in reasons.most_common())
        or "- none"
    )
    review = sum(bool(r.get("needs_review")) for r in result.accepted)
    params = "\n".join(f"- `{k}` = `{v!r}`" for k, v in parameters.items())
    sources = (
        "\n".join(f"- `{p}` sha256 `{h}`" for p, h in record["datasets"].items())
        or "- (interactive run)"
    )
    return f"""# Datasheet: {name}

**What it is.** {result.task_spec.get("description", "")}: {len(result.accepted)} rows
(JSONL; fields `id`, `input`, `reference`, `strategy`, `source_ids`, `parent_id`, review flags).

**Made by.** Model `{model}` (weights sha256 `{weights_fingerprint(model) or "hosted"}`) from
`{result.source}` ({result.kind}) with the workbench's `synth` module; every call went through the
response cache, so the same parameters reproduce the same file.

**Source data.**
{sources}

**Parameters.**
{params}

**Counts at every step.**

| step | rows |
|---|---|
{funnel}

**Removed, and why.**
{rejected}

**Needs review.** {review} accepted row(s) carry `needs_review` with a reason (scrubbed personal
data, disputed labels, multi-hop questions). Review them before using the set as ground truth.

**Known limits.** Generated by a small model: questions and examples can be awkward or
ambiguous even when they pass the filters; grounding is checked word by word against the source
sentence, not semantically; labels of generated examples are the labels that were asked for.
"""
