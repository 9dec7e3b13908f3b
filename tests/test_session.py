"""A browser session's own models are capped (least recently used first, and said), and its trainings pause
when Streamlit drops the session. Run in Streamlit's bare mode: st.session_state works without a server."""

import gc

import pytest
import streamlit as st

from acai.config import Config
from explorer import session


@pytest.fixture
def fresh_session():
    st.session_state.clear()
    yield session.current()
    st.session_state.clear()


def test_a_session_keeps_its_most_recently_used_models_and_says_which_went(fresh_session):
    config = Config(dataset="lines")
    entries = [session.add_session_model(f"m{index}", config, networks=f"networks {index}")
               for index in range(session.MAX_SESSION_MODELS)]
    assert session.networks_for(entries[0]) == "networks 0"  # used: now the most recent
    session.add_session_model("newest", config, networks="networks new")
    kept = [entry.label for entry, _ in fresh_session.models.values()]
    assert len(kept) == session.MAX_SESSION_MODELS and "m1 (this session)" not in kept
    assert kept[-2:] == ["m0 (this session)", "newest (this session)"]
    assert fresh_session.evicted == ["m1 (this session)"]


@pytest.mark.slow
def test_a_dropped_session_pauses_its_training(tiny_config, lines_dataset):
    from acai.driver import TrainingRun
    from acai.training import Trainer
    from explorer.live import LiveRun

    st.session_state.clear()
    live = LiveRun(TrainingRun(Trainer(tiny_config, lines_dataset)))
    session.current().training.live = live
    live.start()
    try:
        st.session_state.clear()  # what Streamlit does when the session ends
        gc.collect()
        assert not live.running
    finally:
        live.wait_paused()


def test_one_bad_folder_in_pretrained_is_skipped_with_a_warning_and_the_others_listed(tmp_path, caplog):
    import json
    import shutil
    from pathlib import Path

    from explorer import resources

    shipped = Path(__file__).resolve().parents[1] / "pretrained" / "mnist32-acai"
    for name, metrics in (("good", None), ("bad-metrics", ["fast"]), ("odd-value", {"mean_distance": "low"})):
        folder = shutil.copytree(shipped, tmp_path / name, ignore=shutil.ignore_patterns("*.h5", "*.npz"))
        if metrics is not None:
            manifest = json.loads((folder / "config.json").read_text())
            manifest["metrics"] = metrics
            (folder / "config.json").write_text(json.dumps(manifest))
    resources._scan.clear()
    entries = resources._scan(str(tmp_path))
    assert sorted(entry.label for entry in entries) == ["good", "odd-value"]
    assert dict(next(e for e in entries if e.label == "odd-value").metrics) == {}  # the bad value is dropped
    assert "skipping" in caplog.text and "bad-metrics" in caplog.text
