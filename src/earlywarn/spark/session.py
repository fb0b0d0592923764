"""The Spark session earlywarn runs on: which cluster, and the settings its results need.

The master comes from ``--spark-master``, else ``SPARK_MASTER``, else ``spark-submit``
(which has already started the session) or ``spark.master`` in ``spark-defaults.conf``
(read by Spark itself from ``SPARK_CONF_DIR``), else this machine's cores (``local[*]``).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)
LOCAL_DRIVER_MEMORY = "6g"  # collects the list's rows; Spark's own default (1g) is too small
_PANDAS_WARNING = "PySpark does not yet fully support pandas"


class SparkUnavailableError(RuntimeError):
    """PySpark or a Java runtime is missing: the message says how to install them."""


def _configured(name: str) -> str | None:
    """A setting from spark-defaults.conf (``spark.master``), if the configuration
    directory has one."""
    folder = os.environ.get("SPARK_CONF_DIR") or (
        str(Path(os.environ["SPARK_HOME"]) / "conf") if "SPARK_HOME" in os.environ else None
    )
    if folder is None or not (Path(folder) / "spark-defaults.conf").is_file():
        return None
    for line in (Path(folder) / "spark-defaults.conf").read_text(encoding="utf-8").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == name:
            return parts[1].strip()
    return None


# (words in Spark's error, what it means and what to do, in both languages)
_START_FAILURES = (
    (("HADOOP_CONF_DIR", "YARN_CONF_DIR"), "master yarn needs HADOOP_CONF_DIR or "
     "YARN_CONF_DIR set to the cluster's configuration folder (需要设置 Hadoop 配置目录)"),
    (("Master must", "Could not parse Master URL", "Invalid master URL"), "not a master "
     "Spark knows: local[N], spark://host:7077, yarn or k8s://https://host (Spark 主节点"
     "地址有误)"),
    (("Connection refused", "All masters are unresponsive", "Failed to connect"), "nothing "
     "answers at that master: is the cluster up, and the host and port right? (无法连接 "
     "Spark 主节点)"),
)  # fmt: skip


def start_failure(chosen: str | None, error: BaseException) -> str:
    """Why a session could not start, in one line: the master URL, a cluster's
    configuration, an unreachable master, or Java (every failure was blamed on Java)."""
    said = str(error)
    first = said.strip().splitlines()[0] if said.strip() else type(error).__name__
    hint = next((words for found, words in _START_FAILURES if any(f in said for f in found)), None)
    if hint is None:
        java = os.environ.get("JAVA_HOME")
        java_ok = shutil.which("java") is not None or (
            java is not None and (Path(java) / "bin" / "java").exists()
        )
        hint = (
            "see Spark's log above" if java_ok
            else "a Java 17+ runtime must be on PATH or JAVA_HOME (未找到 Java 运行环境)"
        )  # fmt: skip
    return f"could not start Spark (master {chosen or 'from the configuration'}): {hint} ({first})"


def spark_session(master: str | None = None) -> SparkSession:
    """The session for this run (an existing one is reused, as under spark-submit)."""
    # Our stages hand Spark Arrow tables, never pandas frames: PySpark's warning about
    # pandas 3 (printed by the driver and every executor) concerns nothing we run.
    warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # the optional extra is not installed
        raise SparkUnavailableError(
            "PySpark is not installed: pip install 'earlywarn[spark]' (and a Java 17+ "
            "runtime) (未安装 PySpark)"
        ) from error
    # Executors run the same Python as the driver unless the cluster says otherwise
    # (a cluster sets PYSPARK_PYTHON to its own interpreter with earlywarn installed).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    chosen = master or os.environ.get("SPARK_MASTER")
    if chosen is None and not under_submit and _configured("spark.master") is None:
        chosen = "local[*]"
    builder = SparkSession.builder.appName("earlywarn")
    if chosen is not None:
        builder = builder.master(chosen)
    if chosen is not None and chosen.startswith("local"):
        # Spark's own places first (SPARK_DRIVER_MEMORY, spark-defaults.conf): a laptop
        # of 8 GB, or a desktop giving a province 16, says so there.
        memory = (
            os.environ.get("SPARK_DRIVER_MEMORY")
            or _configured("spark.driver.memory")
            or LOCAL_DRIVER_MEMORY
        )
        builder = builder.config("spark.driver.memory", memory).config("spark.ui.enabled", "false")
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
        .config("spark.executorEnv.PYTHONWARNINGS", f"ignore:{_PANDAS_WARNING}:FutureWarning")
    )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Java missing or the master unreachable: say which
        raise SparkUnavailableError(start_failure(chosen, error)) from error
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
