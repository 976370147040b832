"""LoRA vs full fine-tuning of the embedded model on the same batches: training tokens/s and peak
memory of each, as ratios measured in one run.

Each side trains in its own child process (so each peak is its own: the process's maximum
resident set size, which includes the loaded base model on both sides), on the same hr_intents
rows, the same steps and batch size, torch pinned to two threads, in alternating rounds
(LoRA full, full LoRA, ...). Only `trainer.train()` is timed; loading is not. Goal: LoRA at least
as fast (tokens/s ratio >= 1) and no larger in peak memory (ratio <= 1).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import pin_threads, report, spread  # noqa: E402

MODEL = "smollm2-135m-instruct"
STEPS, BATCH, ROUNDS = 6, 8, 3


def child(side: str) -> None:
    """Train STEPS steps on one side and print its figures as JSON."""
    pin_threads(2)
    from workbench import tune

    prepared = tune.prepare(
        MODEL,
        "hr_intents",
        "tuning/hr_intents_train.jsonl",
        n_train=STEPS * BATCH,
        n_validation=1,
        max_length=128,
    )
    rows = tune.examples(prepared.task, prepared.train)
    cfg = tune.settings(
        max_steps=STEPS,
        batch_size=BATCH,
        eval_every=STEPS + 1,
        learning_rate=2e-4,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
    )
    with tempfile.TemporaryDirectory() as out:
        trainer, threads, _ = tune.train.build_trainer(
            tune.trainable(MODEL), rows, rows[:1], cfg, "sft", Path(out), lora=side == "lora"
        )
        trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tokens = int(trainer.state.num_input_tokens_seen)
    print(
        json.dumps(
            {
                "side": side,
                "tokens": tokens,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "trainable_parameters": trainable,
                "threads": threads,
            }
        )
    )


def run_side(side: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--side", side], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    runs: dict[str, list[dict]] = {"lora": [], "full": []}
    for r in range(ROUNDS):
        for side in ("lora", "full") if r % 2 == 0 else ("full", "lora"):
            runs[side].append(run_side(side))
    speed = {s: [x["tokens"] / x["seconds"] for x in v] for s, v in runs.items()}
    peak = {s: [x["peak_mb"] for x in v] for s, v in runs.items()}
    per_round_speed = [a / b for a, b in zip(speed["lora"], speed["full"], strict=True)]
    per_round_peak = [a / b for a, b in zip(peak["lora"], peak["full"], strict=True)]
    details = {
        "rounds": ROUNDS,
        "steps": STEPS,
        "batch_size": BATCH,
        "threads": 2,
        "tokens_per_s": {s: spread(v, 1) for s, v in speed.items()},
        "peak_memory_mb": {s: spread(v, 0) for s, v in peak.items()},
        "trainable_parameters": {s: v[0]["trainable_parameters"] for s, v in runs.items()},
    }
    report(
        "finetune_speed",
        statistics.median(per_round_speed),
        "x full fine-tuning tokens/s",
        ">= 1",
        meaning="training tokens/s of LoRA over full fine-tuning",
        ratio_per_round=spread(per_round_speed, 3),
        **details,
    )
    report(
        "finetune_memory",
        statistics.median(per_round_peak),
        "x full fine-tuning peak memory",
        "<= 1",
        meaning="peak resident memory of LoRA over full fine-tuning",
        ratio_per_round=spread(per_round_peak, 3),
        **details,
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--side":
        child(sys.argv[2])
    else:
        main()
