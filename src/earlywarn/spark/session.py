"""The Spark session earlywarn runs on: which cluster, and the settings its results need.

The master comes from ``--spark-master``, else ``SPARK_MASTER``, else ``spark-submit``
(which has already started the session) or ``spark.master`` in ``spark-defaults.conf``
(read by Spark itself from ``SPARK_CONF_DIR``), else this machine's cores (``local[*]``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)
LOCAL_DRIVER_MEMORY = "6g"  # collects the list's rows; Spark's own default (1g) is too small


class SparkUnavailableError(RuntimeError):
    """PySpark or a Java runtime is missing: the message says how to install them."""


def _configured_master() -> str | None:
    """``spark.master`` from spark-defaults.conf, if the configuration directory has one."""
    folder = os.environ.get("SPARK_CONF_DIR") or (
        str(Path(os.environ["SPARK_HOME"]) / "conf") if "SPARK_HOME" in os.environ else None
    )
    if folder is None or not (Path(folder) / "spark-defaults.conf").is_file():
        return None
    for line in (Path(folder) / "spark-defaults.conf").read_text(encoding="utf-8").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == "spark.master":
            return parts[1].strip()
    return None


def spark_session(master: str | None = None) -> SparkSession:
    """The session for this run (an existing one is reused, as under spark-submit)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # the optional extra is not installed
        raise SparkUnavailableError(
            "PySpark is not installed: pip install 'earlywarn[spark]' (and a Java 17+ runtime)"
        ) from error
    # Executors run the same Python as the driver unless the cluster says otherwise
    # (a cluster sets PYSPARK_PYTHON to its own interpreter with earlywarn installed).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    chosen = master or os.environ.get("SPARK_MASTER")
    if chosen is None and not under_submit and _configured_master() is None:
        chosen = "local[*]"
    builder = SparkSession.builder.appName("earlywarn")
    if chosen is not None:
        builder = builder.master(chosen)
    if chosen is not None and chosen.startswith("local"):
        builder = builder.config("spark.driver.memory", LOCAL_DRIVER_MEMORY).config(
            "spark.ui.enabled", "false"
        )
    # Timestamps are the office's local wall-clock time, stored without a zone: UTC
    # keeps Spark from shifting them.
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # A task is Spark's unit of parallelism: one core each, not a pool per task
        # fighting the other tasks for the cores.
        .config("spark.executorEnv.POLARS_MAX_THREADS", "1")
        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Java missing or the master unreachable: say which
        raise SparkUnavailableError(
            f"could not start Spark (master {chosen or 'from the configuration'}): {error}; "
            "a Java 17+ runtime must be on PATH or JAVA_HOME"
        ) from error
    session.sparkContext.setLogLevel("ERROR")
    # py4j says INFO on every connection it closes, even at interpreter exit.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    _plain_interrupts()
    logger.info("spark session: master %s", session.sparkContext.master)
    return session


def _plain_interrupts() -> None:
    """Ctrl-C during a job says "Aborted!" and stops: PySpark's own handler asks the JVM
    to cancel the jobs from inside the very call it interrupts, and py4j logged that
    failure with 80 lines of traces. Leaving, the driver closes the JVM's pipe, and the
    JVM and its tasks end with it."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set a signal handler

    def interrupted(signal_number: int, frame: object) -> None:
        logging.getLogger("py4j").setLevel(logging.CRITICAL)  # its closing connections
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    logging.getLogger().addFilter(_without_py4j_interrupts)


def _without_py4j_interrupts(record: logging.LogRecord) -> bool:
    """py4j logs an interrupted call on the root logger, with its trace."""
    return not ("py4j" in record.pathname and str(record.msg).endswith("while sending command."))
