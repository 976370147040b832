"""The `workbench` command: run notebooks, rebuild the report index, list and serve models."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any

from . import cli_scale, config, data, models, prompts, reports, runs, serving
from .data import read_yaml_mapping
from .errors import WorkbenchError


def _fail(message: str, code: int = 2) -> int:
    print(f"workbench: error: {config.redact(message)}", file=sys.stderr)
    return code


def cmd_run(args: argparse.Namespace) -> int:
    path = reports.resolve_notebook(args.notebook)
    declared = reports.notebook_parameters(path)
    params: dict[str, Any] = {}
    for f in args.file or []:
        params.update(read_yaml_mapping(f, "parameter file"))
    for name, raw in args.param or []:
        default = declared[name]["default"] if name in declared else None
        params[name] = reports.parse_cli_value(raw, default)
    result = reports.run_notebook(
        path, params, show_progress=not args.quiet, rebuild=not args.no_index
    )
    _say_failure(result)
    print(result.path)
    return 0 if result.ok else 1


def _say_failure(result: Any, indent: str = "") -> None:
    """A failed run's cause in one line on stderr, then its first failed calls."""
    if result.ok:
        return
    print(f"{indent}workbench: run failed: {reports.one_line(result.error)}", file=sys.stderr)
    record = runs.read_record(result.path)
    failures = record.get("failures") or []
    for f in failures[:10]:  # the error names the model; the labels say which case
        where = " ".join(str(v) for k, v in f.items() if k not in ("model", "error"))
        print(f"{indent}  [{where}] {f['error']}", file=sys.stderr)
    more = record.get("usage", {}).get("errors", 0) - min(len(failures), 10)
    if more > 0:
        print(
            f"{indent}  ... {more} more failed call(s) in {result.path / runs.RECORD}",
            file=sys.stderr,
        )


def cmd_run_all(args: argparse.Namespace) -> int:
    notebooks = sorted(config.notebooks_dir().glob("*.ipynb"))
    if not notebooks:
        return _fail(f"no notebooks in {config.notebooks_dir()}")
    failed = 0
    for n, nb in enumerate(notebooks, 1):
        print(f"[{n}/{len(notebooks)}] {nb.stem}", flush=True)
        result = reports.run_notebook(nb, rebuild=False, show_progress=not args.quiet)
        print(f"  {result.status}: {result.path}", flush=True)
        if not result.ok:
            failed += 1
            _say_failure(result, indent="  ")
    index = reports.build_index()
    if failed:
        print(f"{failed} of {len(notebooks)} notebook(s) failed", file=sys.stderr)
    print(index)
    return 1 if failed else 0


def cmd_reports(args: argparse.Namespace) -> int:
    runs.remove_partial()
    print(reports.build_index())
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    rows = models.catalog_rows()
    header = [
        "id",
        "provider",
        "kind",
        "licence",
        "params",
        "context",
        "$/1M in",
        "$/1M out",
        "available",
    ]
    table = [
        [
            r["id"],
            r["provider"],
            r["kind"],
            r["licence"],
            r["size"],
            str(r["context_window"] or "?"),
            f"{r['price_in_per_1m']:g}",
            f"{r['price_out_per_1m']:g}",
            ("yes" if r["available"] else "no") + f" ({r['why']})",
        ]
        for r in rows
    ]
    _print_table([header, *table])
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    usage = prompts.template_usage()
    rows = [["template", "version", "few-shot", "runs with this version", "other versions used"]]
    for name in prompts.list_templates():
        t = prompts.load_template(name, track=False)
        fs = t.few_shot
        few_shot = f"{fs.k} {fs.selection}" if fs and fs.k else "none"
        rows.append([t.name, t.version, few_shot, *_usage(usage.get(t.name, {}), t.version)])
    variants = sorted(set(usage) - set(prompts.list_templates()))
    _print_table(rows)
    if variants:
        print("\nvariants with overrides seen in runs: " + ", ".join(variants))
    return 0


def cmd_chains(args: argparse.Namespace) -> int:
    from .chains import spec

    usage = spec.chain_usage()
    rows = [["chain", "version", "steps", "runs with this version", "other versions used"]]
    for name in spec.list_chains():
        chain = spec.load_chain(name)
        steps = " > ".join(s.type for s in chain.spec.steps)
        runs = usage.get(chain.spec.name, {})
        rows.append([chain.spec.name, chain.version, steps, *_usage(runs, chain.version)])
    _print_table(rows)
    return 0


