"""workbench.tune training on the embedded model: a few real LoRA steps, the completion-only
loss, the adapter saved, published, reloaded as a catalog model and generating, reuse, and a run
killed mid-training that resumes from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import add_catalog_entry, fake_model_entry, free_port

from workbench import config, serving, tune
from workbench.errors import ParameterError
from workbench.llm import Request, generate_many
from workbench.models import get_model, model_ids

BASE = "smollm2-135m-instruct"
TRAIN = "tuning/hr_intents_train.jsonl"


def _prepared(**overrides):
    values = {"n_train": 16, "n_validation": 8, "max_length": 96, **overrides}
    return tune.prepare(BASE, "hr_intents", TRAIN, **values)


def _cfg(**overrides):
    values = {"max_steps": 2, "eval_every": 1, "batch_size": 4, "max_length": 96, **overrides}
    return tune.settings(**values)


@pytest.mark.integration
def test_the_loss_falls_on_the_completion_only_through_the_chat_template(tmp_path):
    prepared = _prepared()
    rows = tune.examples(prepared.task, prepared.train[:2])
    spec = tune.trainable(BASE)
    trainer, _, _ = tune.train.build_trainer(spec, rows, rows, _cfg(), "sft", tmp_path / "out")
    tok = trainer.processing_class
    batch = trainer.data_collator(list(trainer.train_dataset))
    rows = zip(
        batch["input_ids"],
        batch["labels"],
        batch["attention_mask"],
        prepared.train[:2],
        strict=True,
    )
    for ids, labels, attended, row in rows:
        learnt = tok.decode(labels[labels != -100])
        assert learnt == f"{row['reference']}<|im_end|>\n"
        prompt = tok.decode(ids[(labels == -100) & (attended == 1)])
        assert prompt.startswith("<|im_start|>system\n" + prepared.task.instruction)
        assert prompt.endswith("<|im_start|>assistant\n")


@pytest.mark.integration
def test_train_publish_reload_generate_and_reuse():
    prepared = _prepared()
    cfg = _cfg()
    training = tune.fine_tune(prepared, cfg, progress=False)
    assert training.steps == 2 and not training.reused and training.resumed_from_step is None
    assert training.tokens > 0 and training.peak_memory_mb > 100
    assert [h["step"] for h in training.history if "eval_loss" in h] == [0, 1, 2]
    adapter = tune.publish(training, "hr_intents", cfg, prepared.fingerprints())
    assert adapter.name == f"hr_intents-lora-{adapter.sha256[:12]}"
    assert {p.name for p in adapter.folder.iterdir()} >= {
        "adapter_config.json",
        "adapter_model.safetensors",
        "README.md",
        "workbench.json",
    }
    card = (adapter.folder / "README.md").read_text()
    base_sha = adapter.meta["base_weights_sha256"]
    assert base_sha in card and "Apache-2.0" in card and prepared.task.fingerprint in card
    assert adapter.model_id in model_ids()

    spec = get_model(adapter.model_id)
    assert spec.adapter == adapter.name and spec.adapter_sha256 == adapter.sha256
    request = [
        Request.from_prompt(
            "Request: my payslip is wrong", system=prepared.task.instruction, max_tokens=4
        )
    ]
    [tuned] = generate_many(adapter.model_id, request, progress=False)
    [base] = generate_many(BASE, request, progress=False)
    assert tuned.error is None and tuned.text and not tuned.cached
    assert not base.cached  # the adapter's answer is not the base model's cache entry
    [again] = generate_many(adapter.model_id, request, progress=False)
    assert again.cached and again.text == tuned.text

    # The same inputs train nothing twice; asked to retrain, the bytes come out the same.
    reused = tune.fine_tune(prepared, cfg, progress=False)
    assert reused.reused and reused.steps == 2 and "reused" in reused.summary()
    retrained = tune.fine_tune(prepared, cfg, retrain=True, progress=False)
    assert not retrained.reused
    assert tune.publish(retrained, "hr_intents", cfg, prepared.fingerprints()).name == adapter.name


SCRIPT = """
import sys
from workbench import tune
prepared = tune.prepare("smollm2-135m-instruct", "hr_intents", "tuning/hr_intents_train.jsonl",
                        n_train=32, n_validation=8, max_length=96)
cfg = tune.settings(max_steps=6, eval_every=2, batch_size=4, max_length=96)
training = tune.fine_tune(prepared, cfg, progress=False)
print(training.steps, training.resumed_from_step)
"""


@pytest.mark.integration
def test_a_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, cwd=config.PROJECT_ROOT, start_new_session=True
    )
    tune_dir = config.cache_dir() / "tune"
    deadline = time.time() + 300
    try:
        while time.time() < deadline and proc.poll() is None:
            if list(tune_dir.glob("*/checkpoint-2/trainer_state.json")):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "training finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not list(tune_dir.glob("*/training.json"))  # it did not finish
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=config.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    steps, resumed = out.stdout.split()[-2:]
    assert steps == "6" and int(resumed) >= 2
    record = json.loads(next(tune_dir.glob("*/training.json")).read_text())
    assert record["resumed_from_step"] == int(resumed)


@pytest.mark.integration
def test_workbench_serve_serves_a_tuned_model(datasets_copy):
    prepared = _prepared()
    cfg = _cfg(max_steps=1)
    adapter = tune.publish(
        tune.fine_tune(prepared, cfg, progress=False), "hr_intents", cfg, prepared.fingerprints()
    )
    port = free_port()
    server = serving.start(adapter.model_id, port, device="cpu")
    try:
        entry = fake_model_entry("served-tuned", f"http://127.0.0.1:{port}/v1")
        entry.update(model=adapter.model_id, price_per_1m_input=0.0, price_per_1m_output=0.0)
        add_catalog_entry(datasets_copy, **entry)
        serving.wait_ready(port, server, timeout=120)
        request = [
            Request.from_prompt(
                "Request: my laptop password expired",
                max_tokens=5,
                system=prepared.task.instruction,
            )
        ]
        [served] = generate_many("served-tuned", request, progress=False, timeout=60)
        assert served.ok and served.text, served.error
    finally:
        serving.stop(server)


@pytest.mark.integration
def test_an_unknown_target_module_names_the_parameter_and_the_modules(tmp_path):
    prepared = _prepared()
    rows = tune.examples(prepared.task, prepared.train[:2])
    with pytest.raises(
        ParameterError,
        match=r"'target_modules': 'qproj' is not a linear module of 'smollm2-135m-instruct'; its linear modules are .*q_proj",
    ):
        tune.train.build_trainer(
            tune.trainable(BASE),
            rows,
            rows,
            _cfg(target_modules=["qproj"]),
            "sft",
            tmp_path / "out",
        )


@pytest.mark.integration
def test_early_stopping_stops_when_the_eval_loss_stops_improving():
    # A learning rate far too high makes the eval loss climb after the first steps.
    prepared = _prepared()
    cfg = _cfg(max_steps=8, learning_rate=0.5, early_stopping_patience=1)
    training = tune.fine_tune(prepared, cfg, progress=False)
    evals = [h["eval_loss"] for h in training.history if "eval_loss" in h]
    assert training.stopped_early and training.steps < 8
    assert min(evals) < evals[-1]  # it stopped because the last evaluation was worse
    assert "stopped early on eval loss" in training.summary()
