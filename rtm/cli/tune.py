"""``rtm tune``: choose the ranking from the force's own past, and say how it does on a later span."""

from __future__ import annotations

import click

from ..errors import output_folder
from .group import CONTEXT, friendly, option_error
from .options import SIZE, Progress, area_options, count_line, factor_options, mapping_options, pairs, study_inputs, \
    weight_options


def _span(first, last, name: str):
    if bool(first) != bool(last):
        raise option_error(f"--{name}-from / --{name}-to", f"give both ends of the {name} span, or neither",
                           f"e.g. --{name}-from 2018-01-01 --{name}-to 2018-12-31")
    return (first, last) if first else None


@click.command(context_settings=CONTEXT)
@click.option("--workspace", type=click.Path(file_okay=False), metavar="DIR",
              help="Tune on a workspace's data, model and list settings (DIR/workspace.toml).")
@click.option("--save", is_flag=True, help="With --workspace: write the choice into its workspace.toml "
              "([tuning]); its lists then use it and say so.")
@click.option("--incidents", "incidents", multiple=True, type=click.Path(), metavar="PATH",
              help="Incident file, folder or zip (repeat for several), read as by 'rtm validate'.")
@area_options(required=False)
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True,
              help="The lists' period; month-only data (police.uk) needs 'month'.")
@click.option("--week-start", default="monday", show_default=True, help="First day of the week.")
@weight_options("cchi", "Harm weights: 'cchi' (Cambridge Crime Harm Index defaults), 'count' or a weights CSV.")
@factor_options("A risk factor from a file (repeatable). With a risk terrain the risk weight is tuned too.")
@click.option("--cell-size", type=SIZE, default=50.0, show_default=True,
              metavar="METRES", help="Cell size of the risk terrain model.")
@click.option("--block-length", type=SIZE, default=100.0, show_default=True,
              metavar="METRES")
