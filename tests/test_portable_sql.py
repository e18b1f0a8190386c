"""The KPI catalogue's SQL stays portable: every source parses as DuckDB SQL and transpiles to
engines a larger installation might run it on (Trino, Spark, ClickHouse), and back.

This keeps open the plan in the README for groups past one machine: the same catalogue run
over Parquet in object storage or on an existing warehouse.
"""

from __future__ import annotations

import re

import pytest
import sqlglot

from lib.metrics import kpis
from lib.metrics.kpis import load_catalogue

DIALECTS = ("trino", "spark", "clickhouse")


def _statements():
    for kpi in load_catalogue().kpis.values():
        for i, source in enumerate(kpi.sources):
            if source.sql:
                sql = f"WITH base AS (SELECT * FROM t) {source.sql}"
            else:
                inner, _ = kpis._columns(kpi, source, f"{kpi.id}#{i}")
                sql = f"SELECT grp, {', '.join(inner)} FROM base GROUP BY grp"
            yield pytest.param(re.sub(r"\$(\w+)", r"'\1'", sql), id=f"{kpi.id}#{i}")
    for name in sorted(kpis.DERIVED) + ["agent_teams"]:
        yield pytest.param(kpis.sql_file(name), id=name)


@pytest.mark.parametrize("sql", _statements())
def test_kpi_sql_parses_and_transpiles(sql):
    tree = sqlglot.parse_one(sql, read="duckdb")
    for dialect in DIALECTS:
        sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect)
