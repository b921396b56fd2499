"""``rtm init``: a new force workspace with a commented config to edit."""

from __future__ import annotations

import click

from ..errors import output_folder
from .group import CONTEXT, friendly


@click.command(context_settings=CONTEXT)
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--sample", type=click.Choice(["southend", "chicago"]),
              help="Point the config at a bundled sample's files, ready to run.")
@friendly
def init(folder, sample):
    """Create a workspace in FOLDER: a commented workspace.toml saying where the force's
    incidents, boundaries and attractor layers are and how lists are made.

    Edit it, then publish the next period's list with 'rtm weekly --workspace FOLDER'
    (lists/<period>/ and archive.sqlite appear in FOLDER) and open the app on it with
    RTM_WORKSPACE=FOLDER. Exit status: 0 when written, 2 when FOLDER already has one.

    \b
    Examples:
      rtm init essex
      rtm init demo --sample southend && rtm weekly --workspace demo
    """
    from ..workspace import load_workspace
    from ..workspace_init import init_workspace

    output_folder(folder, "workspace folder")  # said plainly when the folder cannot be written
    path = init_workspace(folder, sample=sample)
    click.echo(f"Wrote {path}")
    if sample:
        ws = load_workspace(folder)
        click.echo(f"It points at the bundled {sample} sample ({len(ws.job.study.incidents)} source(s)); "
                   f"run: rtm weekly --workspace {folder}")
    else:
        click.echo("Edit it (every setting is explained in it), then check it with: "
                   f"rtm weekly --workspace {folder}")
