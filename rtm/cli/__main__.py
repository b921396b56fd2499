"""``python -m rtm.cli``: the ``rtm`` command."""

from . import main

main()
