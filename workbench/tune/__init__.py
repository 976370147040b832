"""Fine-tuning (notebook 06): LoRA on a local catalog model with `peft` + `trl`, supervised on a
task set or adapted to a documents folder, published as a versioned adapter that every notebook
can name as `<base>+<adapter>`, and compared with prompting on the same held-out cases.

- `data`: training rows in the evaluation's own form, the train/validation split, the leakage
  and sequence-length checks.
- `settings`: the typed hyperparameters and which models can be trained here.
- `train`: the shared training loop (settings, progress, checkpoints and resume, figures).
- `supervised`: `prepare` checks a task set-up before training; `fine_tune` trains on it.
- `domain`: continued causal-LM training on documents, held-out perplexity before and after.
- `card`: publishing an adapter with its model card; evaluation results added to it.
- `compare`: base zero-shot vs best few-shot prompt vs tuned, forgetting, the recommendation.
- `record`: the adapter, training figures and metrics into `run.json` and the adapter's card.
"""

from .card import publish, record_evaluation
from .compare import (
    ARMS,
    BASE,
    PROMPTED,
    TUNED,
    flipped,
    forgetting,
    headline,
    recommend,
    select_prompt,
    statistics,
    three_arms,
)
from .data import Leak, LeakageReport, examples, leakage, load_training_rows, split
from .domain import Adaptation, adapt, perplexity
from .record import record
from .settings import TrainSettings, settings, trainable
from .supervised import Prepared, fine_tune, prepare
from .train import Training

__all__ = [
    "ARMS",
    "BASE",
    "PROMPTED",
    "TUNED",
    "Adaptation",
    "Leak",
    "LeakageReport",
    "Prepared",
    "TrainSettings",
    "Training",
    "adapt",
    "examples",
    "fine_tune",
    "flipped",
    "forgetting",
    "headline",
    "leakage",
    "load_training_rows",
    "perplexity",
    "prepare",
    "publish",
    "record_evaluation",
    "recommend",
    "record",
    "select_prompt",
    "settings",
    "split",
    "statistics",
    "three_arms",
    "trainable",
]
