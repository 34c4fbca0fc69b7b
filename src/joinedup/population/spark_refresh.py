"""The full refresh on Spark: the same views, persons, scores, model, segments and case-finding lists.

The views compile to Spark SQL directly (the SQL on FHIR compiler has a Spark dialect). Everything after them is
the DuckDB refresh's own SQL (persons.py, features.py, segments.py, case_finding.py), written to read alike on
both engines and transpiled statement by statement with sqlglot (the SQL transpiler Splink already brings), so
there is one definition of each score, not two to keep in step. Each `CREATE OR REPLACE TABLE name AS query`
becomes a cached temporary view `name`. The model is the same Python (scikit-learn) on the collected features:
at this step the data is one row per resident, which any driver holds. tests/population/test_spark_refresh.py
checks the tables agree with DuckDB's row for row.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from .case_finding import case_finding_sql
from .code_sets import code_tables
from .features import scripts
from .objections import kept_rows, objection_statements
from .persons import PERSON, PERSON_MAP
from .refresh import train_date_for
from .risk_model import ModelReport, train_and_score
from .segments import segment_sql
from .sof.views import compile_view
from .views_catalogue import VIEW_NAMES, view_definition

SparkSession = Any  # pyspark ships no type information

_CREATE = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+TABLE\s+(\w+)\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL)
_SPARK_TYPES = {"VARCHAR": "string", "INTEGER": "int", "DOUBLE": "double", "DATE": "date"}


def register_ndjson(spark: SparkSession, folder: Path, name: str = "resources") -> None:
    """Every `<Type>.ndjson` under folder as the temporary view `name` (resource_type, id, resource)."""
    from pyspark.sql import functions as f

    files = sorted(str(path) for path in folder.glob("**/*.ndjson"))
    frame = (
        spark.read.text(files)
        .withColumn("resource_type", f.regexp_extract(f.input_file_name(), r"([A-Za-z]+)\.ndjson$", 1))
        .select("resource_type", f.get_json_object("value", "$.id").alias("id"), f.col("value").alias("resource"))
    )
    frame.createOrReplaceTempView(name)


def to_spark(statement: str) -> tuple[str, str]:
    """A DuckDB `CREATE OR REPLACE TABLE name AS query` as (name, the query in Spark SQL)."""
    code = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
    found = _CREATE.match(code)
    if found is None:
        raise ValueError("only CREATE OR REPLACE TABLE ... AS statements are transpiled")
    query = sqlglot.transpile(found.group(2), read="duckdb", write="spark")[0]
    return found.group(1), query


def _table(spark: SparkSession, name: str, query: str) -> None:
    # Computed once here and cut from its lineage: a cached plan would carry every earlier statement's plan in
    # it (Spark builds their text on each use, which exhausts the driver's memory by the scores).
    spark.sql(query).localCheckpoint(eager=True).createOrReplaceTempView(name)


def _run(spark: SparkSession, statement: str) -> None:
    _table(spark, *to_spark(statement))


def spark_refresh(spark: SparkSession, index_date: date, source: str = "resources") -> ModelReport:
    """Every table of the DuckDB refresh, as cached temporary views in spark, from the `source` view."""
    for name in VIEW_NAMES:
        _table(spark, f"v_{name}", compile_view(view_definition(name), "spark", source).sql)
    _run(spark, PERSON_MAP)
    _run(spark, PERSON)
    for statement in objection_statements():  # people who objected to secondary use are left out (objections.py)
        _run(spark, statement)
    for name in VIEW_NAMES:
        _table(spark, f"v_{name}", to_spark(f"CREATE OR REPLACE TABLE v_{name} AS {kept_rows(f'v_{name}')}")[1])
    for name, (columns, rows) in code_tables().items():
        schema = ", ".join(f"{column.split()[0]} {_SPARK_TYPES[column.split()[1]]}" for column in columns.split(", "))
        spark.createDataFrame(rows, schema).createOrReplaceTempView(name)
    train_date = train_date_for(index_date)
    spark.createDataFrame([(train_date,), (index_date,)], "index_date date").createOrReplaceTempView("index_date")
    for statement in scripts():
        _run(spark, statement)
    report = _model(spark, train_date, index_date)
    _run(spark, segment_sql())
    _run(spark, case_finding_sql())
    return report


def _model(spark: SparkSession, train_date: date, index_date: date) -> ModelReport:
    """The same model code as on DuckDB, over the collected features; `risk` handed back to Spark."""
    con = duckdb.connect()
    features = spark.table("person_features").toPandas()
    con.register("collected_features", features)
    con.execute("CREATE TABLE person_features AS SELECT * FROM collected_features")
    report = train_and_score(con, train_date, index_date)
    risk = con.execute("SELECT * FROM risk").fetch_df()
    con.close()
    spark.createDataFrame(
        risk,
        "person_id string, index_date date, probability double, percentile double, factors array<string>, "
        "model_version string",
    ).createOrReplaceTempView("risk")
    return report
