"""``rtm layers``: the attractor catalogue, and loading entries to check them."""

from __future__ import annotations

import click

from .group import CONTEXT, friendly, option_error


@click.command(context_settings=CONTEXT)
@click.option("--catalogue", type=click.Path(), default="layers", show_default=True,
              help="The attractor catalogue folder (one TOML file per attractor).")
@click.option("--check", "checks", multiple=True, metavar="NAME=FILE",
              help="Load catalogue entry NAME from FILE and report its features (repeatable). "
              "Use NAME alone for entries with a default file.")
@friendly
def layers(catalogue, checks):
    """List the attractor catalogue, or load entries to check them.

    \b
    Examples:
      rtm layers
      rtm layers --check pubs=london_pois.zip --check liquor_retail
    """
    from ..catalogue import load_catalogue

    specs = load_catalogue(catalogue)
    if not checks:
        click.echo(f"{'name':<24}{'treatment':<11}{'max m':>7}  {'filter':<32} title")
        for s in specs.values():
            click.echo(f"{s.name:<24}{s.operationalisation:<11}{s.max_influence_m:>7g}  "
                       f"{(s.where or '-'):<32} {s.title}")
        return
    for item in checks:
        name, _, file = item.partition("=")
        if name not in specs:
            raise option_error("--check", f"no catalogue entry is called '{name}'",
                               f"choose from: {', '.join(specs)}")
        layer = specs[name].load(file or None)
        click.echo(layer.report.to_text())
        click.echo(f"Layer '{layer.name}': {len(layer):,} {layer.kind} features\n")
