"""Quality filters for generated rows, with a funnel that counts what each step removed.

Nothing is dropped silently: each removed row lands in `rejected` with the step and the
reason; rows a person should look at stay in with `needs_review` and `review_reason`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .embeddings import embed
from .metrics import normalize
from .safety import pii


@dataclass
class FilterResult:
    accepted: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    funnel: list[tuple[str, int]] = field(default_factory=list)


def row_id(row: dict[str, Any], prefix: str = "syn") -> str:
    """A content-derived id: the same row gets the same id on every run."""
    digest = hashlib.sha256(
        f"{row.get('input')}\0{row.get('reference')}\0{row.get('strategy')}".encode()
    ).hexdigest()
    return f"{prefix}-{digest[:10]}"


def _reject(row: dict[str, Any], step: str, reason: str) -> dict[str, Any]:
    return {**row, "reject_step": step, "reject_reason": reason}


def _review(row: dict[str, Any], reason: str) -> None:
    row["needs_review"] = True
    row["review_reason"] = "; ".join(filter(None, [row.get("review_reason", ""), reason]))


def _shares_content(text: str, support: str) -> bool:
    words = {w for w in normalize(text).split() if len(w) >= 4}
    return bool(words & set(normalize(support).split()))


def grounded(answer: str, support: str) -> bool:
    """Every word of the normalised answer occurs in the normalised supporting text."""
    words = normalize(answer.replace(";", " ")).split()
    vocabulary = set(normalize(support).split())
    return bool(words) and all(w in vocabulary for w in words)


def apply_filters(
    rows: list[dict[str, Any]],
    *,
    required: tuple[str, ...] = ("input", "reference"),
    min_chars: int = 10,
    max_chars: int = 2000,
    dedup_threshold: float = 0.95,
    against: list[str] | None = None,
    embed_model: str = "all-minilm-l6-v2",
    generated: int | None = None,
) -> FilterResult:
    """validate -> exact dedup -> near dedup -> grounding -> PII scrub / review flags.

    `against` holds texts (e.g. the seed examples) that a new row must not duplicate;
    `generated` is how many rows were asked for, when generation already rejected some.
    """
    rejected: list[dict[str, Any]] = []
    funnel = [("generated", generated if generated is not None else len(rows))]

    valid = []
    for row in rows:
        missing = [k for k in required if not str(row.get(k) or "").strip()]
        length = len(str(row.get("input") or ""))
        if missing:
            rejected.append(_reject(row, "valid", f"missing {', '.join(missing)}"))
        elif not min_chars <= length <= max_chars:
            rejected.append(
                _reject(row, "valid", f"input length {length} outside {min_chars}-{max_chars}")
            )
        elif row.get("question") and not _shares_content(
            str(row["question"]), str(row.get("supporting_text", ""))
        ):
            rejected.append(
                _reject(row, "valid", "question shares no content word with its source")
            )
        else:
            valid.append(
                {
                    **row,
                    "needs_review": bool(row.get("needs_review")),
                    "review_reason": row.get("review_reason", ""),
                }
            )
    funnel.append(("valid", len(valid)))

    seen: dict[str, str] = {normalize(t): "source data" for t in against or []}
    unique_exact = []
    for row in valid:
        key = normalize(str(row["input"]))
        # An augmented copy is meant to resemble its parent: only other rows count as duplicates.
        if key in seen and seen[key] != row.get("parent_id"):
            rejected.append(_reject(row, "unique", f"exact duplicate of {seen[key]}"))
        elif key in seen:
            unique_exact.append(row)
        else:
            seen[key] = row.get("id", "an earlier row")
            unique_exact.append(row)

    unique = []
    if unique_exact:
        texts = [str(r["input"]) for r in unique_exact]
        vectors = embed(texts, embed_model)
        anchors = (
            embed(against, embed_model)
            if against
            else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        )
        kept: list[int] = []
        for i, row in enumerate(unique_exact):
            sims_seed = anchors @ vectors[i] if len(anchors) else np.array([])
            others = [k for k in kept if unique_exact[k].get("id") != row.get("parent_id")]
            sims_kept = vectors[others] @ vectors[i] if others else np.array([])
            if sims_seed.size and sims_seed.max() >= dedup_threshold:
                rejected.append(
                    _reject(
                        row,
                        "unique",
                        f"near duplicate of source data (cosine {sims_seed.max():.3f})",
                    )
                )
            elif sims_kept.size and sims_kept.max() >= dedup_threshold:
                other = unique_exact[others[int(sims_kept.argmax())]].get("id", "an earlier row")
                rejected.append(
                    _reject(
                        row, "unique", f"near duplicate of {other} (cosine {sims_kept.max():.3f})"
                    )
                )
            else:
                kept.append(i)
                unique.append(row)
    funnel.append(("unique", len(unique)))

    grounded_rows = []
    for row in unique:
        support = row.get("supporting_text")
        if support is not None and not grounded(str(row["reference"]), str(support)):
            rejected.append(_reject(row, "grounded", "answer not supported by its source text"))
        else:
            grounded_rows.append(row)
    funnel.append(("grounded", len(grounded_rows)))

    accepted = []
    for row in grounded_rows:
        for key in ("input", "reference"):
            clean, found = pii.scrub(str(row[key]))
            if found:
                row[key] = clean
                _review(
                    row,
                    f"personal data scrubbed from {key}: {', '.join(sorted({f.kind for f in found}))}",
                )
        if row.get("strategy") == "multi_hop":
            _review(row, "multi-hop: check that both sources are needed")
        if row.get("suspect_label"):
            _review(row, row.get("label_reason") or "suspect label")
        accepted.append(row)
    funnel.append(("accepted", len(accepted)))
    return FilterResult(accepted, rejected, funnel)
