"""The Spark SQL output of every reference segment returns the same members as DuckDB.

Slow (a local Spark session takes ~2 minutes here), so it runs only with CDP_TEST_SPARK=1.
"""

from __future__ import annotations

import os

import pytest

import dsl
from tests.dsl import reference as ref
from tests.dsl.conftest import make_catalog
from tests.dsl.test_execute import NAMES, RULES, _opts

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("CDP_TEST_SPARK") != "1", reason="set CDP_TEST_SPARK=1 to run Spark"),
]
TABLES = ("customers", "events", "consent_events", "objections", "segment_builds", "segment_members", "customer_merges")


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    pyspark_sql = pytest.importorskip("pyspark.sql")
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("dsl-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    data = ref.generate()
    duck = ref.load_store(data)
    for table in TABLES:
        session.createDataFrame(duck.execute(f"SELECT * FROM {table}").to_arrow_table()).createOrReplaceTempView(table)
    yield session, duck
    session.stop()


def test_spark_matches_duckdb(spark) -> None:  # type: ignore[no-untyped-def]
    session, duck = spark
    checked = dsl.check(dsl.loads(RULES), make_catalog())
    for name in NAMES:
        seg = dsl.compile_segment(checked, name, _opts())
        want = set(duck.execute(seg.sql("duckdb")).fetchall())
        got = {tuple(r) for r in session.sql(seg.sql("spark")).collect()}
        assert got == want, name
