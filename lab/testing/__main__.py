"""``python -m lab.testing [--postgres] -- COMMAND...``: see :mod:`lab.testing.servers`."""

import sys

from lab.testing.servers import main

sys.exit(main())
