"""``python -m benchmarks.nasbench build|query|compare``."""
from __future__ import annotations

import sys

from benchmarks.nasbench import cli

if __name__ == "__main__":
    sys.exit(cli.main())
