"""The app's responsiveness on this machine, for the default model (pretrained MNIST ACAI when present):

1. slider change -> new strip, in the app's own code path (the acai calls the Interpolate page makes
   on a cache miss: the mix at one alpha, two strips and the cross-fade's critic), and through
   AppTest (a whole Streamlit rerun after moving the alpha slider)        target < 200 ms
2. `streamlit run` -> first interpolation rendered in headless Chromium    target < 15 s
3. t-SNE of the Latent space page's default sample (2,000 test images)
4. while a model trains on the Train page: clicking Pause -> the page answers     target < 1 s
5. peak memory (VmHWM) of the app process after all of the above

    python bench/app_latency.py
"""

from __future__ import annotations

import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads
ROOT = Path(__file__).resolve().parents[1]


def default_model():
    from acai import checkpoints

    # The app's own default: an MNIST ACAI model, official conv architecture first, smallest latent.
    manifests = {p: checkpoints.read_manifest(p)["config"] for p in (ROOT / "pretrained").iterdir()
                 if (p / "config.json").exists()}
    folder = min(manifests, key=lambda p: (manifests[p]["dataset"] != "mnist", manifests[p]["lam"] == 0,
                                           manifests[p]["architecture"] != "conv", manifests[p]["latent_size"]))
    return folder.name, checkpoints.load_checkpoint(folder)


def strip_latency(checkpoint, repeats: int = 20) -> list[float]:
    from acai import interpolation
    from acai.data import load_dataset

    data = load_dataset(checkpoint.config.dataset)
    networks = checkpoint.networks
    timings = []
    for repeat in range(repeats + 2):
        first, second = data.x_test[2 * repeat], data.x_test[2 * repeat + 1]  # new pair: no cache hit
        started = time.perf_counter()
        interpolation.interpolate(networks, first, second, [0.37], "lerp")
        interpolation.strip(networks, first, second, 8, "lerp")
        interpolation.strip(networks, first, second, 8, "lerp")  # the comparison model's strip
        interpolation.critic_alpha(networks, interpolation.pixel_crossfade(first, second, np.linspace(0, 1, 8)))
        if repeat >= 2:  # the first calls compile the predict functions
            timings.append(time.perf_counter() - started)
    return timings


def apptest_rerun(repeats: int = 8) -> list[float]:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    timings = []
    for repeat in range(repeats):
        app.slider(key="alpha").set_value(round(0.05 + 0.1 * repeat, 2))
        started = time.perf_counter()
        app.run()
        timings.append(time.perf_counter() - started)
    return timings


def browser_first_render() -> tuple[float, float, int]:
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
                               "--server.port", str(port), "--server.headless", "true"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                 args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}")
                    break
                except Exception:
                    time.sleep(0.2)
            page.get_by_text(re.compile(r"at alpha 0\.50")).first.wait_for(timeout=120_000)
            first_render = time.perf_counter() - started
            page.goto(f"http://127.0.0.1:{port}/latent")
            page.get_by_text("t-SNE", exact=True).first.click()
            tsne_started = time.perf_counter()
            page.get_by_text("Running t-SNE").first.wait_for(timeout=30_000)
            page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=300_000)
            tsne_seconds = time.perf_counter() - tsne_started
            pause_seconds = control_response(page, port)
            browser.close()
        peak_kib = int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{server.pid}/status").read_text()).group(1))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return first_render, tsne_seconds, pause_seconds, peak_kib


def control_response(page, port: int) -> list[float]:
    """While lines32 trains in the page: seconds from clicking Pause to the page showing Resume enabled."""
    page.goto(f"http://127.0.0.1:{port}/train")
    page.locator("[data-testid='stSelectbox']", has_text="Dataset").click()
    page.get_by_role("option", name="Lines (synthetic)").click()
    page.wait_for_timeout(1000)
    timings = []
    page.get_by_role("button", name="Start", exact=True).click()
    for _ in range(3):
        page.get_by_role("button", name="Resume").and_(page.locator(":disabled")).wait_for(timeout=60_000)
        page.wait_for_timeout(3000)  # let it train
        started = time.perf_counter()
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Resume").and_(page.locator(":enabled")).wait_for(timeout=60_000)
        timings.append(time.perf_counter() - started)
        page.get_by_role("button", name="Resume").click()
    return timings


def main() -> None:
    name, checkpoint = default_model()
    print(f"default model: {name} ({checkpoint.config.dataset}, latent {checkpoint.config.latent_size})")
    package = strip_latency(checkpoint)
    print(f"slider -> new strip, app code path (cache miss): median {statistics.median(package) * 1000:.0f} ms, "
          f"max {max(package) * 1000:.0f} ms (target < 200 ms)")
    rerun = apptest_rerun()
    print(f"slider -> new page, whole Streamlit rerun (AppTest): median {statistics.median(rerun) * 1000:.0f} ms")
    first_render, tsne_seconds, pause_seconds, peak_kib = browser_first_render()
    print(f"streamlit run -> first interpolation in Chromium: {first_render:.1f} s (target < 15 s)")
    print(f"t-SNE of the default 2,000-point sample, clicked in the browser: {tsne_seconds:.1f} s")
    print(f"Pause clicked while training -> page answers: {', '.join(f'{t:.2f}' for t in pause_seconds)} s "
          "(target < 1 s)")
    print(f"app process peak memory (VmHWM): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
