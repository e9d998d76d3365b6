import sys

from videomodels.cli import main

sys.exit(main())
