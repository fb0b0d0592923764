"""The batch path on Apache Spark: the embedded path's own feature and scoring code,
run on a cluster's executors (``docs/scale.md``)."""
