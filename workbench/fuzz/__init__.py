"""Adversarial fuzzing: seeded mutators, leak and compliance detectors, attack campaigns.

- `mutators`: deterministic, composable prompt mutators plus model paraphrase; `Attack` records
  seed, parent and chain so every finding replays exactly;
- detectors (in `workbench.safety.detectors`, shared with the guards): canary and secret leaks
  in plain and encoded forms, markers, refusals, personal data, judge verdicts;
- `campaign`: the catalogue under `datasets/adversarial/`, the planted secrets, runs against a
  target with and without guards, attack-success rates with intervals, replay;
- `rerun`: the campaign spec and results saved with the run, and the replay of one attack;
- `tables`: the report's tables (intervals per category, what the guards stopped, the judge).
"""

from ..errors import FuzzError, MutatorError
from ..safety.detectors import (
    Detection,
    base64_payloads,
    canary_leak,
    echo,
    judge_harm,
    judge_refusals,
    marker,
    new_canary,
    personal_data,
    refusal,
    secret_leak,
)
from .campaign import (
    CATEGORIES,
    GUARD_SETTINGS,
    Plant,
    build,
    check_gates,
    false_positives,
    load_attacks,
    load_benign,
    most_effective,
    run,
    run_benign,
    select,
    summarise,
)
from .mutators import (
    MUTATORS,
    PARAPHRASE,
    Attack,
    expand,
    known_mutators,
    mutate,
    mutate_many,
    parse_chain,
    replay,
)
from .rerun import Campaign, load_campaign, replay_command, replay_run, save_run
from .tables import category_intervals, guard_stops, judge_report

__all__ = [
    "CATEGORIES",
    "Campaign",
    "load_campaign",
    "save_run",
    "GUARD_SETTINGS",
    "MUTATORS",
    "PARAPHRASE",
    "Attack",
    "Detection",
    "FuzzError",
    "MutatorError",
    "Plant",
    "base64_payloads",
    "build",
    "category_intervals",
    "check_gates",
    "canary_leak",
    "echo",
    "expand",
    "guard_stops",
    "judge_report",
    "false_positives",
    "judge_harm",
    "judge_refusals",
    "known_mutators",
    "load_attacks",
    "load_benign",
    "marker",
    "most_effective",
    "mutate",
    "mutate_many",
    "new_canary",
    "parse_chain",
    "personal_data",
    "refusal",
    "replay",
    "replay_command",
    "replay_run",
    "run",
    "run_benign",
    "secret_leak",
    "select",
    "summarise",
]
