"""``python -m rpcbridge``: see ``rpcbridge._cli``."""

import sys

from ._cli import main

sys.exit(main())
