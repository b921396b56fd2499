"""The ranges of settings that every front checks alike (the library, the command line, a
workspace's workspace.toml). Plain numbers, no imports: the command line reads them without
loading the analysis libraries."""

#: Cell sizes, spot sizes and block lengths, in metres: a block of 5 km already spans a town
#: in one band (and 20 bands reach 100 km); below a metre the grid is beyond any survey's accuracy.
MIN_METRES, MAX_METRES = 1.0, 5000.0

#: The longest refit interval of a risk terrain, in periods (20 years of weeks).
MAX_REFIT_EVERY = 1040
