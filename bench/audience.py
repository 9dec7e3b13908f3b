"""A room full of people on one app server, measured against `streamlit run`:

1. first paint: seconds from `streamlit run` until a fresh Chromium shows the Interpolate page's controls
   (the alpha slider), and until it shows the first interpolation;
2. the room: N viewers (default 200) that speak Streamlit's own protocol (bench/streamlit_viewer.py: its
   websocket and protobuf messages, and the images they carry or name, without rendering) arrive over
   --arrive seconds, then each moves alpha by one notch and looks at the result for 2-6 s (--pause) before
   moving again. Beside them, in the same run, B real Chromium pages (default 3) do the same, so the protocol
   viewers' latency can be checked against a browser's. A move's latency is from the message sent (the key
   press, in Chromium) to the new image's bytes received (on screen, in Chromium); p50 / p95 / max, errors
   (target: p95 < 1 s, no errors), the server's CPU and memory. The protocol viewers run in a process of their
   own, and both sides print their event loop's lateness, which every latency they measure includes;
   --move-cost IDLE...: the server's CPU per move of one viewer moving 202 times in a row, with that many idle
   sessions open beside it (what a move costs, and how that grows with the sessions open); --open-cost N: the
   server's CPU per fresh session's first run of the page, N one after another (what each newcomer costs);
3. trainings: K sessions (default 4) press Start on the Train page (lines32, the paper's lines model);
   the process's total steps/s against one `python -m acai train` of the same config, for each setting of
   ACAI_TRAINING_SLOTS given (default: the app's own default, and K, which lets them all train at once).

Everything runs on this one machine, on localhost: the viewers' and browsers' own work takes CPU from the
server, which a real audience's laptops would not. Every figure is printed beside the machine's float32 matmul
rate.

    python bench/audience.py [--viewers 200] [--browsers 3] [--moves 8] [--arrive 60] [--trainers 4] ...
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import queue
import random
import shutil
import time

import websockets
from race import CHROMIUM_ARGS, cli_speed, cpu_seconds, serve
from streamlit_viewer import Viewer, ViewerError

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads
# Every viewer's tab is in front of somebody: Chromium must not throttle the pages it thinks are hidden.
ALPHA = "alpha (0 = A, 1 = B)"  # the Interpolate page's slider
MAX_VIEWERS = 1000  # bounded: a bench, not a load generator for other people's servers (and localhost only)
VIEWER_ARGS = CHROMIUM_ARGS + ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                               "--disable-backgrounding-occluded-windows"]


# Whether the big mix with the new alpha is on screen: its caption says the alpha and its image has loaded (the
# protocol viewers wait for the image's bytes too). A cheap look at the captions only, every 25 ms while a move
# waits (Playwright's text locators search the whole page on each poll: twenty of them load 2 cores).
SHOWS_MIX = """(text) => [...document.querySelectorAll("[data-testid='stCaptionContainer']")].some(caption => {
    if (!caption.textContent.includes(text)) return false;
    let box = caption.parentElement;
    for (let up = 0; up < 3 && box && !box.querySelector("img"); up++) box = box.parentElement;
    const image = box && box.querySelector("img");
    return !image || (image.complete && image.naturalWidth > 0);
})"""


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores; /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def _open(page, url: str, seconds: float = 90) -> None:
    deadline = time.perf_counter() + seconds
    while True:
        try:
            await page.goto(url)
            return
        except Exception:
            if time.perf_counter() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _first_paint(browser, url: str, started: float) -> tuple[float, float, str]:
    """Seconds to the controls and to the first interpolation, and what the page opened on: its dataset and
    model, and the notice it shows when the preferred dataset could not be loaded (an offline machine without
    ACAI_DATA_DIR opens on Lines, after a failed download: a different room from MNIST's)."""
    page = await browser.new_page()
    await _open(page, url)
    await page.get_by_role("slider", name=ALPHA).wait_for(timeout=120_000)
    controls = time.perf_counter() - started
    await page.get_by_text("at alpha 0.50").first.wait_for(timeout=120_000)
    interpolation = time.perf_counter() - started
    boxes = []
    for label in ("Dataset", "Model"):
        box = page.locator("[data-testid='stSelectbox']", has_text=label).locator("input").first
        boxes.append(f"{label.lower()} {await box.input_value()}")
    notices = [" ".join(text.split())[:160] for text in await page.locator("[data-testid='stAlert']").all_inner_texts()]
    await page.close()
    return controls, interpolation, "; ".join(boxes + [f"notice: {text}" for text in notices])


async def _viewer(browser, url: str, moves: int, pause: tuple[float, float], latencies: list[float],
                  errors: list[str], everyone_in: asyncio.Barrier, parts: list[tuple[float, float]]) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    slider = page.get_by_role("slider", name=ALPHA)
    # When the page sent its messages and when the answers arrived: a move's latency splits into the page's own
    # delay before it sends, the server's answer with the image's bytes (what a protocol viewer measures: the
    # app's frames come inside the websocket's messages as data: URLs, other pictures from the media endpoint),
    # and the drawing.
    sent, arrived = [], []

    def watch(socket) -> None:
        socket.on("framesent", lambda _: sent.append(time.perf_counter()))
        socket.on("framereceived", lambda _: arrived.append(time.perf_counter()))

    page.on("websocket", watch)
    page.on("requestfinished", lambda request: arrived.append(time.perf_counter()) if "/media/" in request.url
            else None)
    try:
        await _open(page, url)
        await page.get_by_text("at alpha 0.50").first.wait_for(timeout=120_000)
    except Exception as error:
        errors.append(f"the page did not open: {type(error).__name__}")
        moves = 0
    await everyone_in.wait()  # the room has opened the address; now everyone plays with alpha
    alpha = 50
    for move in range(moves):
        await asyncio.sleep(random.uniform(*pause))
        alpha += 1
        await slider.focus()
        begun = time.perf_counter()
        await slider.press("ArrowRight")
        try:
            await page.wait_for_function(SHOWS_MIX, arg=f"at alpha {alpha / 100:.2f}", polling=25,
                                         timeout=30_000)
            shown = time.perf_counter()
            latencies.append((move, shown - begun))
            message = next((at for at in sent if at >= begun), None)
            answers = [at for at in arrived if message is not None and message <= at <= shown]
            if answers:  # the last answer before the mix was on screen: its image, or the message carrying it
                parts.append((message - begun, max(answers) - message))
        except Exception as error:  # a timeout counts as an error, not as a latency
            errors.append(f"alpha {alpha / 100:.2f}: {type(error).__name__}")
    if await page.locator("[data-testid='stException']").count():
        errors.append("an exception on the page")
    await context.close()


async def _protocol_viewer(url: str, moves: int, pause: tuple[float, float], arrival: float, result: dict,
                           room_in: asyncio.Barrier, go: asyncio.Event) -> None:
    """One member of the room, over Streamlit's protocol: arrives, waits for the room, moves alpha `moves` times."""
    viewer = Viewer(url)
    try:
        await asyncio.sleep(arrival)
        try:
            result["opened"].append(await viewer.open())
        finally:
            await room_in.wait()  # counted in even when its page failed: the room does not wait forever
        await go.wait()
        alpha = 50
        for move in range(moves):
            await asyncio.sleep(random.uniform(*pause))
            alpha += 1
            result["latencies"].append((move, await viewer.move(ALPHA, alpha / 100, shows=f"at alpha {alpha / 100:.2f}")))
    except ViewerError as error:
        result["errors"].append(str(error))
    except (OSError, websockets.WebSocketException) as error:  # refused, reset: the server did not hold
        result["errors"].append(f"{type(error).__name__}: {error}")
    finally:
        result["received"] += viewer.received_bytes
        await viewer.close()


async def _lag(lags: list[float], every: float = 0.05) -> None:
    """How late this process's event loop wakes (sleeps of `every` s, until cancelled): the measurer's own delay,
    which every latency it measures includes."""
    while True:
        begun = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - begun - every)


