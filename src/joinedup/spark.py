"""The one local-mode Spark session of a process, for every package that runs on Spark (linkage, views).

A JVM holds one SparkContext, and `getOrCreate` hands back whichever session started first. The person index's
Splink model needs Splink's similarity functions (jaro_winkler and friends) on the driver's class path, which only
a jar given when the JVM starts can provide, so every session is started with that jar, whoever starts it.
"""

from __future__ import annotations

from typing import Any


def local_session(app_name: str, cores: int = 2) -> Any:
    """A local-mode session sized for this machine: UI off, UTC, Splink's jar on the class path; nothing fetched."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .config("spark.default.parallelism", str(cores * 2))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
