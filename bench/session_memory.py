"""How many browser sessions with a trained model fit in this machine's memory.

Each simulated session is a real Streamlit session (AppTest on streamlit_app.py, in this one process, as
the server holds them): it opens the Train page, trains one step of the default lines model and saves it to
its models ("Save to my models"), then keeps SAVES more saves, as a visitor who saves often would (the
session keeps at most explorer.session.MAX_SESSION_MODELS). The resident memory after each session, less the
memory before the first, gives the cost of a session; the machine's available memory over it gives how many
fit. Closed sessions free theirs: the last line drops every session and measures what is left.

    python bench/session_memory.py [--sessions 6] [--saves 8]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from streamlit.testing.v1 import AppTest  # noqa: E402

from acai.machine import machine_description  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def available_mb() -> float:
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    return int(fields["MemAvailable"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--saves", type=int, default=8)
    args = parser.parse_args()
    print(f"machine: {machine_description()}; available memory {available_mb():,.0f} MB", flush=True)
    warm = AppTest.from_file(APP, default_timeout=300).run()  # TensorFlow and the app's modules loaded once
    warm.switch_page("app_pages/train.py").run()
    warm.selectbox(key="train_dataset").set_value("lines").run()
    warm.button(key="train_step").click().run()
    del warm
    gc.collect()
    base = resident_mb()
    print(f"after loading the app and TensorFlow: {base:,.0f} MB resident")
    sessions = []
    for index in range(args.sessions):
        app = AppTest.from_file(APP, default_timeout=300).run()
        app.switch_page("app_pages/train.py").run()
        app.selectbox(key="train_dataset").set_value("lines").run()
        app.button(key="train_step").click().run()
        for _ in range(args.saves):
            app.button(key="save_model").click().run()
        kept = len(app.session_state["acai"].models)
        sessions.append(app)
        gc.collect()
        grown = resident_mb() - base
        print(f"{index + 1} session(s), {kept} models kept each: +{grown:,.0f} MB "
              f"({grown / (index + 1):,.1f} MB per session)", flush=True)
    per_session = (resident_mb() - base) / len(sessions)
    print(f"about {available_mb() / max(per_session, 1e-9):,.0f} more such sessions fit in the available memory")
    sessions.clear()
    gc.collect()
    print(f"all sessions dropped: +{resident_mb() - base:,.0f} MB left over the start", flush=True)


if __name__ == "__main__":
    sys.exit(main())