async def _viewers(url: str, count: int, moves: int, pause: tuple[float, float], arrive: float, room_in, go) -> dict:
    room_is_in, start = asyncio.Barrier(count + 1), asyncio.Event()
    result = {"opened": [], "latencies": [], "errors": [], "received": 0, "lags": []}
    tasks = [asyncio.create_task(_protocol_viewer(url, moves, pause, arrive * i / max(count, 1), result, room_is_in,
                                                  start)) for i in range(count)]
    await room_is_in.wait()
    room_in.set()
    await asyncio.to_thread(go.wait)
    start.set()
    lag, cpu, begun = asyncio.create_task(_lag(result["lags"])), time.process_time(), time.perf_counter()
    await asyncio.gather(*tasks)
    lag.cancel()
    result["cores"] = (time.process_time() - cpu) / (time.perf_counter() - begun)
    return result


def _viewers_process(url: str, count: int, moves: int, pause: tuple[float, float], arrive: float, room_in, go,
                     results) -> None:
    """The protocol viewers in a process of their own, apart from Playwright's events, so that neither side's
    latencies can include the other's work; each side measures its own event loop's lateness to show it did not
    (docs/BENCHMARKS.md, "The room")."""
    results.put(asyncio.run(_viewers(url, count, moves, pause, arrive, room_in, go)))


