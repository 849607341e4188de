"""Tests of the engines area: database sources, Parquet export, PostgreSQL and Spark."""
