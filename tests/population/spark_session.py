"""One local Spark session per test process, shared by every population and conformance test that needs Spark.

Spark tests carry `xdist_group("spark")`, so with `--dist loadgroup` they all run in one worker and start the JVM
once. The session is left for the process's exit to stop.
"""

from __future__ import annotations

import functools
import shutil
from typing import Any

import pytest


@functools.cache
def _session() -> Any:
    from joinedup.population.sof.spark_runner import local_session

    session = local_session(cores=2)
    # Test views are tiny: compiling whole-stage Java for each nested lambda costs more than it saves.
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    return session


def spark_session() -> Any:
    if shutil.which("java") is None:
        pytest.skip("Java is absent: pyspark local mode needs a JVM (`bash scripts/ensure-java.sh` installs one)")
    session = _session()
    if session.sparkContext._jsc is None:  # stopped by another module's fixture: start afresh
        _session.cache_clear()
        session = _session()
    return session