def _until_set(event, process) -> None:
    """Wait for the viewers' process to set `event`; RuntimeError if it dies first (never wait forever)."""
    while not event.wait(1.0):
        if not process.is_alive():
            raise RuntimeError(f"the protocol viewers' process ended (exit code {process.exitcode}) before the room was in")


def _result(results, process) -> dict:
    """The viewers' process's result; RuntimeError if it dies without one."""
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"the protocol viewers' process ended (exit code {process.exitcode}) "
                                   "without its result") from None


async def room(count: int, browsers: int, moves: int, pause: tuple[float, float], arrive: float) -> dict:
    """`count` protocol viewers (a process of their own) and `browsers` Chromium pages on one server, the same
    moves; their latencies apart."""
    from playwright.async_api import async_playwright

    spawn = multiprocessing.get_context("spawn")
    room_in, go, results = spawn.Event(), spawn.Event(), spawn.Queue()
    with serve() as (url, server_pid, started):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=VIEWER_ARGS)
            controls, interpolation, opened_on = await _first_paint(browser, url, started)
            pages_in = asyncio.Barrier(browsers + 1)
            pages = {"latencies": [], "errors": [], "parts": [], "lags": []}
            begun_arriving = time.perf_counter()
            viewers_process = spawn.Process(target=_viewers_process, daemon=True,
                                            args=(url, count, moves, pause, arrive, room_in, go, results))
            viewers_process.start()
            tasks = [asyncio.create_task(_viewer(browser, url, moves, pause, pages["latencies"], pages["errors"],
                                                 pages_in, pages["parts"])) for _ in range(browsers)]
            await asyncio.to_thread(_until_set, room_in, viewers_process)
            await pages_in.wait()
            arrived = time.perf_counter() - begun_arriving
            memory_in = memory_mib(server_pid)
            cpu, machine_cpu, begun = cpu_seconds([server_pid]), busy_seconds(), time.perf_counter()
            go.set()
            lag, own_cpu = asyncio.create_task(_lag(pages["lags"])), time.process_time()
            await asyncio.gather(*tasks)
            viewers = await asyncio.to_thread(_result, results, viewers_process)
            elapsed = time.perf_counter() - begun
            lag.cancel()
            pages["cores"] = (time.process_time() - own_cpu) / elapsed
            server_cpu = (cpu_seconds([server_pid]) - cpu) / elapsed
            machine_cpu = (busy_seconds() - machine_cpu) / elapsed
            memory = memory_mib(server_pid)
            viewers_process.join(timeout=30)
            await browser.close()
    return {"first_controls": controls, "first_interpolation": interpolation, "opened_on": opened_on,
            "viewers": viewers, "pages": pages,
            "arrived": arrived, "server_cores": server_cpu, "machine_cores": machine_cpu, "memory_in": memory_in,
            "memory": memory}


async def move_cost(idle_counts: list[int], moves: int = 202) -> list[dict]:
    """The server's CPU per move of one protocol viewer moving alpha `moves` times in a row, with more and more
    idle sessions open beside it (each count in `idle_counts`, ascending): what a move costs, and how that grows
    with the room."""
    results = []
    with serve() as (url, server_pid, _):
        mover, idle = await _first_viewer(url), []
        await _moves(mover, 101, server_pid)  # every alpha decoded once, into the shared caches
        for count in idle_counts:
            while len(idle) < count:
                idle.append(Viewer(url))
                await idle[-1].open()
            await asyncio.sleep(3)
            cpu = cpu_seconds([server_pid])
            await asyncio.sleep(3)
            quiet = (cpu_seconds([server_pid]) - cpu) / 3
            results.append({"idle": count, "idle_server_cores": quiet, **await _moves(mover, moves, server_pid)})
        for viewer in [mover, *idle]:
            await viewer.close()
    return results


