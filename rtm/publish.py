"""From loaded data to a published list: the risk terrain fitted (or reused) for a period,
the list made, its exports written and the archive updated, all or nothing.

The command line and the app call :func:`terrain_for` and :func:`publish`; the list itself
is made by :func:`rtm.weekly.build_list`.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Mapping

import pandas as pd

from .archive import Archive
from .errors import InputError, output_folder
from .periods import Period
from .terrain import RiskTerrain

#: How often the risk terrain is refitted by default: every 13 weeks (a quarter) for weekly
#: lists, every 3 months for monthly ones. Attractors change slowly; refitting weekly costs
#: minutes on a county and moves the terrain little.
REFIT_EVERY = {"week": 13, "month": 3}
_ANCHOR = pd.Timestamp("2000-01-03")  # a Monday: refit dates are whole 13-week steps from it


def refit_date(period: Period, every: int | None = None) -> pd.Timestamp:
    """The date the terrain used for ``period`` is fitted up to (exclusive).

    Weekly: the latest start of a 13-week block (counted from Monday 3 Jan 2000) at or
    before the period; monthly: the first month of the period's quarter. So one fitted
    terrain serves every period of its block, and no block's terrain sees its own data.
    """
    every = every or REFIT_EVERY[period.kind]
    if period.kind == "month":
        months = (period.start.year * 12 + period.start.month - 1)
        first = months - months % every
        return pd.Timestamp(year=first // 12, month=first % 12 + 1, day=1)
    weeks = (period.start - _ANCHOR).days // 7
    return _ANCHOR + pd.Timedelta(weeks=weeks - weeks % every)


def fit_terrain(incidents, areas, layers: Mapping, fit_to: pd.Timestamp, kind: str, **options) -> RiskTerrain:
    """Fit the risk terrain model on the year of incidents before ``fit_to``; the terrain
    only (see :func:`fit_model`, which takes the same arguments)."""
    return fit_model(incidents, areas, layers, fit_to, kind, **options)[1]


def fit_model(incidents, areas, layers: Mapping, fit_to: pd.Timestamp, kind: str, *, cell_size: float,
              block_length: float, bands: int, increment: str = "whole", operationalisations=None,
              max_influence_m=None, seed: int = 0, progress: Callable[[str], None] | None = None):
    """Fit the risk terrain model on the year of incidents before ``fit_to``.

    Every incident with positive harm counts once (the RTM models where incidents happen;
    how much harm they do is the harm surface's part). The year is 52 weeks for weekly
    data, 12 months for monthly.

    Returns
    -------
    (RtmResult, RiskTerrain)
        The whole run (for the model report and factor table) and the terrain the lists
        use; ``result.inputs["incidents"]`` states the data window.

    Raises
    ------
    InputError
        Fewer than 2 incidents in that year, or what :func:`rtm.pipeline.run_rtm` raises.
    """
    from .pipeline import run_rtm

    start = fit_to - (pd.DateOffset(months=12) if kind == "month" else pd.Timedelta(weeks=52))
    f = incidents.frame
    sub = f[(f["date_start"] >= start) & (f["date_end"] <= fit_to) & (f["weight"] > 0)]
    if len(sub) < 2:
        raise InputError("incidents", f"only {len(sub)} incident(s) fall in the year before {fit_to:%Y-%m-%d} "
                         "to fit the risk terrain model on", "choose a later period, or give more history")
    data = SimpleNamespace(frame=sub.assign(weight=1.0), crs=incidents.crs)
    result = run_rtm(data, areas, layers, cell_size=cell_size, block_length=block_length, bands=bands,
                     increment=increment, operationalisations=operationalisations, max_influence_m=max_influence_m,
                     random_state=seed, progress=progress)
    result.inputs["incidents"] = (f"{len(sub):,} incidents with harm from {start:%Y-%m-%d} to before "
                                  f"{fit_to:%Y-%m-%d}, counted once each")
    terrain = RiskTerrain.from_result(result, data_from=f"{start:%Y-%m-%d}", data_to=f"{fit_to:%Y-%m-%d}",
                                      layers=", ".join(layers))
    return result, terrain


def fingerprint(*parts) -> str:
    """A short sha256 of JSON-able parts (settings, file hashes): names a cached terrain."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 (16 hex digits) of this package's Python sources: part of every stored model's
    key, so a changed model code never reuses a terrain fitted by the old one (~5 ms, once)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def model_key(incidents, areas, layers: Mapping, fit_to: pd.Timestamp, *, cell_size: float, block_length: float,
              bands: int, increment: str = "whole", operationalisations=None, max_influence_m=None,
              extra=()) -> str:
    """The name a fitted terrain is stored under: a :func:`fingerprint` of everything the fit
    depends on (incident, area and layer files by sha256, layer filters, the RTM settings,
    the fit-to date, ``extra`` settings of the caller, and :func:`code_fingerprint`)."""
    return fingerprint([s.get("sha256") for s in incidents.report.sources],
                       [s.get("sha256") for s in areas.report.sources], list(areas.names),
                       {n: (l.report.sources, getattr(l, "where", None)) for n, l in layers.items()},
                       operationalisations, max_influence_m, cell_size, block_length, bands, increment,
                       f"{fit_to:%Y-%m-%d}", list(extra), code_fingerprint())


def stored_terrain(cache_dir: Path, key: str) -> RiskTerrain | None:
    """The terrain stored under ``cache_dir/key``, or None when there is none (or it is damaged)."""
    folder = Path(cache_dir) / key
    if (folder / "terrain.json").exists():
        try:
            return RiskTerrain.read(folder)
        except InputError:
            return None  # a damaged entry is refitted and replaced
    return None


def store_terrain(cache_dir: Path, key: str, terrain: RiskTerrain) -> None:
    """Write ``terrain`` to ``cache_dir/key`` whole or not at all: it is written to a
    temporary folder that is then renamed, so a reader (another process too) sees the old
    entry, no entry, or the new one, never half of one. If another process stores the same
    key meanwhile, its entry is kept (the same inputs give the same terrain)."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    folder = Path(cache_dir) / key
    tmp = Path(tempfile.mkdtemp(prefix=".fitting-", dir=cache_dir))
    try:
        terrain.write(tmp)
        if folder.exists():  # an entry that could not be read, being replaced
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not (folder / "terrain.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cached_terrain(cache_dir: Path, key: str, fit: Callable[[], RiskTerrain]) -> tuple[RiskTerrain, bool]:
    """The terrain stored under ``cache_dir/key``, or ``fit()`` stored there; returns
    ``(terrain, reused)``."""
    terrain = stored_terrain(cache_dir, key)
    if terrain is not None:
        return terrain, True
    terrain = fit()
    store_terrain(cache_dir, key, terrain)
    return terrain, False


def stem_of(period: Period) -> str:
    """File-name stem of a period's exports, e.g. ``harmspots_week_2019-01-07``."""
    return f"harmspots_{period.kind}_{period.key}"


def publish(lst, out_dir, *, archive: Archive | None, districts=None, lock_timeout_s: float = 600.0) -> dict[str, Path]:
    """Write every export of ``lst`` into ``out_dir/<period key>/`` and store it in the archive.

    All or nothing, under failure, kill and concurrency:

    * one run at a time per output folder (a lock on ``.rtm-publish.lock``; other runs
      wait up to ``lock_timeout_s``);
    * the exports are written to a hidden folder, which then takes the period folder's
      place in one atomic exchange (Linux ``renameat2``; two renames elsewhere), so a
      reader sees the old folder or the new one, never none;
    * the archive is updated only once the new folder is in place; if that fails the
      folder is swapped back, and the previous exports and archive stay as they were;
    * a journal (``.<key>.publish.json``) names the run's folders: a run killed at any
      point is finished or rolled back by the next publish of the same folder.

    Returns
    -------
    dict of str to Path
        The files written (see :func:`rtm.exports.write_exports`).

    Raises
    ------
    InputError
        The folder cannot be written, another run holds the lock too long, or the archive
        cannot be written (the previous exports are then back in place).
    """
    from .exports import write_exports

    out = output_folder(out_dir)
    key = lst.period.key
    final = out / key
    with _folder_lock(out, lock_timeout_s):
        _recover(out, archive)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-new-", dir=out))
        try:
            paths = write_exports(lst.spots, lst.provenance, tmp, stem=stem_of(lst.period), grid=lst.grid,
                                  surfaces=lst.surfaces(), districts=districts)
            journal = {"key": key, "kind": lst.period.kind, "tmp": tmp.name, "new_inode": os.stat(tmp).st_ino, "previous": final.exists(),
                       "provenance": _provenance_digest(lst.provenance)}
            _write_journal(out, key, journal)
            try:
                _swap_in(tmp, final)
                if archive is not None:
                    archive.store(lst)
            except BaseException:
                _recover(out, archive)  # by the journal: the previous folder back in place
                raise
            _journal_path(out, key).unlink()  # the commit point of the folder
        except OSError as exc:
            raise InputError(final, f"the exports could not be put in place ({exc.strerror or exc}); the previous "
                             "exports and the archive are unchanged", "check the disk space and that you may write "
                             "to the output folder, then run again") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the new files on failure, the old ones on success
    return {k: final / Path(p).name for k, p in paths.items()}


# -- helpers of publish: lock, atomic exchange, journal, recovery ------------------------------
def _journal_path(out: Path, key: str) -> Path:
    return out / f".{key}.publish.json"


def _provenance_digest(provenance) -> str:
    """sha256 of the provenance as the archive stores it (to tell whether a killed run's
    archive transaction committed)."""
    return hashlib.sha256(json.dumps(provenance, sort_keys=True, default=str).encode()).hexdigest()


def _write_journal(out: Path, key: str, journal: dict) -> None:
    part = out / f".{key}.publish.json.part"
    with open(part, "w") as fh:
        json.dump(journal, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, _journal_path(out, key))


LOCK_NAME = ".rtm-publish.lock"


@contextlib.contextmanager
def _folder_lock(out: Path, timeout_s: float):
    """An exclusive lock on ``out/.rtm-publish.lock`` (released by the OS if the process dies)."""
    import fcntl

    fh = open(out / LOCK_NAME, "a+")
    try:
        waited = 0.0
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waited >= timeout_s:
                    raise InputError(out, f"another run has been publishing into this folder for over "
                                     f"{timeout_s:g} s", "wait for it to finish, or look for a stuck process "
                                     "(lock_timeout_s sets the wait)") from None
                time.sleep(0.05)
                waited += 0.05
        yield
    finally:
        fh.close()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the
    system or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, final: Path) -> None:
    """Put ``tmp`` at ``final``; the previous ``final`` (if any) ends up at ``tmp``."""
    if not final.exists():
        os.rename(tmp, final)
    elif not _exchange(tmp, final):
        aside = tmp.with_name(tmp.name + "-old")
        os.rename(final, aside)  # a kill here leaves no folder until the next run recovers
        os.rename(tmp, final)
        os.rename(aside, tmp)


