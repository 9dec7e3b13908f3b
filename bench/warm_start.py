"""A race that fits a talk: time to separation from the shipped warm start against from fresh weights, side by
side in one run, each race then re-measured independently on its saved models.

For each seed, `python -m acai race --preset demo-lines --start race-starts/demo-lines-plain` (and, for the
--scratch-seeds, the same race without --start) runs for --seconds of race time and prints when it separated
(ACAI's Mean Distance on 64 pairs at most a third of the plain autoencoder's, and staying so at every later
evaluation). Then both saved sides are measured by the full lines benchmark (`acai.evaluation`: 256 pairs,
5 draws, the median), as `python -m acai eval` does, and the ratio baseline / ACAI printed (target >= 3).
Target for the warm start: separated within 60 s at 200 GFLOP/s of float32 matmul, scaled by this machine's.

    python bench/warm_start.py [--seeds 0 1 2] [--scratch-seeds 0] [--seconds 150]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads
ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "race-starts" / "demo-lines-plain"
TARGET_SECONDS, TARGET_RATE = 60.0, 200.0  # 60 s at 200 GFLOP/s


def race(seed: int, seconds: float, start: Path | None) -> dict:
    """One `python -m acai race` of demo-lines; its separation and both sides' full benchmark."""
    from acai import checkpoints, evaluation

    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "acai", "race", "--preset", "demo-lines", "--seconds", str(seconds),
                   "--seed", str(seed), "--out", f"{folder}/race"] + (["--start", str(start)] if start else [])
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if result.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
        found = re.search(r"separated after (\d+) s \(step (\d+)", result.stdout)
        rows = [line.split() for line in result.stdout.splitlines() if re.match(r"\s+\d+\.\d\s+\d+", line)]
        full = {side: evaluation.lines_benchmark_draws(checkpoints.load_checkpoint(f"{folder}/race/{side}").networks)
                for side in ("acai", "baseline")}
    return {"separated": (float(found.group(1)), int(found.group(2))) if found else None,
            "steps": int(rows[-1][1]) if rows else 0, "race_seconds": float(rows[-1][0]) if rows else seconds,
            "live_ratio": float(rows[-1][-1]) if rows else float("nan"),
            "full": {side: scores["mean_distance"] for side, scores in full.items()}}


def on_the_page(seconds: float, shots: Path | None) -> dict:
    """The Race page in headless Chromium: demo-lines, Warm start on (the default), Start; seconds of race time
    (the page's own "race seconds") until it says "Separated after", with screenshots while it races."""
    import shutil
    import time

    from playwright.sync_api import sync_playwright
    from race import CHROMIUM_ARGS, open_page, serve

    with serve() as (url, _, _started), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, f"{url}/race")  # demo-lines is the first preset
        page.get_by_role("button", name="Start", exact=True).wait_for(timeout=60_000)
        warm = page.get_by_role("switch", name="Warm start")
        if not warm.is_checked():
            raise SystemExit("the Race page's Warm start is off by default for demo-lines")
        page.get_by_role("button", name="Start", exact=True).click()
        separated, shot, begun = None, 0, time.perf_counter()
        while time.perf_counter() - begun < seconds and separated is None:
            page.wait_for_timeout(2000)
            banner = page.get_by_text("Separated after")
            if banner.count():
                separated = banner.first.inner_text()
            if shots is not None and time.perf_counter() - begun >= 30 * shot:
                page.screenshot(path=str(shots / f"warm-race-{shot:02d}.png"), full_page=True)
                shot += 1
        if shots is not None:
            page.screenshot(path=str(shots / "warm-race-end.png"), full_page=True)
        page.get_by_role("button", name="Pause").click()
        browser.close()
    return {"separated": separated, "wall": time.perf_counter() - begun}


def describe(name: str, results: list[dict], seconds: float) -> str:
    times = [r["separated"][0] if r["separated"] else float("inf") for r in results]
    each = ", ".join(f"{r['separated'][0]:.0f} s (step {r['separated'][1]:,})" if r["separated"]
                     else f"not within {seconds:.0f} s" for r in results)
    full = ", ".join(f"{r['full']['baseline'] / r['full']['acai']:.1f}x ({r['full']['baseline'] * 1e3:.2f} / "
                     f"{r['full']['acai'] * 1e3:.2f} e-3, step {r['steps']:,})" for r in results)
    return (f"{name}: separated after {each}; median {statistics.median(times):.0f} s\n"
            f"  re-measured (full lines benchmark, 256 pairs x 5 draws, baseline / ACAI): {full}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--scratch-seeds", type=int, nargs="*", default=[0], help="the same races from fresh weights")
    parser.add_argument("--seconds", type=float, default=150.0, help="race time of each warm race")
    parser.add_argument("--scratch-seconds", type=float, default=400.0)
    parser.add_argument("--start", type=Path, default=START)
    parser.add_argument("--page", action="store_true", help="also race once on the Race page in headless Chromium")
    parser.add_argument("--page-only", action="store_true")
    parser.add_argument("--page-seconds", type=float, default=480.0, help="the page's race: at most this long")
    parser.add_argument("--screenshots", type=Path, help="a folder for the page's screenshots while it races")
    args = parser.parse_args()
    from acai import checkpoints
    from acai.machine import machine_description, matmul_rate
    from acai.race import describe_start

    rate = matmul_rate() / 1e9
    print(f"{machine_description()}; float32 matmul {rate:.0f} GFLOP/s; target for the warm start: "
          f"{TARGET_SECONDS * TARGET_RATE / rate:.0f} s here ({TARGET_SECONDS:.0f} s at {TARGET_RATE:.0f} GFLOP/s)",
          flush=True)
    print(f"the warm start: {args.start.name}, {describe_start(checkpoints.load_checkpoint(args.start))}", flush=True)
    if args.page or args.page_only:
        result = on_the_page(args.page_seconds, args.screenshots)
        print(f"the Race page in Chromium (warm start, seed 0): {result['separated'] or 'not separated'} "
              f"({result['wall']:.0f} s of wall time after pressing Start)", flush=True)
        if args.page_only:
            return
    warm = [race(seed, args.seconds, args.start) for seed in args.seeds]
    print(describe(f"warm start, seeds {args.seeds}", warm, args.seconds), flush=True)
    if args.scratch_seeds:
        cold = [race(seed, args.scratch_seconds, None) for seed in args.scratch_seeds]
        print(describe(f"fresh weights, seeds {args.scratch_seeds}", cold, args.scratch_seconds), flush=True)
        pairs = [(w, c) for w, c in zip(warm, cold) if w["separated"] and c["separated"]]
        if pairs:
            print("warm / fresh, same seed: " + ", ".join(f"{c['separated'][0] / w['separated'][0]:.1f}x sooner"
                                                          for w, c in pairs))
    print(f"(machine at {matmul_rate() / 1e9:.0f} GFLOP/s at the end)")


if __name__ == "__main__":
    main()
