"""`python -m lib …`: the command line of Service Scorecard (see lib.cli)."""

import sys

from lib.cli import main

sys.exit(main())