@click.option("--bands", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--spot-size", type=SIZE, default=150.0, show_default=True,
              metavar="METRES", help="Harm-spot cell size.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="The list's size: cells per district whose harm capture is compared.")
@click.option("--validate-from", metavar="YYYY-MM-DD", help="First period of the validation span (default: "
              "the year before the test span, or the first half of shorter data).")
@click.option("--validate-to", metavar="YYYY-MM-DD", help="Last period of the validation span starts by this day.")
@click.option("--test-from", metavar="YYYY-MM-DD", help="First period of the test span (default: the last year "
              "of the data, or its second half; with only the validation span given, the year after it).")
@click.option("--test-to", metavar="YYYY-MM-DD", help="Last period of the test span starts by this day.")
@click.option("--out", type=click.Path(file_okay=False), help="Also write validation.csv and test.csv here.")
@mapping_options
@friendly
def tune(workspace, save, incidents, area, area_field, area_select, area_tolerance, period, week_start, weights,
         unknown, default_weight, catalogue, factors, layer_items, treatments, cell_size, block_length, bands,
         spot_size, top, validate_from, validate_to, test_from, test_to, out, **kw):
    """Choose the ranking that would have caught the most harm on this force's own past.

    Every ranking of a small documented family (history of 12, 24 or 36 months where the
    data has it; harm, counts or a half-and-half blend; counting crimes only or every row;
    bandwidth 1.1 or 1.5 cells; half-life 365 days or none; with a risk terrain, the risk
    weight) is back-tested period by period over a validation span, each list made only
    from incidents before its period. The one with the highest mean harm capture at the
    list's size (--top cells per district) is chosen, then scored on a later test span it
    never saw, beside naive (harm in each cell in the year before), the shipped default,
    the leave-one-period-out ceiling and the oracle. See docs/backtest.md, "Self-tuning".

    With --workspace DIR --save the choice goes into DIR/workspace.toml as a [tuning]
    table: 'rtm weekly --workspace DIR' and the app then rank with it, and each list's
    provenance says so. Delete the table to go back to the default.

    Exit status: 0 when done, 2 when an input or setting cannot be used.

    \b
    Examples (from the project folder):
      rtm tune --incidents sample_geo/chicago/assaults_2016_2019.csv --offence-value "Aggravated assault" \\
          --weights count --area sample_geo/chicago/districts.geojson --area-field District
      rtm init essex --sample southend && rtm tune --workspace essex --save
    """
    from ..catalogue import plan_factors
    from ..terrain_settings import RtmSettings
    from ..tuning.run import tune_study, tune_workspace
    from ..weekly_job import TerrainPlan
    from ..weights import HarmWeights

    spans = dict(validate=_span(validate_from, validate_to, "validate"), test=_span(test_from, test_to, "test"))
    if save and not workspace:
        raise option_error("--save", "--save writes into a workspace", "give --workspace DIR with --save")
    if out:  # before the tuning: a folder that cannot be written is said at once
        output_folder(out, create=False)
    if save:
        output_folder(workspace, "workspace folder")
    if workspace:
        ctx = click.get_current_context()
        extra = [p.opts[0] for p in ctx.command.params
                 if p.name not in ("workspace", "save", "out", "validate_from", "validate_to", "test_from", "test_to")
                 and ctx.get_parameter_source(p.name) == click.core.ParameterSource.COMMANDLINE]
        if extra:
            raise option_error(extra[0], f"{', '.join(extra)} cannot be combined with --workspace",
                               "set it in the workspace's workspace.toml, or run without --workspace")
        result, ws = tune_workspace(workspace, progress=Progress("reading"), **spans)
        kind = ws.period_kind
    else:
        for flag, given in (("--incidents", incidents), ("--area", area)):
            if not given:
                raise option_error(flag, f"{flag} is needed (or a workspace with --workspace)",
                                   f"give {flag}, or tune a workspace: 'rtm tune --workspace DIR'")
        treat = pairs(treatments, "operationalisations")
        use_layers = bool(factors or layer_items)
        plan = TerrainPlan(tuple(plan_factors(catalogue, factors, layer_items, treat) if use_layers else ()),
                           RtmSettings(cell_size, block_length, bands, operationalisations=treat))
        hw = HarmWeights.from_name(weights, unknown, default_weight)
        result, inc, _, layers = tune_study(study_inputs(incidents, area, area_field, area_select, area_tolerance,
                                                         hw, kw), kind=period, week_start=week_start, terrain=plan,
                                            spot_size=spot_size, top_n=top, progress=Progress("reading"), **spans)
        click.echo(count_line("Incidents", inc.report) + f" ({inc.report.date_min} to {inc.report.date_max}, "
                   f"weights {hw.scheme})")
        for name, layer in layers.items():
            click.echo(count_line(f"Layer {name}", layer.report))
        kind = period
    _report(result, kind)
    if out:
        folder = output_folder(out)
        result.validation.to_csv(folder / "validation.csv", index=False)
        result.test.to_csv(folder / "test.csv", index=False)
        click.echo(f"Wrote {folder / 'validation.csv'} and {folder / 'test.csv'}")
    if save:
        from ..tuning.saved import save_tuning

        path = save_tuning(workspace, result)
        click.echo(f"Saved the choice in {path} ([tuning]); its lists now use it.")


def _report(result, kind: str) -> None:
    v, t = result.validation_periods, result.test_periods
    click.echo(f"Validation: {len(v)} {kind}(s), {v[0]} to {v[-1]}; test: {len(t)} {kind}(s), {t[0]} to {t[-1]}; "
               f"history windows tried: {', '.join(f'{h} months' for h in result.history_months)}.")
    click.echo(f"Chosen on the validation span: {result.chosen.describe()}")
    click.echo(f"\nTest span (not seen by the choice), mean harm captured by the top {result.top_n} cells a "
               "district:")
    click.echo(f"  {'ranking':<18}{'harm captured':>15}{'vs naive':>10}")
    for r in result.test.itertuples():
        click.echo(f"  {r.name:<18}{100 * r.capture:>14.1f}%{100 * r.vs_naive:>+9.1f}%")
    click.echo("  (lopo ceiling: each period ranked by the others' harm, which sees the future; oracle: the "
               "period's own best cells)")
    for note in result.notes:
        click.echo(f"Note: {note}")
    if result.capture("shipped default") >= result.capture("tuned"):
        click.echo("Note: on the test span the shipped default did at least as well as the choice; saving the "
                   "choice would not help this force.")
    s = result.seconds
    click.echo(f"Time: {s['total']:.1f} s (validation {s['validation']:.1f} s, test {s['test']:.1f} s)")
