"""Matplotlib figures for notebooks (embedded as PNG in reports)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator


def _annotated(
    ax, values, labels=None, cmap: str = "viridis", dark_below: float = 0.6, missing: str = ""
):
    """A 0-1 heatmap with each cell's value (or `labels`) written in it; `missing` in NaN cells."""
    im = ax.imshow(values, vmin=0, vmax=1, cmap=cmap, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            if v == v:
                dark = v < dark_below if cmap == "viridis" else v > 1 - dark_below
                ax.text(
                    j,
                    i,
                    labels[i][j] if labels else f"{v:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
            elif missing:
                ax.text(j, i, missing, ha="center", va="center", fontsize=7, color="#57606a")
    return im


def quality_vs(summary: pd.DataFrame, x: str, xlabel: str, front_col: str, ax=None):
    """Scatter of quality (with 95 % interval bars) against `x`, Pareto-front models circled."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    data = summary.dropna(subset=["quality", x])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean quality (0-1), 95 % CI")
    if data.empty:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.text(
            0.5,
            0.5,
            f"nothing to plot: no model has both a quality and a {xlabel}",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
            color="#57606a",
            wrap=True,
        )
        return ax
    yerr = [data["quality"] - data["ci_low"], data["ci_high"] - data["quality"]]
    # Unclipped: a point at x = 0 (a free local model) sits on the axis, drawn whole.
    ax.errorbar(
        data[x],
        data["quality"],
        yerr=yerr,
        fmt="o",
        capsize=4,
        color="#1f77b4",
        ecolor="#9ecae1",
        clip_on=False,
    )
    for _, r in data.iterrows():
        ax.annotate(
            r["model"], (r[x], r["quality"]), textcoords="offset points", xytext=(6, 6), fontsize=8
        )
    front = data[data[front_col]].sort_values(x)
    if len(front):
        ax.scatter(
            front[x],
            front["quality"],
            s=160,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=1.5,
            label="on the Pareto front",
            zorder=3,
            clip_on=False,
        )
        if len(front) > 1:
            ax.step(front[x], front["quality"], where="post", color="#d62728", lw=1)
        ax.legend(loc="best", fontsize=8)
    if len(data) and (data[x] >= 0).all():
        # Latency and cost cannot be negative: the axis starts at 0 (a 1-wide axis when all are 0).
        top = float(data[x].max())
        ax.set_xlim(0, top * 1.2 if top > 0 else 1)
    if len(data) > 1 and data[x].nunique() == 1:
        ax.text(
            0.02,
            0.98,
            f"all candidates have the same {xlabel}",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color="#57606a",
        )
    missing = summary[summary["quality"].notna() & summary[x].isna()]
    if len(missing):
        ax.text(
            0.02,
            0.90,
            "not plotted (not measured): " + ", ".join(missing["model"]),
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color="#57606a",
        )
    ax.grid(alpha=0.3)
    return ax


def task_heatmap(board: pd.DataFrame, ax=None):
    """Model x task quality matrix."""
    pivot = board.pivot(index="model", columns="task", values="quality")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(pivot.columns) + 2, 0.6 * len(pivot) + 1.5))
    im = _annotated(ax, pivot.to_numpy(dtype=float), missing="no score")
    ax.set_xticks(range(len(pivot.columns)), pivot.columns, rotation=30, ha="right")
    ax.set_yticks(range(len(pivot.index)), pivot.index)
    ax.figure.colorbar(im, ax=ax, label="quality")
    return ax


def paired_differences(comparison: pd.DataFrame, metric: str, ax=None):
    """Forest plot: each variant's mean paired difference from the baseline with its 95 % interval."""
    data = comparison[comparison["metric"] == metric].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.6 * len(data) + 1.5))
    colours = {"better": "#067647", "worse": "#b42318"}
    for i, r in data.iterrows():
        c = colours.get(r["verdict"], "#57606a")
        ax.errorbar(
            r["diff"],
            i,
            xerr=[[r["diff"] - r["diff_ci_low"]], [r["diff_ci_high"] - r["diff"]]],
            fmt="o",
            color=c,
            capsize=4,
        )
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.set_yticks(
        range(len(data)),
        [f"{v} ({m})" for v, m in zip(data["variant"], data["model"], strict=True)],
    )
    ax.set_xlabel(f"{metric}: variant minus baseline (95 % CI)")
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return ax


