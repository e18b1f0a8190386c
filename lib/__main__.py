"""`python -m lib …`: the command line of Service Scorecard (see lib.app.cli)."""

import os
import sys

# NumPy's BLAS starts a thread per core that spins after each call; no command here does
# linear algebra, and on a small machine that thread takes a core from the work.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from lib.app.cli import main  # noqa: E402

sys.exit(main())
