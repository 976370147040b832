"""The `workbench` command, run as a user runs it (a subprocess), including bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import add_catalog_entry, fake_model_entry, write_notebook
from fake_openai import FakeOpenAIServer

WORKBENCH = str(Path(sys.executable).parent / "workbench")
CANARY = "sk-canary-7f3a9c2e51d84b06"
TINY_DISCOVERY = (
    "run",
    "01_model_discovery",
    "-p",
    "models",
    "[smollm2-135m-instruct]",
    "-p",
    "tasks",
    "[sentiment, customer_service]",
    "-p",
    "n_cases",
    "2",
)


def run(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [WORKBENCH, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.integration
def test_unknown_parameter_is_an_error_before_anything_runs(tmp_path):
    out = run("run", "01_model_discovery", "-p", "n_case", "3")
    assert out.returncode == 2
    assert "has no parameter 'n_case'" in out.stderr and "n_cases" in out.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.integration
def test_wrong_type_is_an_error(tmp_path):
    out = run("run", "01_model_discovery", "-p", "n_cases", "three")
    assert (
        out.returncode == 2
        and "parameter 'n_cases'" in out.stderr
        and "expected an integer" in out.stderr
    )


@pytest.mark.integration
def test_parameter_file_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("n_cases: 2\nmodels: [a\n")
    out = run("run", "01_model_discovery", "-f", str(bad))
    assert out.returncode == 2 and re.search(r"p\.yaml:\d+: not valid YAML", out.stderr)


@pytest.mark.integration
def test_unknown_model_or_task_is_an_error_before_anything_runs(tmp_path):
    out = run("run", "01_model_discovery", "-p", "models", "[smollm2-135m-instruct, no-such-model]")
    assert out.returncode == 2
    assert "parameter 'models'" in out.stderr and "unknown model id 'no-such-model'" in out.stderr
    assert "smollm2-135m-instruct" in out.stderr  # the known ids are listed
    out = run("run", "02_prompt_iteration", "-p", "task", "qaa")
    assert out.returncode == 2 and "unknown task 'qaa'" in out.stderr
    assert not (tmp_path / "reports").exists()  # no kernel started, no run folder
    # An empty string still means "none" (e.g. no judge); it is not an unknown id.
    from workbench import reports

    reports.validate_parameters(
        reports.resolve_notebook("02_prompt_iteration"), {"judge_model": ""}
    )


@pytest.mark.integration
def test_malformed_task_file_names_file_and_line(datasets_copy):
    tasks = datasets_copy / "tasks"
    (tasks / "broken.yaml").write_text(
        "name: broken\ninstruction: x\nmetrics: [exact_match]\ndata: broken.jsonl\n"
    )
    (tasks / "broken.jsonl").write_text(
        '{"id": "1", "input": "a", "reference": "b"}\n{"id": "2", "input": "a"}\n'
    )
    out = run(
        "run",
        "01_model_discovery",
        "-p",
        "tasks",
        "[broken]",
        "-p",
        "models",
        "[smollm2-135m-instruct]",
    )
    assert out.returncode == 1 and "broken.jsonl:2: missing field(s) reference" in out.stderr


@pytest.mark.integration
def test_models_lists_availability_and_reasons(monkeypatch):
    out = run("models", env={"OPENAI_API_KEY": ""})
    assert out.returncode == 0
    line = next(x for x in out.stdout.splitlines() if x.startswith("gpt-4o-mini"))
    assert "no (set OPENAI_API_KEY" in line
    assert "yes (embedded)" in next(
        x for x in out.stdout.splitlines() if x.startswith("smollm2-135m-instruct ")
    )


@pytest.mark.integration
def test_api_key_never_lands_in_any_artefact(tmp_path, datasets_copy):
    """A canary key is used for real calls (the server even echoes it back) yet appears nowhere."""
    with FakeOpenAIServer(default="leak") as server:
        add_catalog_entry(
            datasets_copy,
            **fake_model_entry("leaky", server.base_url, api_key_env="WB_CANARY_API_KEY"),
        )
        out = run(
            "run",
            "01_model_discovery",
            "-p",
            "models",
            "[leaky]",
            "-p",
            "tasks",
            "[sentiment, qa]",
            "-p",
            "n_cases",
            "2",
            env={"WB_CANARY_API_KEY": CANARY},
        )
        assert out.returncode == 0, out.stderr
        assert server.headers and all(
            h["authorization"] == f"Bearer {CANARY}" for h in server.headers
        )
    assert CANARY not in out.stdout + out.stderr
    files = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "report.html", "notebook.ipynb", "index.html"}
    for p in files:
        assert CANARY not in p.read_text(errors="replace"), p
    assert (
        "auth=Bearer ***"
        in (Path(out.stdout.strip().splitlines()[-1]) / "notebook.ipynb").read_text()
    )


@pytest.mark.notebook
def test_model_discovery_runs_headless_with_tiny_parameters(tmp_path):
    out = run(*TINY_DISCOVERY)
    assert out.returncode == 0, out.stderr
    folder = Path(out.stdout.strip().splitlines()[-1])
    assert folder.parent == tmp_path / "reports" / "01_model_discovery"
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "succeeded"
    assert record["usage"]["calls"] == 4 and record["cache"]["misses"] == 4
    assert record["models"]["smollm2-135m-instruct"]["weights_sha256"]
    assert "datasets/tasks/sentiment.jsonl" in record["datasets"]
    assert record["metrics"]["recommended_model"] == "smollm2-135m-instruct"
    html = (folder / "report.html").read_text()
    assert "Recommended" in html and "data:image/png" in html
    # the same run again is served from the cache
    again = run(*TINY_DISCOVERY)
    record2 = json.loads((Path(again.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert (record2["cache"]["hits"], record2["cache"]["misses"]) == (4, 0)
    assert record2["cache"]["embedding_misses"] == 0 and record2["cache"]["embedding_hits"] > 0


@pytest.mark.notebook
def test_prompt_iteration_runs_records_versions_and_compares_with_an_earlier_run(tmp_path):
    tiny = [
        "run",
        "02_prompt_iteration",
        "-p",
        "n_cases",
        "3",
        "-p",
        "variants",
        "[qa-zero-shot, qa-reworded]",
    ]
    first = run(*tiny)
    assert first.returncode == 0, first.stderr
    folder = Path(first.stdout.strip().splitlines()[-1])
    record = json.loads((folder / "run.json").read_text())
    assert set(record["prompts"]) == {"qa-zero-shot", "qa-reworded"}
    assert record["judges"]["rubric:smollm2-135m-instruct"]["parse_failures"] == 0
    assert (folder / "results.jsonl").exists()
    second = run(*tiny, "-p", "compare_run", folder.name)
    assert second.returncode == 0, second.stderr
    record2 = json.loads((Path(second.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert (
        record2["metrics"]["regressions"] == 0
        and record2["metrics"]["compared_with_run"] == folder.name
    )
    assert record2["cache"]["misses"] == 0
    listing = run("prompts")
    line = next(x for x in listing.stdout.splitlines() if x.startswith("qa-reworded"))
    assert record["prompts"]["qa-reworded"] in line and folder.name in line


@pytest.mark.notebook
def test_synthetic_set_is_reproducible_and_loads_as_a_task_in_model_discovery(
    tmp_path, datasets_copy
):
    first = run("run", "03_synthetic_data")
    assert first.returncode == 0, first.stderr
    second = run("run", "03_synthetic_data")
    folders = [Path(x.stdout.strip().splitlines()[-1]) / "synthetic" for x in (first, second)]
    files = [sorted(f.glob("*.jsonl")) for f in folders]
    assert len(files[0]) == 1 and files[0][0].name == files[1][0].name
    assert files[0][0].read_bytes() == files[1][0].read_bytes()
    record = json.loads((folders[0].parent / "run.json").read_text())
    assert record["metrics"]["funnel/accepted"] >= 1
    assert f"<run>/synthetic/{files[0][0].name}" in record["datasets"]
    promoted = run("data", "promote", str(folders[0].parent), "synthetic_reviews")
    assert promoted.returncode == 0, promoted.stderr
    with FakeOpenAIServer() as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("fake", server.base_url))
        out = run(
            "run",
            "01_model_discovery",
            "-p",
            "models",
            "[fake]",
            "-p",
            "tasks",
            "[synthetic_reviews]",
            "-p",
            "n_cases",
            "3",
        )
    assert out.returncode == 0, out.stderr
    used = json.loads((Path(out.stdout.strip().splitlines()[-1]) / "run.json").read_text())[
        "datasets"
    ]
    assert any(
        name.startswith("datasets/tasks/synthetic_reviews-") or "synthetic_reviews-" in name
        for name in used
    )


@pytest.mark.integration
def test_malformed_seed_file_fails_the_synthetic_run_naming_file_and_line(datasets_copy):
    (datasets_copy / "tasks" / "broken_seeds.jsonl").write_text(
        '{"id": "1", "input": "a", "reference": "b"}\n{oops\n'
    )
    out = run("run", "03_synthetic_data", "-p", "source", "tasks/broken_seeds.jsonl")
    assert out.returncode == 1 and "broken_seeds.jsonl:2: not valid JSON" in out.stderr


FUZZ_TINY = (
    "-p",
    "categories",
    "[system_prompt_leak]",
    "-p",
    "n_per_category",
    "2",
    "-p",
    "mutators",
    "[base64]",
    "-p",
    "guards",
    "[none, output]",
    "-p",
    "paraphrase_model",
    "''",
    "-p",
    "max_false_positive",
    "1.0",
)  # the double leaks on benign requests too


@pytest.mark.notebook
def test_fuzzing_run_gates_and_replays_a_finding(datasets_copy):
    with FakeOpenAIServer(default="sysecho:plain") as srv:
        add_catalog_entry(datasets_copy, **fake_model_entry("leaky", srv.base_url))
        out = run("run", "05_adversarial_fuzzing", "-p", "target_model", "leaky", *FUZZ_TINY)
        assert out.returncode == 0, out.stderr
        folder = Path(out.stdout.strip().splitlines()[-1])
        record = json.loads((folder / "run.json").read_text())
        assert record["metrics"]["asr_none"] == 1.0 and record["metrics"]["asr_output"] == 0.0
        assert record["guards"]["blocked_output"] >= 4 and any(
            k.endswith("adversarial/attacks.jsonl") for k in record["datasets"]
        )
        attack_id = json.loads((folder / "fuzz_results.jsonl").read_text().splitlines()[0])[
            "attack_id"
        ]
        html = (folder / "report.html").read_text()
        assert (
            f"workbench fuzz replay {folder}" in html
            or f"fuzz replay reports/05_adversarial_fuzzing/{folder.name}" in html
        )

        replay = run("fuzz", "replay", str(folder), attack_id, "--guards", "none", "--fresh")
        assert replay.returncode == 0, replay.stdout + replay.stderr
        assert "reproduced exactly" in replay.stdout and "success: True" in replay.stdout

        # a tampered record is reported as not reproduced, with what differs
        lines = (folder / "fuzz_results.jsonl").read_text().splitlines()
        row = json.loads(lines[0])
        row["output"] = "something else"
        (folder / "fuzz_results.jsonl").write_text("\n".join([json.dumps(row), *lines[1:]]) + "\n")
        tampered = run("fuzz", "replay", str(folder), attack_id, "--guards", "none")
        assert tampered.returncode == 1 and "NOT reproduced: output" in tampered.stdout

        # the gate fails the run (non-zero exit) when attacks succeed too often
        gated = run(
            "run",
            "05_adversarial_fuzzing",
            "-p",
            "target_model",
            "leaky",
            *FUZZ_TINY,
            "-p",
            "max_attack_success",
            "0.5",
        )
        assert (
            gated.returncode == 1
            and "gate failed: guards none: attack-success rate 1.000" in gated.stderr
        )


BUDGET_PARAMS = "max_error_rate: float = 0.0  # share of model calls that may fail (0 = none)\nn: int = 4  # calls"
BUDGET_CELLS = (
    "import workbench as wb\nwb.start_run(max_error_rate)",
    "reqs = [wb.Request.from_prompt(f'q{i}', max_tokens=4, metadata={'case_id': f'c{i}'}) for i in range(n)]\n"
    "out = wb.generate_many('fake', reqs, concurrency=1, progress=False)",
    "from IPython.display import Markdown\nMarkdown(wb.run_health())",
)


@pytest.mark.integration
def test_failed_calls_past_the_error_budget_fail_the_run_and_are_listed(tmp_path, datasets_copy):
    nb = write_notebook(tmp_path / "nbs" / "calls.ipynb", BUDGET_PARAMS, *BUDGET_CELLS)
    with FakeOpenAIServer(script=["400", "400"]) as server:
        add_catalog_entry(datasets_copy, **fake_model_entry("fake", server.base_url))
        out = run("run", str(nb))
        assert out.returncode == 1
        assert (
            "run failed: 2 of 4 model calls failed (error rate 50.0% > max_error_rate 0.0%)"
            in out.stderr
        )
        assert "[c0] fake: HTTP 400" in out.stderr and "[c1] fake: HTTP 400" in out.stderr
        record = json.loads((Path(out.stdout.strip().splitlines()[-1]) / "run.json").read_text())
        assert record["status"] == "failed" and record["error"]["type"] == "ErrorBudgetExceeded"
        assert [f["case_id"] for f in record["failures"]] == ["c0", "c1"]
        index = (tmp_path / "reports" / "index.html").read_text()
        assert "2 of 4 model calls failed" in index and "2 of 4</td>" in index

        server.script = ["400"]
        out = run("run", str(nb), "-p", "max_error_rate", "0.3", "-p", "n", "5")
        assert out.returncode == 0, out.stderr  # 1 of 5 = 20 %, within the budget of 30 %
        folder = Path(out.stdout.strip().splitlines()[-1])
        report = (folder / "report.html").read_text()
        assert "1 of 5 model calls failed" in report  # in the report's first lines
        assert report.index("1 of 5 model calls failed") < report.index("<h1")


@pytest.mark.integration
def test_terminal_shows_progress_and_no_false_or_alarming_warnings(tmp_path):
    nb = write_notebook(
        tmp_path / "nbs" / "quiet.ipynb",
        "n_cases: int = 5  # cases sampled per task (0 = every case)",
        "print(n_cases)",
    )
    out = run("run", str(nb), "-p", "n_cases", "3")
    assert out.returncode == 0, out.stderr
    for noise in ("Unable to parse", "Passed unknown parameter", "WARNING", "without encryption"):
        assert noise not in out.stderr, out.stderr
    assert "quiet: cell 1/" in out.stderr  # a progress line per notebook
    executed = (Path(out.stdout.strip().splitlines()[-1]) / "notebook.ipynb").read_text()
    assert '"3\\n"' in executed  # the value was applied
    quiet = run("run", str(nb), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.integration
def test_run_json_is_readable_like_the_rest_of_the_run(tmp_path):
    nb = write_notebook(tmp_path / "nbs" / "mode.ipynb", "x: int = 1  # x", "print(x)")
    out = run("run", str(nb), "-q")
    folder = Path(out.stdout.strip().splitlines()[-1])
    assert (folder / "run.json").stat().st_mode & 0o777 == 0o644
    assert (folder / "report.html").stat().st_mode & 0o044 == 0o044


@pytest.mark.integration
def test_make_lab_passes_allow_root_only_as_root():
    root = Path(__file__).resolve().parents[1]
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "lab"], cwd=root, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert ("--allow-root" in dry.stdout) == (os.geteuid() == 0)


@pytest.mark.notebook
def test_model_discovery_under_cpu_load_keeps_every_answer(tmp_path):
    """Two busy loops take both cores; local generation slows down but loses nothing."""
    burn = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        out = run(
            *TINY_DISCOVERY,
            "-p",
            "tasks",
            "[summarisation, translation]",
            "-p",
            "n_cases",
            "3",
            env={"WORKBENCH_CACHE_DIR": str(tmp_path / "cold-cache")},
        )
    finally:
        for p in burn:
            p.kill()
    assert out.returncode == 0, out.stderr
    record = json.loads((Path(out.stdout.strip().splitlines()[-1]) / "run.json").read_text())
    assert record["status"] == "succeeded" and record["usage"]["errors"] == 0
    assert record["usage"]["calls"] == 6 and record["cache"]["misses"] == 6
