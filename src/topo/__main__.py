"""``python -m topo``: the same as the ``topo`` command."""

import sys

from topo.cli.commands import main

sys.exit(main())
