"""The ``rtm`` command line: a thin front end over the library (no modelling here).

:mod:`.group` holds the command group and its error rule, :mod:`.options` the options the
commands share; each command is one module, registered here.
"""

import time

#: When the command line was loaded: what "whole command" times count from.
STARTED = time.perf_counter()

from .backtest import backtest  # noqa: E402
from .dosage import dosage  # noqa: E402
from .group import main  # noqa: E402
from .hotspots import hotspots  # noqa: E402
from .init import init  # noqa: E402
from .layers import layers  # noqa: E402
from .model import model  # noqa: E402
from .tune import tune  # noqa: E402
from .validate import validate  # noqa: E402
from .weekly import weekly  # noqa: E402
from .weights import weights  # noqa: E402

for _command in (validate, layers, model, weights, init, weekly, backtest, hotspots, dosage, tune):
    main.add_command(_command)

__all__ = ["main"]
