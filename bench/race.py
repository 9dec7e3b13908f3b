"""Live training speed and the race, side by side in one run on this machine:

1. steps/s of the command line's loop (acai.driver, as `python -m acai train` runs it) for the paper's
   lines32 model, and of the race loop (as `python -m acai race` runs it) for demo-lines;
2. steps/s of the same trainings in the app, with the page open in headless Chromium and its charts
   updating: the Train page training lines32, the Race page racing demo-lines; the ratio page / CLI
   (target >= 85%);
3. seconds from pressing Start to separation (ACAI's lines Mean Distance on 64 pairs at most a third of
   the baseline's, and staying so) for each demo preset and the paper's lines32, from `python -m acai race`.

    python bench/race.py [--seconds 40] [--seeds 0 1 2] [--race-seconds 180] [--paper-seeds 0]

Every timing is printed beside the machine's float32 matmul rate.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TRAIN_PAGE_EVAL_EVERY = 200  # explorer.page_train.EVAL_EVERY (not imported: that would load Streamlit here)


def cli_speed(preset: str, seconds: float, race: bool, eval_every: int = 0) -> float:
    """Steps/s of the command line's loop after compilation (a race's step trains both models); a single
    model is evaluated every `eval_every` steps (0: never, as `python -m acai train` by default)."""
    code = f"""
import time
from acai.config import PRESETS
from acai.data import load_dataset
from acai.cli import CLI_CHUNK
from acai.driver import TrainingRun
from acai.race import Race, eval_every_for
from acai.training import Trainer
config = PRESETS[{preset!r}]
data = load_dataset(config.dataset)
if {race}:
    target, chunk = Race(config, data, eval_every=eval_every_for({preset!r})), eval_every_for({preset!r})
else:
    target, chunk = TrainingRun(Trainer(config, data), eval_every={eval_every}), CLI_CHUNK
target.advance(2)  # compile
start_step, started = target.step, time.perf_counter()
while time.perf_counter() - started < {seconds}:
    target.advance(chunk)
print((target.step - start_step) / (time.perf_counter() - started))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _metric(page, label: str) -> int:
    metric = page.locator("[data-testid='stMetric']", has_text=label).first
    return int(metric.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc; gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def chromium_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "chromium"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


@contextlib.contextmanager
def serve(env: dict[str, str] | None = None):
    """`streamlit run` on a free localhost port: yields (url, the server's pid, when it was started)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    profile = os.environ.get("ACAI_BENCH_PROFILE")  # a file: sample the server with py-spy (it can only start it)
    if profile:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        command = [spy, "record", "--threads", "--nonblocking", "--rate", "50", "--format", "raw", "-o", profile, "--",
                   *command]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid = _profiled_child(server.pid) if profile else server.pid
    try:
        yield f"http://127.0.0.1:{port}", pid, started
    finally:
        if profile:
            os.kill(pid, 15)  # py-spy writes its file when the server ends
            server.wait(timeout=60)
        server.terminate()
        server.wait(timeout=30)


def _profiled_child(pid: int) -> int:
    """The server's own pid under py-spy (its CPU and memory are what the benches measure)."""
    deadline = time.time() + 30
    while time.time() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("py-spy did not start the server")


def open_page(page, url: str, seconds: float = 60) -> None:
    """page.goto(url), retried while the fresh server is not listening yet."""
    deadline = time.time() + seconds
    while True:
        try:
            page.goto(url)
            return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.3)


def page_speeds(seconds: float) -> tuple[dict, dict]:
    """What the open page trains, (Train page, lines32) and (Race page, demo-lines): each
    {"steps_per_second", "server_cores", "browser_cores"}, the cores being the CPU the Streamlit server and
    Chromium used during the measuring window (where the time goes: 2 cores in all)."""
    from playwright.sync_api import sync_playwright

    with serve() as (url, server_pid, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, f"{url}/train")
        page.locator("[data-testid='stSelectbox']", has_text="Dataset").click()
        page.get_by_role("option", name="Lines (synthetic)").click()
        page.wait_for_timeout(1500)
        train = _watch(page, "Start", "step", seconds, server_pid)
        page.get_by_role("button", name="Pause").click()
        page.goto(f"{url}/race")
        race = _watch(page, "Start", "step (each model)", seconds, server_pid)
        page.get_by_role("button", name="Pause").click()
        browser.close()
    return train, race