def _usage(runs: dict[str, list[str]], version: str) -> list[str]:
    """The cells 'runs with this version' and 'other versions used' of a versioned thing."""
    current = runs.get(version, [])
    older = [f"{v} ({len(ids)} run(s))" for v, ids in runs.items() if v != version]
    shown = ", ".join(current[:3]) + (f" +{len(current) - 3}" if len(current) > 3 else "")
    return [shown or "-", "; ".join(older) or "-"]


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(*rows, strict=False)]
    for line in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=False)).rstrip())


def cmd_data(args: argparse.Namespace) -> int:
    for path in data.promote(args.run_dir, args.name, force=args.force, labels=args.labels):
        print(path)
    return 0


def cmd_fuzz(args: argparse.Namespace) -> int:
    # Loaded here, not at the top: fuzzing needs pandas, which no other command's start pays.
    from .fuzz import replay_run

    if args.fresh:  # an empty response cache: every model call (paraphrase included) runs again
        os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="workbench-replay-")
    out = replay_run(args.run_dir, args.attack_id, args.guards)
    print(f"attack {out['attack_id']} (chain {out['chain']}, guards {out['guards']})")
    print("attack text:", json.dumps(out["attack"], ensure_ascii=False))
    print("output:", json.dumps(out["output"], ensure_ascii=False))
    print(
        f"success: {out['success']} ({out['reason'] or 'no detector fired'}); recorded: {out['recorded_success']}"
    )
    differ = [k for k in ("text", "output", "success") if not out[f"{k}_matches"]]
    print(f"NOT reproduced: {', '.join(differ)}" if differ else "reproduced exactly")
    return 1 if differ else 0


