"""The ``rtm`` command group and the rule every command follows: input problems are one clear
message (with the library's setting names turned into this command's options) and a
non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import sys

import click

from ..errors import InputError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

#: Library setting names whose option is called otherwise (setting -> option parameter names).
SETTING_OPTIONS = {"top_n": ("top",), "layers": ("layer_items",), "operationalisations": ("treatments",),
                   "period": ("week", "month", "period"), "max_cells": ("merge",), "periods": ("date_from",),
                   "patrol": ("visits",), "bandwidth_m": ("bandwidth",), "half_life_days": ("half_life",),
                   "phs_radius_m": ("phs_radius",), "area_shares": ("area_shares",), "seed": ("seed",),
                   "area_select": ("area_select",), "crs": ("crs",), "test": ("test_from", "test_to"),
                   "validate": ("validate_from", "validate_to"), "validate / test": ("validate_from", "test_from")}


def option_error(option: str, problem: str, fix: str) -> InputError:
    """An :class:`InputError` about a command-line option (``--week``), for problems only the
    command line can have (two options that exclude each other, a malformed value)."""
    return InputError("", problem, fix, option, "option")


#: settings whose errors name a data file (its source) and are still set on the command line
FILE_LIMITS = ("max_rows", "max_file_mb")


def as_option(exc: InputError, command: click.Command | None) -> InputError:
    """``exc`` with a library setting name (``field_kind == "setting"``) replaced by the
    option of ``command`` that sets it (``top_n`` -> ``--top``, ``max_rows`` ->
    ``--max-rows``), when the command has one. Errors from a file keep the file's own
    setting names (a ``workspace.toml`` key), except the load limits a data file exceeds."""
    if exc.field_kind != "setting" or command is None or (exc.source and exc.field not in FILE_LIMITS):
        return exc
    names = SETTING_OPTIONS.get(exc.field, ()) + (exc.field,)
    flags = [p.opts[0] for n in names for p in command.params
             if isinstance(p, click.Option) and p.name == n]
    if flags:
        exc.field, exc.field_kind = " / ".join(dict.fromkeys(flags)), "option"
    return exc


def friendly(fn):
    """Turn input problems into one clear message and exit 2, never a traceback; other
    errors are a bug, said plainly (exit 3; ``rtm --debug`` shows the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = ctx.find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except InputError as exc:  # exit 2, or the error's own code (75: a workspace busy)
            click.echo(f"Error: {as_option(exc, ctx.command)}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        except BrokenPipeError:  # output piped into 'head' and closed early: not an error
            sys.stderr.close()
            sys.exit(0)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
            if debug:
                raise
            click.echo(f"rtm: unexpected error ({type(exc).__name__}: {exc}). This is a bug; run again "
                       "with 'rtm --debug ...' and report the output.", err=True)
            sys.exit(3)

    return wrapper


@click.group(context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Show the full traceback of unexpected errors.")
@click.version_option(package_name="rtm-harmspots", prog_name="rtm")
def main(debug: bool) -> None:
    """Risk terrain modelling and harm-spot lists for patrol planning.

    \b
    Start by checking your data:
      rtm validate path/to/police-uk-folder --area lsoa.geojson --area-field LSOA11NM
    Then see the attractor catalogue:
      rtm layers --catalogue layers/
    and fit a risk terrain model (see 'rtm model --help'):
      rtm model --incidents burglaries.geojson --area districts.geojson --factors liquor_retail \\
          --cell-size 100 --block-length 100 --out my_rtm

    Every command prints what it did with each input row; run 'rtm COMMAND --help' for
    the options of each.
    """