def _watch(page, button: str, label: str, seconds: float, server_pid: int) -> dict:
    page.get_by_role("button", name=button, exact=True).click()
    deadline = time.time() + 120
    while time.time() < deadline:  # past compilation and the first chunks
        try:
            if _metric(page, label) >= 5:
                break
        except Exception:
            pass
        page.wait_for_timeout(250)
    first, started = _metric(page, label), time.perf_counter()
    server_cpu, browser_cpu = cpu_seconds([server_pid]), cpu_seconds(chromium_pids())
    page.wait_for_timeout(seconds * 1000)
    elapsed = time.perf_counter() - started
    return {"steps_per_second": (_metric(page, label) - first) / elapsed,
            "server_cores": (cpu_seconds([server_pid]) - server_cpu) / elapsed,
            "browser_cores": (cpu_seconds(chromium_pids()) - browser_cpu) / elapsed}


def time_to_separation(preset: str, seconds: float, seed: int) -> tuple[float | None, str]:
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run([sys.executable, "-m", "acai", "race", "--preset", preset, "--seconds", str(seconds),
                                 "--seed", str(seed), "--out", f"{folder}/race"], capture_output=True, text=True,
                                cwd=ROOT, check=True)
    found = re.search(r"separated after (\d+) s", result.stdout)
    last = [line for line in result.stdout.splitlines() if re.match(r"\s+\d+\.\d\s+\d+", line)]
    return (float(found.group(1)) if found else None), (last[-1].split()[-1] if last else "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="measuring window for each speed")
    parser.add_argument("--race-seconds", type=float, default=180.0, help="race length for time to separation")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--presets", nargs="*", default=["demo-lines"])
    parser.add_argument("--paper-seeds", type=int, nargs="*", default=[0],
                        help="seeds of the paper's lines32 race, for comparison (none: skip it)")
    parser.add_argument("--skip-page", action="store_true")
    args = parser.parse_args()
    from acai.machine import machine_description, matmul_rate

    rate = matmul_rate() / 1e9
    # One 2048 matmul, one run: the single-size rate that older figures quoted.
    single = matmul_rate(sizes=(2048,), repeats=1, seconds=3.0) / 1e9
    print(f"{machine_description()}; float32 matmul {rate:.0f} GFLOP/s (best of sizes and repeats), "
          f"{single:.0f} GFLOP/s (one 2048x2048 run)", flush=True)
    cli_train = cli_speed("lines32", args.seconds, race=False)
    cli_train_eval = cli_speed("lines32", args.seconds, race=False, eval_every=TRAIN_PAGE_EVAL_EVERY)
    cli_race = cli_speed("demo-lines", args.seconds, race=True)
    print(f"CLI loop, lines32, one model:        {cli_train:6.2f} steps/s", flush=True)
    print(f"CLI loop, lines32, evaluated every {TRAIN_PAGE_EVAL_EVERY} steps as the Train page does: "
          f"{cli_train_eval:6.2f} steps/s", flush=True)
    print(f"CLI race loop, demo-lines, two models: {cli_race:6.2f} steps/s (each step trains both)", flush=True)
    if not args.skip_page:
        page_train, page_race = page_speeds(args.seconds)
        for name, speed, cli in (("Train page in Chromium, lines32:  ", page_train, cli_train),
                                 ("Race page in Chromium, demo-lines:", page_race, cli_race)):
            extra = (f", {speed['steps_per_second'] / cli_train_eval:.0%} of the CLI with the page's evaluations"
                     if cli is cli_train else "")
            print(f"{name} {speed['steps_per_second']:6.2f} steps/s = {speed['steps_per_second'] / cli:.0%} of the CLI "
                  f"(target >= 85%){extra}; CPU: server {speed['server_cores']:.2f} cores, Chromium "
                  f"{speed['browser_cores']:.2f} cores", flush=True)
    races = [(preset, args.seeds) for preset in args.presets] + ([("lines32", args.paper_seeds)] if args.paper_seeds else [])
    for preset, seeds in races:
        results = [time_to_separation(preset, args.race_seconds, seed) for seed in seeds]
        times = [t if t is not None else float("inf") for t, _ in results]
        shown = ", ".join(f"{t:.0f} s" if t is not None else f"not within {args.race_seconds:.0f} s" for t, _ in results)
        median = statistics.median(times)
        target = 60 * 200 / single
        print(f"time to separation, {preset}: median {median:.0f} s over seeds {seeds} ({shown}; final ratios "
              f"{', '.join(ratio for _, ratio in results)}); target at this matmul rate: {target:.0f} s", flush=True)


if __name__ == "__main__":
    main()
