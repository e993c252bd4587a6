"""The pull byte counter: a layer's growth counts, its first report (a stored blob, a resumed download) does not."""

from __future__ import annotations

from pollama.metrics import ServerMetrics


def pulled(metrics: ServerMetrics) -> float:
    value = metrics.registry.get_sample_value("pollama_pull_bytes_total")
    assert value is not None
    return value


def test_a_download_counts_what_it_adds_after_its_first_report() -> None:
    metrics = ServerMetrics()
    counter = metrics.pull()
    counter.progress("", 0)
    counter.progress("sha256:aa", 100)
    counter.progress("sha256:aa", 400)
    counter.progress("sha256:aa", 1000)
    counter.progress("sha256:bb", 0)
    counter.progress("sha256:bb", 50)
    assert pulled(metrics) == 900 + 50


def test_a_blob_already_stored_counts_nothing() -> None:
    metrics = ServerMetrics()
    metrics.pull().progress("sha256:aa", 5000)
    assert pulled(metrics) == 0


def test_pulls_add_up_and_apps_do_not_share_counts() -> None:
    one, two = ServerMetrics(), ServerMetrics()
    for _ in range(2):
        counter = one.pull()
        counter.progress("sha256:aa", 0)
        counter.progress("sha256:aa", 10)
    assert pulled(one) == 20
    assert pulled(two) == 0
