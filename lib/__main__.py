"""`python -m lib …`: the command line of Service Scorecard (see lib.app.cli)."""

import gc
import logging
import os
import sys
import threading

# NumPy's BLAS starts a thread per core that spins after each call; no command here does
# linear algebra, and on a small machine that thread takes a core from the work.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from lib.app.cli import main  # noqa: E402

code = main() or 0
gc.collect()  # a store still open is closed, and DuckDB writes its log into the file
if threading.active_count() == 1:
    # Nothing is left to do: no other thread runs and the output is flushed here. Python's
    # own teardown of every module a command loaded (pandas, Arrow, DuckDB) would take about
    # 0.2 s more, for nothing: the process ends at once.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
