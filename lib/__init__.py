"""Service Scorecard's logic: store, ingestion, KPIs, scoring and coaching, with no UI code.

Everything a page or the command line shows is computed here over DuckDB. This package never
imports streamlit, so it can be tested and scripted on its own (`python -m lib --help`).
"""

__version__ = "0.1.0"
