"""Run the command line with ``python -m crmcore.cli``."""

import sys

from crmcore.cli import main

sys.exit(main())
