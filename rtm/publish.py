"""Publishing a list: its exports written into the period's folder and the archive updated,
all or nothing. The weekly job (:mod:`rtm.weekly_job`) calls :func:`publish` after making
the list."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .archive import Archive
from .errors import InputError, output_folder
from .periods import Period


def stem_of(period: Period) -> str:
    """File-name stem of a period's exports, e.g. ``harmspots_week_2019-01-07``."""
    return f"harmspots_{period.kind}_{period.key}"


def publish(lst, out_dir, *, archive: Archive | None, districts=None, marking: str | None = None,
            lock_timeout_s: float = 600.0) -> dict[str, Path]:
    """Write every export of ``lst`` into ``out_dir/<period key>/`` and store it in the archive.

    All or nothing, under failure, kill and concurrency:

    * one run at a time per output folder (a lock on ``.rtm-publish.lock``; other runs
      wait up to ``lock_timeout_s``);
    * the exports are written to a hidden folder, which then takes the period folder's
      place in one atomic exchange (Linux ``renameat2``; two renames elsewhere), so a
      reader sees the old folder or the new one, never none;
    * the archive is updated only once the new folder is in place; if that fails the
      folder is swapped back, and the previous exports and archive stay as they were;
    * a journal (``.<key>.publish.json``) names the run's folders, districts and
      provenance: a run killed at any point is finished (the archive holds its list for
      every one of its districts) or rolled back by the next publish of the same folder.

    ``marking`` is the briefing's protective marking (default ``OFFICIAL``).

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
    from .exports import DEFAULT_MARKING, write_exports

    out = output_folder(out_dir)
    key = lst.period.key
    final = out / key
    with _folder_lock(out, lock_timeout_s):
        _recover(out, archive)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-new-", dir=out))
        try:
            paths = write_exports(lst.spots, lst.provenance, tmp, stem=stem_of(lst.period), grid=lst.grid,
                                  surfaces=lst.surfaces(), districts=districts, places=getattr(lst, "places", None),
                                  streets=getattr(lst, "street_lines", None), marking=marking or DEFAULT_MARKING)
            journal = {"key": key, "kind": lst.period.kind, "tmp": tmp.name, "new_inode": os.stat(tmp).st_ino,
                       "previous": final.exists(), "provenance": _provenance_digest(lst.provenance),
                       "districts": [str(d) for d in lst.grid.district_names]}
            _write_journal(out, key, journal)
            try:
                _swap_in(tmp, final)
                if archive is not None:
                    archive.store(lst)
            except BaseException:
                _recover(out, archive)  # by the journal: the previous folder back in place
                raise
            with contextlib.suppress(OSError):  # published: a journal left behind is finished by the next run
                _journal_path(out, key).unlink()
        except OSError as exc:
            raise InputError(final, f"the exports could not be put in place ({exc.strerror or exc}); the previous "
                             "exports and the archive are unchanged", "check the disk space and that you may write "
                             "to the output folder, then run again") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the new files on failure, the old ones on success
    return {k: final / Path(p).name for k, p in paths.items()}


# -- helpers of publish: lock, atomic exchange, journal, recovery ------------------------------
def _journal_path(out: Path, key: str) -> Path:
    """The journal of a run publishing period ``key`` into ``out``."""
    return out / f".{key}.publish.json"


JOURNAL_PART = ".publish.json.part"  # the end of a journal's name while it is written


def _provenance_digest(provenance) -> str:
    """sha256 of the provenance as the archive stores it (to tell whether a killed run's
    archive transaction committed)."""
    return hashlib.sha256(json.dumps(provenance, sort_keys=True, default=str).encode()).hexdigest()


def _write_journal(out: Path, key: str, journal: dict) -> None:
    """Write ``journal`` (a dict) to ``.<key>.publish.json`` in ``out`` at once: to a
    temporary ``.part`` name, synced, then renamed (a kill leaves the ``.part``, which
    :func:`_recover` removes)."""
    part = out / f".{key}{JOURNAL_PART}"
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


def _archive_holds(archive: Archive | None, journal: dict) -> bool:
    """Whether ``archive`` holds the list a journal's run stored: an entry of its period
    with its provenance (sha256) for every one of its districts.

    The archive keeps one entry per (period, district), and lists of other districts may
    share the period, so only the run's own districts are compared (journals written
    before districts were recorded: every entry of the period). :meth:`Archive.store`
    writes all of a list's entries in one transaction, so they are all there or none.
    The archive is opened for writing so that SQLite rolls back a transaction killed
    half-way (its hot journal) before reading; an archive that cannot be read holds
    nothing (the run is rolled back; its own next write reports the problem).
    """
    if archive is None or not Path(archive.path).exists():
        return False
    import sqlite3

    try:
        con = sqlite3.connect(archive.path, timeout=60.0)
        try:
            rows = con.execute("SELECT district, provenance FROM runs WHERE period_kind=? AND period_key=?",
                               (journal["kind"], journal["key"])).fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False
    held = {str(d): hashlib.sha256(prov.encode()).hexdigest() for d, prov in rows}
    districts = journal.get("districts", list(held))
    return bool(districts) and all(held.get(d) == journal["provenance"] for d in districts)


_LEFTOVER = re.compile(r"^\.(.+-new-[a-z0-9_]{8}(-old)?|\d{4}-\d{2}(-\d{2})?-[a-z0-9_]{8})$")


def _recover(out: Path, archive: Archive | None) -> None:
    """Finish or roll back runs killed in ``out`` (called under the folder's lock).

    A journal whose new folder is in place and whose list the archive holds is finished
    (the old folder removed); otherwise the previous folder is put back. A run killed
    between the renames of the fallback (no atomic exchange) has its folders put back
    under their journal's names first. Then every hidden working folder of a run
    (``.<key>-new-...``, and ``.<key>-...`` of older versions) and every journal killed
    while written (``.<key>.publish.json.part``) is removed.
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
            os.rename(aside, final)  # killed after the fallback's 1st rename: the previous folder back
        elif aside.exists() and not tmp.exists():
            os.rename(aside, tmp)  # killed after its 2nd rename: the 3rd done, as _swap_in would have
        swapped = final.exists() and os.stat(final).st_ino == journal["new_inode"]
        committed = swapped and _archive_holds(archive, journal)
        if swapped and not committed:
            _swap_back(tmp, final, journal["previous"])
        journal_path.unlink()
    for left in out.iterdir():
        if left.name.startswith(".") and left.name.endswith(JOURNAL_PART) and left.is_file():
            left.unlink(missing_ok=True)  # a journal never completed: its run changed nothing yet
            continue
        if left.is_dir() and _LEFTOVER.match(left.name):
            if left.name.endswith("-old"):  # a previous folder set aside: never deleted unless replaced
                final = out / left.name[1:].split("-new-")[0]
                if not final.exists():
                    os.rename(left, final)
                    continue
            shutil.rmtree(left, ignore_errors=True)
