"""The bundled sample workspace the app opens when no force workspace is named: ``rtm init
FOLDER --sample southend`` followed by the weekly run for the sample's last few periods, so
that the app's first page only reads published lists and the archive already has history
(movement, weeks on the list, two months to compare).

``python3 run.py app`` calls :func:`ensure_sample_workspace` on ``runs/southend`` before it
starts the server (``python -m rtm.sample_workspace FOLDER``); nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .archive import Archive
from .errors import InputError

DEFAULT_SAMPLE = "southend"
PUBLISHED = 3
"""Periods published when the workspace is made: the one after the data and the two before."""


def ensure_sample_workspace(folder, sample: str = DEFAULT_SAMPLE, periods: int = PUBLISHED,
                            say=lambda text: None) -> Path:
    """Make ``folder`` a workspace on the bundled ``sample`` and publish its last ``periods``
    lists, oldest first, through :func:`rtm.weekly_job.run_weekly` (as ``rtm weekly
    --workspace`` does), unless the workspace's archive already holds a list.

    Parameters
    ----------
    folder : path
        Created when missing; an existing ``workspace.toml`` there is kept as it is.
    sample : str
        A key of :data:`rtm.samples.SAMPLES`.
    periods : int
        How many periods to publish (the period after the data and those before it).
    say : callable
        Called with one line of text per step (progress for a console).

    Returns
    -------
    Path
        The workspace folder.

    Raises
    ------
    InputError
        The sample is missing, or its config or data cannot be used; WorkspaceBusy when
        another process is publishing into it.

    Notes
    -----
    Cost: nothing once published (one SQLite query). The first time: loading the sample
    once per period, one terrain fit (kept in ``folder/models``), and the exports of each
    list (about 10 s for Southend on 2 cores).
    """
    from .workspace import CONFIG, load_workspace, next_period, workspace_lock
    from .workspace_init import init_workspace
    from .weekly_job import run_weekly

    folder = Path(folder).expanduser()
    if not (folder / CONFIG).exists():
        init_workspace(folder, sample=sample)
        say(f"Made the sample workspace {folder} (the bundled {sample} data)")
    ws = load_workspace(folder)
    if len(Archive(ws.archive_path).periods()):
        return folder
    with workspace_lock(folder):
        for back in reversed(range(periods)):
            def period_of(incidents, back=back):
                p = next_period(incidents, ws.period_kind, ws.week_start)
                for _ in range(back):
                    p = p.previous()
                return p

            run = run_weekly(ws.job, period_of)
            say(f"Published the {run.list.period.label}: {len(run.list.spots)} spot(s) in "
                f"{ws.lists_dir / run.list.period.key}")
    return folder


def main(argv: list[str]) -> int:
    """``python -m rtm.sample_workspace FOLDER``: exit 0 when the workspace is ready, 2 with
    the message when it cannot be made."""
    if len(argv) != 1:
        print("usage: python -m rtm.sample_workspace FOLDER", file=sys.stderr)
        return 2
    try:
        ensure_sample_workspace(argv[0], say=lambda text: print(text, flush=True))
    except InputError as exc:
        print(f"The sample workspace could not be made: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
