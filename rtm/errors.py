"""The one exception users see: a file that cannot be used, said plainly.

Every loader raises :class:`InputError` for a problem with the user's input, never a
bare ``KeyError`` or ``ArrowInvalid``. The CLI and the app print ``str(err)`` and stop;
nothing else is shown to the user.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path


class InputError(Exception):
    """A problem with an input file that stops it being used at all.

    Parameters
    ----------
    source : str or Path
        The file (or ``zip:member``) the problem is in.
    problem : str
        What is wrong, in one sentence a non-programmer can read.
    fix : str
        What the user can do about it.
    field : str, optional
        The column or setting concerned, when there is one.
    field_kind : str
        What ``field`` is called in the message: ``column`` (default) or ``key``.
    """

    def __init__(self, source, problem: str, fix: str, field: str | None = None, field_kind: str = "column"):
        self.source = str(source)
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")
        self.field = field
        self.field_kind = field_kind
        super().__init__(str(self))

    def __reduce__(self):
        # rebuilt from its parts (not from ``args``), so it survives pickling: a Dask task
        # that fails on a worker process raises the same InputError in the caller
        return (type(self), (self.source, self.problem, self.fix, self.field, self.field_kind), dict(self.__dict__))

    def __str__(self) -> str:
        if not self.source and self.field:
            return f"{self.field_kind} '{self.field}': {self.problem}. Fix: {self.fix}."
        where = Path(self.source).name if self.source else "input"
        if self.field:
            where = f"{where}, {self.field_kind} '{self.field}'"
        return f"{where}: {self.problem}. Fix: {self.fix}."


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:/[\w.@+~-]+)+/([\w.@+~-]+)|(?<![\w])[A-Za-z]:\\(?:[^\\\s'\"]+\\)+([^\\\s'\"]+)")


def without_paths(text: str) -> str:
    """``text`` with every absolute file path (``/srv/rtm/ws/data/crime.csv``,
    ``C:\\data\\crime.csv``) cut to its last part (``crime.csv``): what a web page shows of a
    message, so the server's folders are never shown to its users. Takes and returns a str."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or m.group(2), str(text))


def setting_error(name: str, problem: str, fix: str) -> InputError:
    """An :class:`InputError` about the library setting ``name`` (a parameter or settings
    field, e.g. ``cell_size``); a front end may rename the setting to its own word for it
    (the command line's ``--cell-size``) by changing ``field`` and ``field_kind``."""
    return InputError("", problem, fix, field=name, field_kind="setting")


def _why(exc: OSError) -> str:
    """The reason of an OSError in words a user can act on (``Permission denied``, ...)."""
    if exc.errno == errno.ENAMETOOLONG:
        return "its name or one of its parts is too long for the file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "you have no permission to write there"
    if exc.errno == errno.EROFS:
        return "it is on a read-only file system"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "a part of the path is a file, not a folder"
    return exc.strerror or str(exc)


def output_folder(path, what: str = "output folder", *, create: bool = True) -> Path:
    """Create ``path`` (and its parents) for output files, check that a file can be written
    in it, and return it as a Path.

    Call it before any work, so that a folder that cannot be written is said at once,
    not after a long run. The check creates and removes a small temporary file in the
    folder, so it sees what the operating system will actually allow (permissions, a
    read-only disk, a name too long), not what the permission bits suggest.

    Parameters
    ----------
    path : str or Path
        The folder.
    what : str
        What the folder is called in the message (``output folder``, ``workspace folder``).
    create : bool
        False: a folder that is not there yet is not created (a command that then fails on
        its input leaves nothing behind); its nearest existing parent is checked instead,
        and the names of the parts to create against the file system's longest name.

    Raises
    ------
    InputError
        Naming the folder: it is a file or a device (``/dev/null``), it cannot be created
        (no permission, a file in the way, a name too long) or it cannot be written to.
    """
    out = Path(path)
    if str(path).strip() == "":
        raise InputError(what, f"the {what} is empty", "give the path of a folder")
    fix = "choose a folder you can write to (e.g. one in your home folder)"
    probe_in = out
    try:
        if out.exists() and not out.is_dir():
            raise InputError(out, f"the {what} '{out}' exists and is not a folder (it is a file or a device)",
                             "give the path of a folder, or a new name to create one")
        if create:
            out.mkdir(parents=True, exist_ok=True)
        elif not out.exists():
            probe_in = next(p for p in out.absolute().parents if p.exists())
            if not probe_in.is_dir():
                raise OSError(errno.ENOTDIR, "not a folder")
            longest = _longest_name(probe_in)
            if any(_name_bytes(part) > longest for part in out.absolute().relative_to(probe_in).parts):
                raise OSError(errno.ENAMETOOLONG, "name too long")
    except OSError as exc:
        raise InputError(out, f"the {what} '{out}' cannot be created: {_why(exc)}", fix) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".rtm-write-check-", dir=probe_in)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise InputError(out, f"nothing can be written in the {what} '{out}': {_why(exc)}", fix) from None
    return out


def _longest_name(folder: Path) -> int:
    """The longest file name, in bytes, the file system of ``folder`` allows (255 where it
    does not say)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # not every system says (Windows has no pathconf)
        return 255


def _name_bytes(name: str) -> int:
    return len(name.encode("utf-8", "surrogateescape"))


def output_file(path, what: str = "output file") -> Path:
    """Check that the file ``path`` can be written before any work: its folder is created and
    checked (:func:`output_folder`), and the path is not a folder and its name is not too long
    for the file system. Returns ``path`` as a Path; an existing file is left alone (it is
    replaced later by whoever writes it).

    Raises
    ------
    InputError
        Naming the file and the fix.
    """
    out = Path(path)
    if str(path).strip() == "":
        raise InputError(what, f"the {what} is empty", "give a file name")
    longest = _longest_name(output_folder(out.parent, f"folder of the {what}"))
    if _name_bytes(out.name) > longest:
        raise InputError(out, f"the {what} name is {len(out.name)} characters long, more than the file system "
                         f"allows ({longest})", "choose a shorter file name")
    if out.is_dir():
        raise InputError(out, f"the {what} '{out}' is a folder", "give a file name (e.g. inside that folder)")
    return out
