"""`python -m lib …`: the command line of Service Scorecard (see lib.app.cli)."""

import sys

from lib.app.cli import main

sys.exit(main())
