"""``python -m benchmarks`` is the same as the ``gdbench`` console script."""

import sys

from .cli import main

sys.exit(main())
