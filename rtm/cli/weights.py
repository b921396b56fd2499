"""``rtm weights``: the default harm weights, or a copy to edit."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, output_file
from .group import CONTEXT, friendly


@click.command(context_settings=CONTEXT)
@click.option("--write", type=click.Path(), help="Copy the default CCHI weights table here to edit it.")
@friendly
def weights(write):
    """Show the default harm weights (CCHI days), or copy them to a CSV to edit.

    The table maps each police.uk offence category to days of imprisonment at the
    sentencing starting point (Cambridge Crime Harm Index). Edit the copy and pass it to
    other commands with --weights FILE.
    """
    import shutil

    from ..weights import HarmWeights, default_weights_path

    if write:
        if Path(write).exists():
            raise InputError(write, "the file already exists", "choose a new file name or delete the old file")
        output_file(write, "weights file")
        shutil.copyfile(default_weights_path(), write)
        click.echo(f"Wrote the default weights to {write}")
        return
    table = HarmWeights.cchi().table
    for r in table.itertuples(index=False):
        click.echo(f"{r.offence_type:<32}{r.weight:>9g}  {r.notes if isinstance(r.notes, str) else ''}")
