"""``python -m benchmarks`` is the same as the ``gdbench`` console script."""

import sys

from benchmarks.commands import main

sys.exit(main())
