"""The back-test's plots and files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import output_folder, setting_error
from .results import BacktestResult

def focus_selection(result: BacktestResult, focus: str | None) -> str:
    labels = [s[0] for s in result.settings.selections()]
    if focus is None:
        shares = result.settings.area_shares
        if shares:
            mid = sorted(shares)[len(shares) // 2]
            return f"area {100 * mid:g}%"
        return labels[0]
    if focus not in labels:
        raise setting_error("focus", f"'{focus}' is not one of the list sizes scored", f"choose {', '.join(labels)}")
    return focus


def figures(result: BacktestResult, focus: str | None = None) -> dict:
    """Matplotlib figures of a back-test (the Agg backend; nothing is shown).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        ``capture_curve``: mean harm capture of the pooled lists against the share of the
        area listed, one line per method; ``capture_by_period``: harm capture per period
        at the ``focus`` list size (default the middle area share); ``pei_by_period``: PEI
        on harm per period at that size.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    focus = focus_selection(result, focus)
    out = {}
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    cur = result.curves
    if len(cur):
        mean = cur.groupby(["method", "area_share"], sort=False)["harm_capture"].mean().reset_index()
        for m in result.settings.methods:
            d = mean[mean["method"] == m]
            if len(d):
                ax.plot(100 * np.r_[0, d["area_share"]], 100 * np.r_[0, d["harm_capture"]], label=m,
                        linestyle="--" if m in ("random", "oracle") else "-")
    ax.set_xlabel("share of the area listed (%)")
    ax.set_ylabel("harm captured (%), mean over periods")
    ax.set_title(f"Harm capture against area ({len(result.periods)} periods, all districts)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    out["capture_curve"] = fig
    for metric, name, what in (("harm_capture", "capture_by_period", "harm captured (%)"),
                               ("pei_harm", "pei_by_period", "PEI on harm (%)")):
        fig = Figure(figsize=(9, 4.5))
        ax = fig.add_subplot()
        m_ = result.metrics
        d = m_[(m_["district"] == "all") & (m_["selection"] == focus) & (m_["metric"] == metric)]
        for m in result.settings.methods:
            dm = d[d["method"] == m]
            if len(dm):
                ax.plot(pd.to_datetime(dm["period"]), 100 * dm["value"], label=m, marker=".",
                        linestyle="--" if m in ("random", "oracle") else "-")
        ax.set_ylabel(what)
        ax.set_title(f"{what} per period, {focus} of each district, all districts")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncol=4)
        fig.autofmt_xdate()
        out[name] = fig
    return out


def write_outputs(result: BacktestResult, out_dir) -> dict:
    """See :meth:`BacktestResult.write`. Values are written with 6 significant digits."""
    out = output_folder(out_dir)
    paths = {"backtest": out / "backtest.csv", "summary": out / "summary.csv", "curves": out / "curves.csv",
             "notes": out / "notes.txt"}
    result.metrics.to_csv(paths["backtest"], index=False, float_format="%.6g")
    result.summary().to_csv(paths["summary"], index=False, float_format="%.6g")
    result.curves.to_csv(paths["curves"], index=False, float_format="%.6g")
    lines = [f"Periods scored: {len(result.periods)}" + (f" ({result.periods[0]} to {result.periods[-1]})"
                                                         if result.periods else "")]
    lines += [f"Note: {n}" for n in result.notes]
    lines += [f"Seconds, {name}: {v:.2f}" for name, v in result.seconds.items()]
    paths["notes"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, fig in result.figures().items():
        paths[name] = out / f"{name}.png"
        fig.savefig(paths[name], dpi=110, bbox_inches="tight")
    return paths
