"""Fine-tuning (notebook 06, in progress): training data from task sets, and the leakage check
between training and held-out rows.

- `data`: chat examples in the exact form the evaluation sends (the task's instruction as the
  system message, its input template as the user turn, the reference as the completion), and
  `leakage`, which finds held-out rows that are exact or near copies of training rows.
"""

from .data import Leak, LeakageReport, examples, leakage, load_training_rows

__all__ = ["Leak", "LeakageReport", "examples", "leakage", "load_training_rows"]
