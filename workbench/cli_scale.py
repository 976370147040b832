"""The scale-out commands: `workbench sweep`, `workbench loadtest`, `workbench export mlflow`."""

from __future__ import annotations

import argparse
import json
import sys

from . import config, reports, runs


def add_parsers(sub) -> None:
    """Add the sweep, loadtest and export commands to the `workbench` parser."""
    sw = sub.add_parser(
        "sweep",
        help="run a notebook over a grid of parameters, locally or on Ray; exit 1 if a run failed",
    )
    sw.add_argument("notebook", help="path or stem of a notebook in notebooks/")
    sw.add_argument("--grid", required=True, metavar="GRID.yaml", help="grid, fixed, metric")
    sw.add_argument("--executor", default="local", help="local (process pool) or ray")
    sw.add_argument("--max-parallel", type=int, default=1, help="runs at once")
    sw.set_defaults(func=cmd_sweep)

    lt = sub.add_parser(
        "loadtest",
        help="load-test a model's HTTP endpoint (closed-loop concurrency, Poisson arrivals); "
        "exit 1 when more requests failed than --max-error-rate allows",
    )
    lt.add_argument("model", help="catalog id of a model with an HTTP endpoint")
    lt.add_argument("--concurrency", default=None, help="closed-loop levels (default 1,2,4,8)")
    lt.add_argument("--rate", default=None, help="open-loop Poisson rates, requests/s (e.g. 1,2)")
    lt.add_argument("--requests", type=int, default=32, help="requests per level")
    lt.add_argument("--max-seconds", type=float, default=60.0, help="time limit per level")
    lt.add_argument("--slo", default=None, help="goodput limits in seconds, e.g. ttft=0.5,e2e=5")
    lt.add_argument("--task", default="customer_service", help="task set the prompts come from")
    lt.add_argument("--max-tokens", type=int, default=32, help="output tokens per request")
    lt.add_argument("--timeout", type=float, default=60.0, help="seconds before a request fails")
    lt.add_argument("--base-url", default=None, help="override the catalog's endpoint URL")
    lt.add_argument(
        "--max-error-rate", type=float, default=0.0, help="share of requests that may fail"
    )
    lt.set_defaults(func=cmd_loadtest)

    ex = sub.add_parser("export", help="export run folders to another tool")
    ex_sub = ex.add_subparsers(dest="export_command", required=True)
    exm = ex_sub.add_parser(
        "mlflow", help="runs into MLflow (one MLflow run each; re-export updates, never duplicates)"
    )
    exm.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run folders under reports/")
    exm.add_argument(
        "--tracking-uri",
        default=None,
        help="sqlite:///path.db or http://host:port (default $MLFLOW_TRACKING_URI, "
        "else sqlite:///reports/mlflow.db)",
    )
    exm.add_argument("--experiment", default=None, help="experiment name (default: the notebook)")
    exm.set_defaults(func=cmd_export)


def cmd_sweep(args: argparse.Namespace) -> int:
    from . import executors, sweep

    executors.check(args.executor)
    executors.check_parallel(args.max_parallel)
    spec = sweep.load(args.notebook, args.grid)  # every point checked before anything runs
    if args.executor == "ray":
        executors.session()  # a cluster that does not answer is an error before any run
    done = len(spec.points)
    print(f"sweep {spec.sweep_id}: {done} point(s) of {spec.notebook.stem}", flush=True)
    try:
        record = sweep.run(
            spec,
            executor=args.executor,
            max_parallel=args.max_parallel,
            echo=lambda line: print(line, flush=True),
        )
    finally:
        executors.shutdown()
    for row in record["runs"]:
        if row["status"] != "succeeded":
            shown = " ".join(f"{k}={json.dumps(v)}" for k, v in row["swept"].items())
            print(f"workbench: run failed: {shown}: {row['cause']}", file=sys.stderr)
    if record["skipped"]:
        print(f"{record['skipped']} point(s) had already succeeded and were not run again")
    print(config.reports_dir() / runs.SWEEPS / record["sweep_id"] / runs.SWEEP_PAGE)
    return 1 if record["failed"] else 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    from . import loadtest

    concurrency = (
        loadtest.parse_levels(args.concurrency, "--concurrency") if args.concurrency else None
    )
    rates = loadtest.parse_levels(args.rate, "--rate", float) if args.rate else None
    folder, record = loadtest.run(
        args.model,
        concurrency=concurrency,
        rates=rates,
        requests=args.requests,
        max_seconds=args.max_seconds,
        slo=loadtest.parse_slo(args.slo),
        task=args.task,
        max_tokens=args.max_tokens,
        timeout=args.timeout,
        base_url=args.base_url,
        max_error_rate=args.max_error_rate,
        echo=lambda line: print(line, file=sys.stderr, flush=True),
    )
    reports.build_index()
    reports.finished_run(folder)
    if record["error"]:
        print(f"workbench: load test failed: {record['error']['message']}", file=sys.stderr)
    print(json.dumps({"run_dir": str(folder), **record["metrics"]}))
    return 0 if record["status"] == "succeeded" else 1


def cmd_export(args: argparse.Namespace) -> int:
    from .exporters import mlflow as mlflow_export

    uri = args.tracking_uri or mlflow_export.default_uri()
    for out in mlflow_export.export(args.run_dirs, uri, args.experiment):
        extra = f", {out['traces']} trace(s)" if out["traces"] else ""
        skipped = {k: v for k, v in out["prompts"].items() if not isinstance(v, int)}
        print(
            f"{out['action']} {out['run_id']} -> MLflow run {out['mlflow_run_id']} "
            f"(experiment {out['experiment_id']}; {len(out['tables'])} table(s), "
            f"{len(out['prompts']) - len(skipped)} prompt(s){extra})"
            + (f" {out['url']}" if out["url"] else "")
        )
        for name, why in skipped.items():
            print(f"workbench: prompt {name} {why}", file=sys.stderr)
    print(f"mlflow ui --backend-store-uri {uri}" if uri.startswith("sqlite:") else uri)
    return 0
