"""Publishing a list: its exports written into the period's folder and the archive updated,
all or nothing. The weekly job (:mod:`rtm.weekly_job`) calls :func:`publish` after making
the list."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .archive import Archive
from .errors import output_folder
from .periods import Period


def stem_of(period: Period) -> str:
    """File-name stem of a period's exports, e.g. ``harmspots_week_2019-01-07``."""
    return f"harmspots_{period.kind}_{period.key}"


def publish(lst, out_dir, *, archive: Archive | None, districts=None, marking: str | None = None) -> dict[str, Path]:
    """Write every export of ``lst`` into ``out_dir/<period key>/`` and store it in the archive.

    All or nothing: the exports are written to a temporary folder first; the archive is
    updated in one transaction; only then does the folder replace the period's old one.
    A failure at any step leaves the previous exports and the archive as they were.
    ``marking`` is the briefing's protective marking (default ``OFFICIAL``).

    Returns
    -------
    dict of str to Path
        The files written (see :func:`rtm.exports.write_exports`).
    """
    from .exports import DEFAULT_MARKING, write_exports

    out = output_folder(out_dir)
    final = out / lst.period.key
    tmp = Path(tempfile.mkdtemp(prefix=f".{lst.period.key}-", dir=out))
    try:
        paths = write_exports(lst.spots, lst.provenance, tmp, stem=stem_of(lst.period), grid=lst.grid,
                              surfaces=lst.surfaces(), districts=districts, places=getattr(lst, "places", None),
                              streets=getattr(lst, "street_lines", None),
                              marking=marking or DEFAULT_MARKING)
        if archive is not None:
            archive.store(lst)
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {k: final / Path(p).name for k, p in paths.items()}