async def open_cost(count: int) -> dict:
    """The server's CPU per fresh session opening the Interpolate page (its first run), `count` of them one after
    another, once the first visitor has loaded the model and the dataset: what each newcomer to a room costs."""
    with serve() as (url, server_pid, _):
        viewers = [await _first_viewer(url)]
        await asyncio.sleep(2)
        cpu, seconds = cpu_seconds([server_pid]), []
        for _ in range(count):
            viewers.append(Viewer(url))
            seconds.append(await viewers[-1].open())
        result = {"cpu_per_open": (cpu_seconds([server_pid]) - cpu) / count, "p50": percentile(seconds, 0.5)}
        for viewer in viewers:
            await viewer.close()
    return result


async def _first_viewer(url: str) -> Viewer:
    """A viewer that has opened the page of a server just started (which may not listen yet)."""
    viewer, deadline = Viewer(url), time.perf_counter() + 90
    while True:
        try:
            await viewer.open()
            return viewer
        except OSError:
            if time.perf_counter() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _moves(viewer: Viewer, count: int, server_pid: int) -> dict:
    cpu, latencies = cpu_seconds([server_pid]), []
    for move in range(count):
        alpha = move % 101 / 100
        latencies.append(await viewer.move(ALPHA, alpha, shows=f"at alpha {alpha:.2f}"))
    return {"cpu_per_move": (cpu_seconds([server_pid]) - cpu) / count, "p50": percentile(latencies, 0.5)}