def retrieval_heatmaps(summary: pd.DataFrame, metric: str, axes=None):
    """Per retriever: chunk size x k -> mean `metric` (averaged over chunkers, overlaps and weights)."""
    retrievers = list(dict.fromkeys(summary["retriever"]))
    if axes is None:
        _, axes = plt.subplots(
            1, len(retrievers), figsize=(4.2 * len(retrievers), 3.2), squeeze=False
        )
        axes = axes[0]
    for ax, retriever in zip(axes, retrievers, strict=False):
        pivot = summary[summary["retriever"] == retriever].pivot_table(
            index="size", columns="k", values=metric
        )
        im = _annotated(ax, pivot.to_numpy(dtype=float), missing="no score")
        ax.set_xticks(range(len(pivot.columns)), [f"k={k}" for k in pivot.columns])
        ax.set_yticks(range(len(pivot.index)), [f"{s} tok" for s in pivot.index])
        ax.set_title(f"{retriever}: {metric}")
    axes[0].figure.colorbar(im, ax=list(axes), shrink=0.8)
    return axes


def asr_heatmaps(summary: pd.DataFrame, settings: list[str] | None = None, axes=None):
    """Per guard setting: category x mutator attack-success rate, each cell 'rate (k/n)'."""
    settings = settings or list(dict.fromkeys(summary["guards"]))
    cats = list(dict.fromkeys(summary["category"]))
    muts = list(dict.fromkeys(summary["mutator"]))
    if axes is None:
        cols = min(2, len(settings))
        rows = -(-len(settings) // cols)
        fig, grid = plt.subplots(
            rows,
            cols,
            figsize=(0.85 * len(muts) * cols + 4, (0.5 * len(cats) + 1.6) * rows),
            squeeze=False,
            constrained_layout=True,
        )
        axes = list(grid.flat)
        for ax in axes[len(settings) :]:
            ax.set_visible(False)
    for ax, setting in zip(axes, settings, strict=False):
        part = summary[summary["guards"] == setting].set_index(["category", "mutator"])
        values = np.full((len(cats), len(muts)), np.nan)
        labels = [["" for _ in muts] for _ in cats]
        for i, c in enumerate(cats):
            for j, m in enumerate(muts):
                if (c, m) in part.index and part.loc[(c, m), "attempts"]:
                    r = part.loc[(c, m)]
                    values[i, j] = r["asr"]
                    labels[i][j] = f"{r['asr']:.2f}\n{r['successes']}/{r['attempts']}"
        im = _annotated(ax, values, labels, cmap="Reds")
        ax.set_xticks(range(len(muts)), muts, rotation=40, ha="right")
        ax.set_yticks(range(len(cats)), cats)
        ax.set_title(f"guards: {setting}")
    axes[0].figure.colorbar(
        im, ax=list(axes[: len(settings)]), shrink=0.6, label="attack-success rate"
    )
    return axes


def rate_bars(table: pd.DataFrame, label: str, rate: str, xlabel: str, ax=None):
    """Horizontal bars of a rate per row with its 95 % interval (e.g. success per guard setting)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 * len(table) + 1.2))
    y = range(len(table))
    ax.barh(y, table[rate], color="#d62728", alpha=0.7)
    ax.errorbar(
        table[rate],
        y,
        xerr=[table[rate] - table["ci_low"], table["ci_high"] - table[rate]],
        fmt="none",
        ecolor="black",
        capsize=4,
    )
    ax.set_yticks(y, table[label])
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return ax


def loss_curves(history: list[dict], title: str = "", ax=None):
    """Train loss per step and eval loss at each evaluation, on one axis."""
    data = pd.DataFrame(history)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    for column, style, label in (
        ("train_loss", "-", "train loss"),
        ("eval_loss", "o-", "eval loss"),
    ):
        if column in data:
            points = data[["step", column]].dropna()
            ax.plot(points["step"], points[column], style, label=label, ms=4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("loss (mean token cross-entropy)")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def window_rates(table: pd.DataFrame, rates: list[str], ax=None):
    """Rates per window with their 95 % intervals (columns `<rate>_low` / `<rate>_high`)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4))
    x = np.arange(len(table))
    for r in rates:
        low, high = table[f"{r}_low"].astype(float), table[f"{r}_high"].astype(float)
        ax.errorbar(
            x, table[r], yerr=[table[r] - low, high - table[r]], marker="o", capsize=3, label=r
        )
    ax.set_xticks(x, [str(w)[:10] for w in table["window"]])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of requests (95 % CI)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def window_series(frame: pd.DataFrame, alpha: float = 0.01):
    """The drift of each window at a glance: mean tokens per request and the uncovered share
    (95 % intervals), the domain classifier's AUC (0.5 = indistinguishable) and the MMD
    test's adjusted p-value against the drift threshold. `frame`: `runner.windows_frame`."""
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    x = np.arange(len(frame))
    labels = [str(w)[5:10] for w in frame.index]

    def bars(ax, mid, low, high, title):
        mid, low, high = (pd.to_numeric(frame[c], errors="coerce") for c in (mid, low, high))
        ax.errorbar(x, mid, yerr=[mid - low, high - mid], marker="o", capsize=3)
        ax.set_title(title, fontsize=9)

    bars(axes[0], "tokens_mean", "tokens_mean_low", "tokens_mean_high", "tokens per request")
    bars(axes[1], "uncovered_share", "uncovered_low", "uncovered_high", "share not covered")
    axes[1].set_ylim(0, 1)
    axes[2].plot(x, pd.to_numeric(frame["classifier_auc"], errors="coerce"), marker="o")
    axes[2].axhline(0.5, color="grey", lw=0.8, ls="--")
    axes[2].set_ylim(0, 1.02)
    axes[2].set_title("domain classifier AUC", fontsize=9)
    p = pd.to_numeric(frame["mmd_p"], errors="coerce").clip(lower=1e-4)
    axes[3].semilogy(x, p, marker="o")
    axes[3].axhline(alpha, color="tab:red", lw=0.8, ls="--", label=f"drift below {alpha}")
    axes[3].set_title("MMD p (adjusted)", fontsize=9)
    axes[3].legend(fontsize=7)
    for ax in axes:
        ax.set_xticks(x, labels, fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def sweep_metric(rows: list[dict], swept: list[str], metric: str):
    """The main metric of a sweep's measured runs against its first swept parameter; one line
    per combination of the other swept parameters."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x_name, others = swept[0], swept[1:]
    measured = [r for r in rows if isinstance(r["metrics"].get(metric), int | float)]
    xs = [r["swept"][x_name] for r in rows]
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    labels = list(dict.fromkeys(str(x) for x in xs))
    series: dict[str, list[tuple[float, float]]] = {}
    for r in measured:
        name = ", ".join(f"{k}={r['swept'][k]}" for k in others) or metric
        x = r["swept"][x_name] if numeric else labels.index(str(r["swept"][x_name]))
        series.setdefault(name, []).append((x, r["metrics"][metric]))
    for name, points in series.items():
        points.sort()
        ax.plot(*zip(*points, strict=True), marker="o", label=name)
    if not numeric:
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    elif all(isinstance(x, int) for x in xs):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x_name)
    ax.set_ylabel(metric)
    if others and series:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def png_data_uri(fig) -> str:
    """A figure as a `data:` URI (a self-contained page embeds it; nothing loads from the net)."""
    import base64
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def loadtest_curve(levels: list[dict], knee_level: str | None):
    """Throughput against latency (median and p99 end-to-end, median TTFT), one point per
    level; the knee circled."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for mode, marker in (("closed", "o"), ("open", "s")):
        rows = [lv for lv in levels if lv["mode"] == mode and lv["median_e2el_ms"] is not None]
        if not rows:
            continue
        x = [lv["request_throughput"] for lv in rows]
        kind = "concurrency" if mode == "closed" else "Poisson rate"
        for key, label in (
            ("median_e2el_ms", "median E2EL"),
            ("p99_e2el_ms", "p99 E2EL"),
            ("median_ttft_ms", "median TTFT"),
        ):
            ax.plot(x, [lv[key] for lv in rows], marker=marker, label=f"{label} ({kind})")
        for lv in rows:
            ax.annotate(
                lv["level"].split("=", 1)[1], (lv["request_throughput"], lv["median_e2el_ms"]),
                textcoords="offset points", xytext=(4, 4), fontsize=7,
            )  # fmt: skip # one call per line reads better than ruff's 8-line split here
    for lv in levels:
        if lv["level"] == knee_level:
            ax.scatter(
                [lv["request_throughput"]], [lv["median_e2el_ms"]], s=260,
                facecolors="none", edgecolors="#b42318", linewidths=2, zorder=5,
                label=f"knee ({lv['level']})",
            )  # fmt: skip # same: a marker's style on two lines
    ax.set_xlabel("completed requests per second")
    ax.set_ylabel("latency (ms)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no request completed", ha="center", transform=ax.transAxes)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
