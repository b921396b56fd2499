"""Writing a new workspace: the commented ``workspace.toml`` template that ``rtm init DIR``
(and the bundled sample workspace) start from. Reading and checking it is :mod:`rtm.workspace`."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .workspace import CONFIG

LAYERS_HINT = '# [model.layers]\n# pubs = "attractors/pubs.gpkg"\n'
STREETS_HINT = '# file = "streets.gpkg"\n# name_field = "name"\n'
TEMPLATE = '''# Harm spots workspace: one force's setup.
# Paths are relative to this file's folder. 'rtm weekly --workspace {folder_name}' reads it and
# publishes each period's list into lists/<period>/ and keeps every list in archive.sqlite;
# fitted risk terrains are kept in models/. The app opens it with RTM_WORKSPACE=<this folder>.

[force]
name = "{name}"
# the protective marking printed on every export page
marking = "OFFICIAL"

[incidents]
# police.uk CSVs, folders of monthly files or zips, or tables (CSV, Parquet, GeoJSON, ...)
sources = [{sources}]
# files added in the app are kept in uploads/incidents/ and read with these
# cchi (Cambridge Crime Harm Index), count, or an edited weights CSV ('rtm weights --write')
weights = "{weights}"
# offence types the weights lack: reject, zero, or default (then give default_weight = 1.0)
unknown = "reject"
# the CRS of the input coordinates; inferred when left out
# crs = "EPSG:27700"
# generic tables: which column holds each role (id, date, lon, lat, x, y, offence, weight, location)
# [incidents.columns]
# date = "occurred_at"
{columns}
[areas]
file = "{area_file}"
# the field naming each polygon's district; LSOA names group by the text before the code
field = "{area_field}"
# keep incidents this far outside the boundary, in metres (coasts, edge streets)
tolerance_m = {tolerance:g}
# only these districts
# select = ["Southend-on-Sea"]

[lists]
# week or month (police.uk data is dated by month only)
period = "{period}"
# spots per district; or area_share = 2.6 (percent of each district's area)
spots = 20
# the square patrolled, in metres
spot_size_m = 150
# adjacent listed cells merged into spots of up to this many cells (one place, e.g. an airport, one spot)
merge = 5
# polygons never listed (custody suites, hospitals, ...)
# exclusions = "exclusions.geojson"
# places where crimes are recorded, not committed ("On or near Police Station", ...) are left out;
# another table (copy rtm/data/recording_points.csv), or keep them
# recording_points = "recording_points.csv"
# keep_recording_points = false
# data with times: a list per shift as well (the shift starts; an incident belongs to the shift it began in)
# shifts = "07:00,19:00"
# only these offence types make the list (default: every type in the data)
# offences = ["Violence and sexual offences", "Robbery"]
# another size for some districts: a number of spots, or a percentage of the district's area
# districts = {{ "Basildon" = {{ spots = 12 }}, "Castle Point" = {{ area_share = 2.6 }} }}

# the risk terrain; with no factors lists are ranked by recent harm alone
[model]
# entries of the attractor catalogue ('rtm layers')
factors = [{factors}]
# another catalogue folder (default: the project's layers/)
# catalogue = "layers"
cell_size_m = {cell:g}
block_length_m = {block:g}
bands = {bands}
# periods between refits (default 13 weeks or 3 months)
# refit_every = 13
# your own attractor files: name = "file" or "file:filter"
{model_layers}
# named street lines (any vector format: GeoPackage, GeoJSON, Shapefile...): labelled on the
# map at street zoom and used to name spots; street names from police.uk "On or near ..." are
# labelled without one
[streets]
{streets}
# the map's background; none: district boundaries on a plain background. Either a force's
# tile server, or a raster tile file (MBTiles or PMTiles) that the app serves itself
[basemap]
# tiles = "https://tiles.force.internal/{{z}}/{{x}}/{{y}}.png"
# file = "maps/county.mbtiles"
# attribution = "Force mapping service"
'''


def init_workspace(folder, *, sample: str | None = None, overwrite: bool = False) -> Path:
    """Write a commented ``workspace.toml`` into ``folder`` (created when missing).

    With ``sample`` (a key of :data:`rtm.samples.SAMPLES`) the config points at that bundled
    sample's files, ready to run; without, at placeholders to edit. Returns the path.
    InputError when a config is already there (and ``overwrite`` is not set) or the sample
    is unknown.
    """
    from .samples import SAMPLE_DIR, SAMPLES

    folder = Path(folder).expanduser()
    path = folder / CONFIG
    if path.exists() and not overwrite:
        raise InputError(path, "a workspace config is already there", "edit it, or choose another folder")
    if sample is not None and sample not in SAMPLES:
        raise InputError("", f"there is no bundled sample '{sample}'", f"choose {', '.join(SAMPLES)}",
                         "sample", "setting")
    if sample:
        s = SAMPLES[sample]
        cols = ""
        if s.mapping is not None:
            given = {k: v for k, v in s.mapping.__dict__.items() if v}
            cols = "[incidents.columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in given.items())
        text = TEMPLATE.format(folder_name=folder.name, name=s.title.split(":")[0],
                               sources=", ".join(f'"{p.resolve()}"' for p in s.paths(SAMPLE_DIR)),
                               weights=s.weights, columns=cols, area_file=(SAMPLE_DIR / s.areas).resolve(),
                               area_field=s.area_field, tolerance=s.area_tolerance_m, period=s.period_kind,
                               factors=", ".join(f'"{f}"' for f in s.factors), cell=s.cell_size,
                               block=s.block_length, bands=s.bands, model_layers=LAYERS_HINT, streets=STREETS_HINT)
    else:
        text = TEMPLATE.format(folder_name=folder.name, name="Your force", sources='"data/crime"', weights="cchi",
                               columns="", area_file="boundaries/lsoa2011.geojson", area_field="LSOA11NM",
                               tolerance=150.0, period="month", factors="", cell=50, block=100, bands=3,
                               model_layers=LAYERS_HINT, streets=STREETS_HINT)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
