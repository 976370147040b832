"""A fuzzing run saved for replay, and the replay of one of its attacks.

The campaign saves its own spec (`Campaign`, artifact `fuzz_spec`) and its result tables with
the run; `replay_run` reads them back through `workbench.runs`, never a notebook's parameters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import config, runs
from ..errors import FuzzError
from .campaign import Plant, build, load_attacks, run
from .mutators import chain_name

SPEC, RESULTS, BENIGN = "fuzz_spec", "fuzz_results", "benign_results"


@dataclass(frozen=True)
class Campaign:
    """What a fuzzing run needs to be replayed: the target, the catalogue and the seeds."""

    target_model: str
    system_prompt: str
    attack_set: str
    seed: int = 0
    max_tokens: int = 48
    judge_model: str = ""
    paraphrase_model: str = ""


def save_run(campaign: Campaign, results: pd.DataFrame, benign: pd.DataFrame) -> None:
    """Keep the campaign's spec and both result tables with the current run."""
    runs.save_json(SPEC, dataclasses.asdict(campaign))
    runs.save_table(results, RESULTS)
    runs.save_table(benign, BENIGN)


def replay_command(attack_id: str, guards: str, run_dir: str | Path | None = None) -> str:
    """The command that re-runs one attack of a finished run and checks it gives the same result."""
    folder = run_dir or runs.current_folder()
    shown = config.project_relative(runs.published(folder)) if folder else "<run folder>"
    return f"workbench fuzz replay {shown} '{attack_id}' --guards {guards}"


def load_campaign(run_dir: str | Path) -> Campaign:
    """The campaign spec a fuzzing run saved."""
    runs.read_record(run_dir, what="05_adversarial_fuzzing")
    hint = (
        ": is it a run of 05_adversarial_fuzzing? A fuzzing run made before the campaign spec "
        "was saved with it cannot be replayed; run the notebook again"
    )
    spec = runs.read_json(run_dir, SPEC, hint=hint)
    known = {f.name for f in dataclasses.fields(Campaign)}
    return Campaign(**{k: v for k, v in spec.items() if k in known})


def replay_run(run_dir: str | Path, attack_id: str, guards: str = "none") -> dict[str, Any]:
    """Rebuild one attack of a finished run from the catalogue, run it again and compare.

    Returns the recorded and new text, output and success, and whether each matches. A
    recorded `None` (the call failed) matches only a new `None`.
    """
    folder = Path(run_dir)
    campaign = load_campaign(folder)
    results = runs.read_table(folder, RESULTS)
    match = results[(results["attack_id"] == attack_id) & (results["guards"] == guards)]
    if match.empty:
        raise FuzzError(
            f"attack {attack_id!r} with guards {guards!r} is not in "
            f"{runs.table_path(folder, RESULTS)}"
        )
    recorded = match.iloc[0]
    parent, _, chain = attack_id.partition("/")
    seeds = [a for a in load_attacks(campaign.attack_set) if a["id"] == parent]
    if not seeds:
        raise FuzzError(f"seed attack {parent!r} is no longer in datasets/{campaign.attack_set}")
    attack = build(seeds, [chain], campaign.seed, campaign.paraphrase_model)[-1]
    new = run(
        [attack],
        model=campaign.target_model,
        template=campaign.system_prompt,
        plant=Plant.from_seed(campaign.seed),
        guards=[guards],
        judge_model=campaign.judge_model,
        max_tokens=campaign.max_tokens,
        seed=campaign.seed,
        progress=False,
    ).iloc[0]
    was, now = _verdict(recorded["success"]), _verdict(new["success"])
    return {
        "attack_id": attack_id,
        "guards": guards,
        "chain": chain_name(attack.chain),
        "text_matches": new["attack"] == recorded["attack"],
        "output_matches": new["output"] == recorded["output"],
        "success_matches": was == now,
        "recorded_success": was,
        "success": now,
        "reason": new["reason"],
        "attack": new["attack"],
        "output": new["output"],
    }  # fmt: skip # one result field per line would hide which fields are compared


def _verdict(value: Any) -> bool | None:
    """True, False, or None for a call that failed (read back from JSON as None or NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return bool(value)