def _swap_back(tmp: Path, final: Path, previous: bool) -> None:
    """Undo :func:`_swap_in`: the previous folder back at ``final`` (or no folder)."""
    if previous:
        _swap_in(tmp, final)
    else:
        shutil.rmtree(final, ignore_errors=True)


def _archived_digest(archive: Archive | None, kind: str, key: str) -> str | None:
    if archive is None or not Path(archive.path).exists():
        return None
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{archive.path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT provenance FROM runs WHERE period_kind=? AND period_key=? LIMIT 1",
                              (kind, key)).fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return None
    return hashlib.sha256(row[0].encode()).hexdigest() if row else None


_LEFTOVER = re.compile(r"^\.(.+-new-[a-z0-9_]{8}(-old)?|\d{4}-\d{2}(-\d{2})?-[a-z0-9_]{8})$")


def _recover(out: Path, archive: Archive | None) -> None:
    """Finish or roll back runs killed in ``out`` (called under the folder's lock).

    A journal whose new folder is in place and whose list the archive holds is finished
    (the old folder removed); otherwise the previous folder is put back. Then every hidden
    working folder of a run (``.<key>-new-...``, and ``.<key>-...`` of older versions) is
    removed.
    """
    for journal_path in sorted(out.glob(".*.publish.json")):
        key = journal_path.name[1:-len(".publish.json")]
        try:
            journal = json.loads(journal_path.read_text())
        except (OSError, ValueError):
            journal_path.unlink(missing_ok=True)
            continue
        tmp, final = out / journal["tmp"], out / key
        aside = tmp.with_name(tmp.name + "-old")
        if aside.exists() and not final.exists():
            os.rename(aside, final)  # killed between the two renames of the fallback
        swapped = final.exists() and os.stat(final).st_ino == journal["new_inode"]
        committed = swapped and _archived_digest(archive, journal["kind"], key) == journal["provenance"]
        if swapped and not committed:
            _swap_back(tmp, final, journal["previous"])
        journal_path.unlink()
    for left in out.iterdir():
        if left.is_dir() and _LEFTOVER.match(left.name):
            if left.name.endswith("-old"):  # a previous folder set aside: never deleted unless replaced
                final = out / left.name[1:].split("-new-")[0]
                if not final.exists():
                    os.rename(left, final)
                    continue
            shutil.rmtree(left, ignore_errors=True)