def cmd_serve(args: argparse.Namespace) -> int:
    cmd, cwd, env = serving.command(args.model, args.port, args.device, args.log_level)
    print(
        f"serving {args.model} at http://127.0.0.1:{args.port}/v1 (model name: {args.model!r}); "
        "Ctrl-C stops it",
        flush=True,
    )
    os.chdir(cwd)
    os.execve(cmd[0], cmd, env)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute a notebook and write its versioned run folder")
    run.add_argument("notebook", help="path or stem of a notebook in notebooks/")
    run.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="override a parameter (lists in YAML syntax: -p models '[a, b]')",
    )
    run.add_argument(
        "-f", "--file", action="append", metavar="PARAMS.yaml", help="parameters from YAML"
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    run.add_argument(
        "--no-index", action="store_true", help="leave reports/index.html (a sweep rebuilds it)"
    )
    run.set_defaults(func=cmd_run)

    cli_scale.add_parsers(sub)

    run_all = sub.add_parser(
        "run-all", help="run every notebook with its defaults, rebuild the index"
    )
    run_all.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    run_all.set_defaults(func=cmd_run_all)

    rep = sub.add_parser("reports", help="rebuild reports/index.html")
    rep.set_defaults(func=cmd_reports)

    mod = sub.add_parser("models", help="list the model catalog with availability")
    mod.set_defaults(func=cmd_models)

    prm = sub.add_parser(
        "prompts", help="list prompt templates, their versions and the runs that used them"
    )
    prm.set_defaults(func=cmd_prompts)
    chn = sub.add_parser(
        "chains", help="list chain definitions, their versions and the runs that used them"
    )
    chn.set_defaults(func=cmd_chains)

    dat = sub.add_parser("data", help="manage datasets")
    dat_sub = dat.add_subparsers(dest="data_command", required=True)
    promote = dat_sub.add_parser(
        "promote", help="copy a run's reviewed synthetic set into datasets/tasks/"
    )
    promote.add_argument("run_dir", help="a run folder of 03_synthetic_data")
    promote.add_argument("name", help="task name to give the set")
    promote.add_argument(
        "--force", action="store_true", help="replace an existing task of that name"
    )
    promote.add_argument("--labels", default=None, help="review decisions to apply (labels.jsonl)")
    promote.set_defaults(func=cmd_data)

    fz = sub.add_parser("fuzz", help="adversarial fuzzing helpers")
    fz_sub = fz.add_subparsers(dest="fuzz_command", required=True)
    rp = fz_sub.add_parser(
        "replay", help="rebuild one attack of a 05_adversarial_fuzzing run, run it again, compare"
    )
    rp.add_argument("run_dir", help="the run folder")
    rp.add_argument("attack_id", help="e.g. inj-003/base64")
    rp.add_argument("--guards", default="none", help="guard setting: none, input, output, both")
    rp.add_argument(
        "--fresh", action="store_true", help="ignore the response cache: call the models again"
    )
    rp.set_defaults(func=cmd_fuzz)

    serve = sub.add_parser(
        "serve", help="serve a local catalog model over an OpenAI-compatible API"
    )
    serve.add_argument("--model", required=True, help="catalog id of a local model")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--device", default="auto", help="cpu, cuda:0, auto")
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(func=cmd_serve)

    mon = sub.add_parser(
        "monitor",
        help="test windows of production requests for drift against a reference; "
        "exit 3 when an alert fires",
    )
    mon.add_argument("--reference", required=True, help="JSONL of requests (at least 'input')")
    mon.add_argument("--current", required=True, help="JSONL of requests with 'timestamp'")
    mon.add_argument("--window", default="1d", help="window length: 30m, 6h, 1d, 1w")
    mon.add_argument(
        "--config", default=None, help="alert rules (default datasets/monitoring/alerts.yaml)"
    )
    mon.set_defaults(func=cmd_monitor)

    ap = sub.add_parser("app", help="the traced reference application (the HR assistant)")
    ap_sub = ap.add_subparsers(dest="app_command", required=True)
    aps = ap_sub.add_parser("serve", help="serve it on 127.0.0.1 as an OpenAI-compatible API")
    aps.add_argument(
        "--config", default=None, help="application file (default datasets/app/hr_assistant.yaml)"
    )
    aps.add_argument("--port", type=int, default=8100)
    aps.add_argument(
        "--traces", default=None, help="trace store (default .cache/workbench/traces.sqlite)"
    )
    aps.set_defaults(func=cmd_app)
    apr = ap_sub.add_parser("replay", help="send a request log through it, in timestamp order")
    apr.add_argument("log", help="JSONL of requests (input, optional timestamp and feedback)")
    apr.add_argument("--config", default=None, help="application file")
    apr.add_argument("--traces", default=None, help="trace store to fill")
    apr.add_argument("--limit", type=int, default=None, help="replay the first N requests only")
    apr.add_argument(
        "--batch-size", type=int, default=16, help="requests answered together (one trace each)"
    )
    apr.set_defaults(func=cmd_app)
    return parser


def cmd_monitor(args: argparse.Namespace) -> int:
    from . import monitor_page
    from .monitor import runner

    _quiet_libraries()

    folder, record = runner.run(
        args.reference,
        args.current,
        window=args.window,
        rules=args.config,
        render=monitor_page.write,
    )
    reports.build_index()
    reports.finished_run(folder)
    from .monitor.alerts import warning

    for line in [warning(a) for a in record["alerts"]] + record["alert_rules_not_measured"]:
        print(f"workbench: {line}", file=sys.stderr)
    print(
        json.dumps(
            {
                "run_dir": str(folder),
                **record["metrics"],
                "alerts_fired": [a["alert"] for a in record["alerts"]],
            }
        )
    )
    return 3 if record["alerts"] else 0


def _quiet_libraries() -> None:
    """Model loading prints its own progress bars; a command's terminal shows only its own."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def cmd_app(args: argparse.Namespace) -> int:
    from . import app, trace

    _quiet_libraries()

    if args.app_command == "replay":
        from .monitor import traffic

        rows = traffic.read_log(args.log)  # a bad log is an error before the model loads
        store = trace.enable(args.traces)
        try:
            results = app.replay(
                app.Assistant.load(args.config), rows, limit=args.limit, batch_size=args.batch_size
            )
        finally:
            trace.disable()
        failed = sum(1 for r in results if r["error"])
        print(json.dumps({"traces": str(store.path), "replayed": len(results), "failed": failed}))
        return 1 if failed else 0
    store = trace.enable(args.traces)
    assistant = app.Assistant.load(args.config)
    server = app.make_server(assistant, args.port)
    host, port = server.server_address[:2]
    print(
        f"{assistant.spec.name} {assistant.version} on http://{host}:{port}/v1 "
        f"(traces: {store.path})",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
        trace.disable()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:  # the user's to fix: one line; anything else is a bug
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