def memory_mib(pid: int) -> dict[str, float]:
    """The process's resident memory now and at its peak (VmRSS, VmHWM), MiB."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95: p95)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def describe(latencies: list[float]) -> str:
    return (f"{len(latencies)} answered, p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 "
            f"{percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies, default=float('nan')) * 1000:.0f} ms")


async def _steps(page) -> int:
    metric = page.locator("[data-testid='stMetric']", has_text="step").first
    return int((await metric.locator("[data-testid='stMetricValue']").inner_text()).replace(",", ""))


async def trainings(count: int, seconds: float, slots: str | None) -> dict:
    """Total steps/s of `count` Train-page sessions training lines32 at once, with ACAI_TRAINING_SLOTS=slots."""
    from playwright.async_api import async_playwright

    with serve({"ACAI_TRAINING_SLOTS": slots} if slots else None) as (url, _, _started):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            pages = []
            for _ in range(count):
                page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
                await _open(page, f"{url}/train")
                await page.locator("[data-testid='stSelectbox']", has_text="Dataset").click()
                await page.get_by_role("option", name="Lines (synthetic)").click()
                await page.wait_for_timeout(1500)
                await page.get_by_role("button", name="Start", exact=True).click()
                pages.append(page)
            await asyncio.sleep(20)  # compilation, and every session on screen
            first, begun = [await _steps(page) for page in pages], time.perf_counter()
            await asyncio.sleep(seconds)
            last, elapsed = [await _steps(page) for page in pages], time.perf_counter() - begun
            queued = sum([await page.get_by_text("Waiting for a training slot").count() > 0 for page in pages])
            for page in pages:
                await page.get_by_role("button", name="Pause").click()
            await browser.close()
    per_session = [(b - a) / elapsed for a, b in zip(first, last)]
    return {"total": sum(per_session), "per_session": per_session, "queued_at_end": queued}


def lateness(side: dict) -> str:
    return (f"p95 {percentile(side['lags'], 0.95) * 1000:.0f} ms, max {max(side['lags'], default=0) * 1000:.0f} ms, "
            f"{side['cores']:.2f} cores")


def report_room(result: dict, args: argparse.Namespace) -> None:
    print(f"first paint after `streamlit run`: controls {result['first_controls']:.1f} s, first interpolation "
          f"{result['first_interpolation']:.1f} s (target < 10 s on a 68 GFLOP/s machine)")
    print(f"the page opened on: {result['opened_on']}")
    viewers, pages = result["viewers"], result["pages"]
    print(f"{args.viewers} protocol viewers arrived over {args.arrive:g} s (the room was in after "
          f"{result['arrived']:.0f} s): each page's first run {describe(viewers['opened'])}")
    print(f"the room, {args.viewers} protocol viewers + {args.browsers} Chromium pages x {args.moves} alpha moves, "
          f"{args.pause[0]:g}-{args.pause[1]:g} s apart:")
    for name, group in (("protocol viewers", viewers), ("Chromium pages", pages)):
        moves = group["latencies"]
        print(f"  {name}: {describe([seconds for _, seconds in moves])} (target p95 < 1000 ms); errors: "
              f"{len(group['errors'])} {group['errors'][:3]}")
        print(f"    first moves: {describe([seconds for move, seconds in moves if move == 0])}; later: "
              f"{describe([seconds for move, seconds in moves if move > 0])}")
    print("    the measurers' own delay (their event loops' lateness, in every latency they measure): the protocol "
          f"viewers' process {lateness(viewers)}; Playwright's {lateness(pages)}")
    if pages["parts"]:
        print(f"    Chromium's moves in parts: key press -> message sent {describe([a for a, _ in pages['parts']])}; "
              f"message sent -> image received {describe([b for _, b in pages['parts']])} (what a protocol "
              "viewer measures); the rest is drawing")
    print(f"  CPU cores used while they moved: the server {result['server_cores']:.2f}, the whole machine "
          f"{result['machine_cores']:.2f} (of {os.cpu_count()}); the server's memory: "
          f"{result['memory_in']['VmRSS']:.0f} MiB when the room was in, {result['memory']['VmRSS']:.0f} MiB at "
          f"the end, peak {result['memory']['VmHWM']:.0f} MiB; {viewers['received'] / 2**20:.1f} MiB of "
          "messages to the protocol viewers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=200, help="protocol viewers in the room")
    parser.add_argument("--browsers", type=int, default=3, help="Chromium pages beside them, doing the same")
    parser.add_argument("--arrive", type=float, default=60.0, help="seconds over which the viewers open the address")
    parser.add_argument("--moves", type=int, default=8)
    parser.add_argument("--pause", type=float, nargs=2, default=(2.0, 6.0), metavar=("MIN", "MAX"),
                        help="seconds a viewer looks at the result before moving alpha again (uniform)")
    parser.add_argument("--trainers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--slots", nargs="*", default=None,
                        help="ACAI_TRAINING_SLOTS settings to compare ('default' for the app's own)")
    parser.add_argument("--move-cost", type=int, nargs="*", default=None, metavar="IDLE",
                        help="also measure the server's CPU per move of one viewer with these numbers of idle "
                             "sessions open (e.g. 0 100 200 400)")
    parser.add_argument("--open-cost", type=int, default=0, metavar="N",
                        help="also measure the server's CPU per fresh session opening the page, N one after another")
    parser.add_argument("--skip-viewers", action="store_true")
    parser.add_argument("--skip-trainings", action="store_true")
    args = parser.parse_args()

    from acai.machine import machine_description, matmul_rate

    print(f"machine: {machine_description()}, float32 matmul {matmul_rate() / 1e9:.0f} GFLOP/s")
    if not args.skip_viewers:
        if not 0 <= args.viewers <= MAX_VIEWERS:
            parser.error(f"--viewers: 0 to {MAX_VIEWERS}")
        report_room(asyncio.run(room(args.viewers, args.browsers, args.moves, tuple(args.pause), args.arrive)), args)
    if args.move_cost:
        for row in asyncio.run(move_cost(sorted(args.move_cost))):
            print(f"one viewer moving alpha 202 times in a row, {row['idle']} idle sessions open: server CPU "
                  f"{row['cpu_per_move'] * 1000:.1f} ms a move, p50 latency {row['p50'] * 1000:.0f} ms (the idle server: "
                  f"{row['idle_server_cores']:.3f} cores)")
    if args.open_cost:
        row = asyncio.run(open_cost(args.open_cost))
        print(f"{args.open_cost} fresh sessions opening the page one after another: server CPU "
              f"{row['cpu_per_open'] * 1000:.0f} ms an open, p50 {row['p50'] * 1000:.0f} ms")
    if not args.skip_trainings:
        cli = cli_speed("lines32", 30, race=False)
        print(f"one `python -m acai train` (lines32): {cli:.2f} steps/s")
        for slots in args.slots or ["default", str(args.trainers)]:
            result = asyncio.run(trainings(args.trainers, args.seconds, None if slots == "default" else slots))
            label = "default" if slots == "default" else slots
            print(f"{args.trainers} sessions training, ACAI_TRAINING_SLOTS={label}: total {result['total']:.2f} "
                  f"steps/s = {result['total'] / cli:.0%} of one CLI (target >= 80%); per session "
                  + ", ".join(f"{value:.2f}" for value in result["per_session"])
                  + f"; {result['queued_at_end']} waiting for a slot at the end")


if __name__ == "__main__":
    main()
