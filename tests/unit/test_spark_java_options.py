"""The local Spark driver's JVM options keep the user's own (spark-defaults.conf)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workup.audit.spark import LOCAL_JAVA_OPTIONS, _spark_defaults, driver_java_options


def test_no_user_options_gives_ours():
    assert driver_java_options(None) == LOCAL_JAVA_OPTIONS
    assert driver_java_options("  ") == LOCAL_JAVA_OPTIONS


def test_user_options_are_appended_not_replaced():
    assert driver_java_options("-Dlog4j.configuration=file:/x -Xss4m") == \
        "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dlog4j.configuration=file:/x -Xss4m"


def test_a_collector_the_user_chose_wins():
    got = driver_java_options("-XX:+UseG1GC")
    assert got == "-XX:TieredStopAtLevel=1 -XX:+UseG1GC"
    assert "UseSerialGC" not in got


def test_a_jit_tier_the_user_chose_wins():
    assert driver_java_options("-XX:TieredStopAtLevel=4") == "-XX:+UseSerialGC -XX:TieredStopAtLevel=4"


def test_spark_defaults_are_read_from_the_conf_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "spark-defaults.conf").write_text(
        "# a comment\nspark.executor.memory 2g\nspark.driver.extraJavaOptions   -Dfoo=1 -XX:+UseG1GC\n", encoding="utf-8")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert _spark_defaults("spark.driver.extraJavaOptions") == "-Dfoo=1 -XX:+UseG1GC"
    assert _spark_defaults("spark.driver.memory") is None


def test_no_conf_dir_means_no_user_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("SPARK_CONF_DIR", raising=False)
    monkeypatch.delenv("SPARK_HOME", raising=False)
    assert _spark_defaults("spark.driver.extraJavaOptions") is None
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path / "missing"))
    assert _spark_defaults("spark.driver.extraJavaOptions") is None
