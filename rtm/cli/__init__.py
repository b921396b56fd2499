"""The ``rtm`` command line: a thin front end over the library (no modelling here).

:mod:`.group` holds the command group and its error rule, :mod:`.options` the options the
commands share; each command is one module, registered here.
"""

from .backtest import backtest
from .dosage import dosage
from .group import main
from .hotspots import hotspots
from .init import init
from .layers import layers
from .model import model
from .national import national
from .validate import validate
from .weekly import weekly
from .weights import weights

for _command in (validate, layers, model, weights, init, weekly, backtest, hotspots, dosage, national):
    main.add_command(_command)

__all__ = ["main"]
