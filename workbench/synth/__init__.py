"""Synthetic data: generate, correct and augment evaluation data with a model, then filter it.

Every model call goes through `generate_many` (cache, concurrency, usage, cost). Each row
carries where it came from (`strategy`, `source_ids`, `parent_id`).

- `_generate`: documents into question/answer rows, seeds into new examples, label correction;
- `_build`: the whole pipeline behind `build`, and `datasheet`.
"""

from ._build import KEEP, QA_TASK, SynthResult, build, datasheet
from ._generate import (
    STRATEGIES,
    Chunk,
    answer_spans,
    correct_labels,
    from_seeds,
    label_counts,
    load_documents,
    paragraphs,
    qa_from_documents,
    sentence_with,
)

__all__ = [
    "KEEP",
    "QA_TASK",
    "STRATEGIES",
    "Chunk",
    "SynthResult",
    "answer_spans",
    "build",
    "correct_labels",
    "datasheet",
    "from_seeds",
    "label_counts",
    "load_documents",
    "paragraphs",
    "qa_from_documents",
    "sentence_with",
]
