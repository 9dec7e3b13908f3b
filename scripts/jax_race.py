"""The paper's lines32 race (ACAI against lambda 0) in JAX, to record it on a GPU machine that has no TensorFlow.

`python -m acai race --record` records a race on this project's TensorFlow trainer; on a 2-core CPU the paper's
lines32 network takes 2.5-5.5 s a pair step, a day for 20,000 steps. This is the same race, step for step, written
again in JAX (which a lent GPU machine has): the same networks (acai.networks' conv encoder, decoder and critic,
taking their initial weights from the TensorFlow networks), the same forward pass and losses (acai.models.acai),
the authors' simultaneous updates with Keras's Adam (acai.training), the same batches (acai.data's lines stream,
addressed by seed and step) and the same alphas (TensorFlow's stateless draws, exported by
scripts/prepare_jax_race.py). Evaluations are acai.driver's live evaluator (the lines benchmark on the same 64 test
pairs, scored by acai.metrics) and the frames acai.recording's (the same test pairs, alphas and schedule), so the
file it writes is an ordinary recording that the Race page replays.

Left out: the linear probe (a monitor on stop_gradient(z): it changes nothing that is recorded) and the NaN guard.
scripts/prepare_jax_race.py checks this program against the TensorFlow trainer on the same steps before any GPU
time is spent; recordings/README.md has the figures.

    python scripts/jax_race.py PREPARED_FOLDER OUT_FOLDER [--steps N] [--check]

Imports numpy, scipy and JAX only (and acai's NumPy modules: lines, metrics, recording).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acai import lines, metrics, recording  # noqa: E402  (NumPy only: no TensorFlow here)

SLOPE = 0.2  # acai.config.LEAKY_RELU_SLOPE
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8  # acai.training.make_adam (acai.config.ADAM_EPSILON)
SIDES = recording.SIDES


def build(jax, jnp, config: dict, precision: str = "highest"):
    """The networks as pure functions of their Keras weight lists, and one race step of both sides."""
    lax = jax.lax
    convolution_precision = lax.Precision.HIGHEST if precision == "highest" else lax.Precision.DEFAULT
    scales = int(np.log2(32 // config["latent_width"]))

    def conv(x, kernel, bias):  # Keras Conv2D(padding="same"): NHWC input, HWIO kernel
        return lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        precision=convolution_precision) + bias

    def leaky(x):
        return jnp.where(x >= 0, x, SLOPE * x)

    def pool(x):  # AveragePooling2D(2)
        n, h, w, c = x.shape
        return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))

    def upsample(x):  # UpSampling2D(2, "nearest")
        return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)

    def conv_stack(weights, x, resample, entry: bool):
        """[A 1x1 entry conv;] per scale two 3x3 conv + LeakyReLU and `resample`; conv + LeakyReLU; the output conv."""
        pairs = iter(zip(weights[0::2], weights[1::2]))
        if entry:
            x = conv(x, *next(pairs))
        for _ in range(scales):
            for _ in range(2):
                x = leaky(conv(x, *next(pairs)))
            x = resample(x)
        x = leaky(conv(x, *next(pairs)))
        return conv(x, *next(pairs))

    def encoder_stack(weights, x):
        """acai.networks.conv_encoder_stack (patch 1), pooling at each scale."""
        return conv_stack(weights, x, pool, entry=True)

    def decoder(weights, z):
        """acai.networks.conv_decoder_stack (decoder_patch 1), upsampling at each scale."""
        return conv_stack(weights, z, upsample, entry=False)

    def critic(weights, x):
        out = encoder_stack(weights, x)
        return out.reshape(out.shape[0], -1).mean(axis=1)

    def terms(autoencoder, critic_weights, images, alpha, lam, gamma):
        """acai.models.acai.acai_terms: every term from one forward pass."""
        encoder_weights, decoder_weights = autoencoder
        latents = encoder_stack(encoder_weights, images)
        reconstructions = decoder(decoder_weights, latents)
        a = alpha.reshape(-1, 1, 1, 1)
        mixed = decoder(decoder_weights, a * latents + (1.0 - a) * latents[::-1])
        on_mix = critic(critic_weights, mixed)
        on_blend = critic(critic_weights, gamma * images + (1.0 - gamma) * reconstructions)
        reconstruction = jnp.mean(jnp.square(images - reconstructions))
        adversarial = jnp.mean(jnp.square(on_mix))
        critic_alpha = jnp.mean(jnp.square(on_mix - alpha))
        critic_real = jnp.mean(jnp.square(on_blend))
        return reconstruction + lam * adversarial, critic_alpha + critic_real, (reconstruction, adversarial,
                                                                               critic_alpha, critic_real)

    def autoencoder_total(autoencoder, critic_weights, *args):
        return terms(autoencoder, critic_weights, *args)[0]

    def critic_total(critic_weights, autoencoder, *args):
        return terms(autoencoder, critic_weights, *args)[1]

    def adam(weights, moments, gradients, iteration, learning_rate):
        """Keras 3's Adam.update_step, iteration = the optimizer's iterations before this update."""
        t = (iteration + 1).astype(jnp.float32)
        rate = learning_rate * jnp.sqrt(1.0 - BETA_2 ** t) / (1.0 - BETA_1 ** t)
        m, v = moments
        m = jax.tree.map(lambda m_, g: m_ + (g - m_) * (1.0 - BETA_1), m, gradients)
        v = jax.tree.map(lambda v_, g: v_ + (jnp.square(g) - v_) * (1.0 - BETA_2), v, gradients)
        weights = jax.tree.map(lambda w, m_, v_: w - m_ * rate / (jnp.sqrt(v_) + EPSILON), weights, m, v)
        return weights, (m, v)

    def side_step(state, images, alpha, lam, gamma, learning_rate):
        """One step of one side: both players' gradients from the same forward pass, then both updates."""
        autoencoder, critic_weights, ae_moments, critic_moments, iteration = state
        args = (images, alpha, lam, gamma)
        (_, recorded), ae_gradients = jax.value_and_grad(
            lambda ae: (autoencoder_total(ae, critic_weights, *args), terms(ae, critic_weights, *args)[2]),
            has_aux=True)(autoencoder)
        critic_gradients = jax.grad(critic_total)(critic_weights, autoencoder, *args)
        autoencoder, ae_moments = adam(autoencoder, ae_moments, ae_gradients, iteration, learning_rate)
        critic_weights, critic_moments = adam(critic_weights, critic_moments, critic_gradients, iteration,
                                              learning_rate)
        return (autoencoder, critic_weights, ae_moments, critic_moments, iteration + 1), jnp.stack(recorded)

    lams = (float(config["lam"]), 0.0)
    gamma, learning_rate = float(config["gamma"]), float(config["learning_rate"])

    @functools.partial(jax.jit, donate_argnums=0)
    def race_step(states, images, alpha):
        out = [side_step(state, images, alpha, lam, gamma, learning_rate) for state, lam in zip(states, lams)]
        return tuple(o[0] for o in out), jnp.stack([o[1] for o in out])

    @jax.jit
    def decode_paths(state, first, second, alphas):
        """acai.interpolation.interpolate_pairs / interpolate: lerp in latent space, decode, the critic's alpha."""
        (encoder_weights, decoder_weights), critic_weights = state[0], state[1]
        start, end = encoder_stack(encoder_weights, first), encoder_stack(encoder_weights, second)
        t = alphas.reshape(1, -1, 1, 1, 1)
        path = (1.0 - t) * start[:, None] + t * end[:, None]
        frames = decoder(decoder_weights, path.reshape((-1,) + path.shape[2:]))
        return frames.reshape(first.shape[:1] + alphas.shape + frames.shape[1:]), critic(critic_weights, frames)

    return race_step, decode_paths


def initial_state(jnp, weights: dict[str, list[np.ndarray]]):
    autoencoder = ([jnp.asarray(w) for w in weights["encoder"]], [jnp.asarray(w) for w in weights["decoder"]])
    critic = [jnp.asarray(w) for w in weights["critic"]]
    zeros = lambda tree: ([jnp.zeros_like(w) for w in tree[0]], [jnp.zeros_like(w) for w in tree[1]])  # noqa: E731
    return (autoencoder, critic, (zeros(autoencoder), zeros(autoencoder)),
            ([jnp.zeros_like(w) for w in critic], [jnp.zeros_like(w) for w in critic]), jnp.int32(0))


def read_weights(path: Path) -> dict[str, list[np.ndarray]]:
    with np.load(path, allow_pickle=False) as archive:
        names = sorted(archive.files, key=lambda name: (name.split("_")[0], int(name.split("_")[1])))
        weights: dict[str, list[np.ndarray]] = {}
        for name in names:
            weights.setdefault(name.split("_")[0], []).append(archive[name])
    return weights


def state_weights(state) -> dict[str, np.ndarray]:
    (encoder, decoder), critic = state[0], state[1]
    return {f"{part}_{i}": np.asarray(w) for part, ws in (("encoder", encoder), ("decoder", decoder),
                                                          ("critic", critic)) for i, w in enumerate(ws)}


def batches(seed: int, batch_size: int, begin: int, end: int) -> np.ndarray:
    """acai.data.BatchSampler.batch for lines, steps [begin, end): fresh lines from default_rng([seed, 2, step])."""
    return np.stack([lines.sample_lines(batch_size, np.random.default_rng([seed, 2, step]))[0]
                     for step in range(begin, end)])


def warm(_) -> None:
    lines.reference_set()  # the 10,000 reference lines, once per worker


def score(paths: np.ndarray) -> dict[str, float]:
    return metrics.lines_benchmark(paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prepared", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, help="default: the prepared total")
    parser.add_argument("--check", action="store_true",
                        help="train --steps steps with no evaluations and write the weights and losses (check.npz)")
    parser.add_argument("--precision", choices=("highest", "tf32"), default="highest",
                        help="of convolutions on the GPU: highest (float32, as on a CPU) or tf32 (tensor cores; what "
                             "TensorFlow itself does on such a GPU by default)")
    parser.add_argument("--save-every", type=float, default=60.0, help="seconds between partial recordings")
    parser.add_argument("--deadline", type=float, default=float("inf"),
                        help="seconds of training after which it stops at the next recorded point (partial)")
    args = parser.parse_args(argv)
    if not args.check:  # the evaluations' scoring (float64 NumPy, as on the CPU) in processes forked before JAX starts
        workers = max(1, min(14, (os.cpu_count() or 2) - 2))
        pool = concurrent.futures.ProcessPoolExecutor(workers)
        list(pool.map(warm, range(workers)))
    import jax

    jax.config.update("jax_default_matmul_precision", "highest" if args.precision == "highest" else "tensorfloat32")
    import jax.numpy as jnp

    spec = json.loads((args.prepared / "spec.json").read_text())
    config = spec["config"]
    total = args.steps or spec["total_steps"]
    alphas_all = np.load(args.prepared / "alphas.npy")
    with np.load(args.prepared / "pairs.npz") as pairs:
        eval_first, eval_second = pairs["eval_first"], pairs["eval_second"]
        frame_first, frame_second, endpoints = pairs["frame_first"], pairs["frame_second"], pairs["endpoints"]
    race_step, decode_paths = build(jax, jnp, config, args.precision)
    start = initial_state(jnp, read_weights(args.prepared / "weights.npz"))
    states = (start, jax.tree.map(jnp.copy, start))
    device = jax.devices()[0]
    print(f"JAX {jax.__version__} on {device.device_kind} ({device.platform}); {total:,} steps", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.check:
        losses = []
        for step in range(total):
            states, recorded = race_step(states, jnp.asarray(batches(config["seed"], config["batch_size"], step,
                                                                     step + 1)[0]), jnp.asarray(alphas_all[step]))
            losses.append(np.asarray(recorded))
        np.savez(args.out / "check.npz", losses=np.stack(losses),
                 **{f"{side}/{name}": w for side, state in zip(SIDES, states)
                    for name, w in state_weights(state).items()})
        print(f"wrote {args.out / 'check.npz'}")
        return 0

    eval_every, frame_alphas = int(spec["eval_every"]), np.asarray(spec["frame_alphas"], np.float32)
    eval_alphas = np.linspace(0.0, 1.0, 16, dtype=np.float32)  # acai.evaluation.lines_benchmark's 16 steps
    plan = recording.schedule(total, int(spec["count"]))
    frames = {side: [] for side in SIDES}
    estimates = {side: [] for side in SIDES}
    pending: list[tuple[int, str, concurrent.futures.Future]] = []
    curves = {side: [] for side in SIDES}
    chunk, ahead = 100, 8  # steps of batches rendered per worker task; tasks kept in flight

    def chunk_of(begin: int):
        return pool.submit(batches, config["seed"], config["batch_size"], begin, min(total, begin + chunk))

    def shoot(step: int) -> None:
        for side, state in zip(SIDES, states):
            frame, critic = decode_paths(state, jnp.asarray(frame_first), jnp.asarray(frame_second),
                                         jnp.asarray(frame_alphas))
            frames[side].append(recording_pixels(np.asarray(frame)))
            estimates[side].append(np.asarray(critic).reshape(len(frame_first), len(frame_alphas)))

    def evaluate(step: int) -> None:
        for side, state in zip(SIDES, states):
            paths, _ = decode_paths(state, jnp.asarray(eval_first), jnp.asarray(eval_second), jnp.asarray(eval_alphas))
            pending.append((step, side, pool.submit(score, np.asarray(paths))))

    def collect(wait: bool) -> None:
        """Move finished evaluations (all of them when `wait`) from `pending` into the curves."""
        for item in list(pending):
            step, side, future = item
            if wait or future.done():
                curves[side].append((step, future.result()))
                pending.remove(item)

    def assemble(done_steps: list[int], wall: float, complete: bool) -> recording.Recording:
        collect(wait=complete)
        meta = {**spec["meta"], "wall_seconds": round(wall, 1), "race_seconds": round(wall, 1),
                "total_steps": int(total), "machine": machine(jax, args.precision)}
        if not complete:
            meta["partial"] = True
        curve = {side: {name: np.array(sorted((s, row[name]) for s, row in curves[side]), dtype=np.float64)
                        .reshape(-1, 2) for name in ("mean_distance", "smoothness")} for side in SIDES}
        return recording.Recording(np.asarray(done_steps, np.int64), {s: np.stack(frames[s]) for s in SIDES},
                                   {s: np.stack(estimates[s]).astype(np.float32) for s in SIDES},
                                   endpoints, frame_alphas, curve, meta)

    begun = last_save = time.perf_counter()
    done: list[int] = []
    upcoming = [chunk_of(begin) for begin in range(0, min(total, ahead * chunk), chunk)]
    step, marks, stopped = 0, set(plan.tolist()), False
    if 0 in marks:
        shoot(0)
        done.append(0)
    while step < total and not stopped:
        block = upcoming.pop(0).result()
        if step + ahead * chunk < total:
            upcoming.append(chunk_of(step + ahead * chunk))
        images, alphas = jax.device_put(block), jax.device_put(alphas_all[step : step + len(block)])
        for i in range(len(block)):
            states, _ = race_step(states, images[i], alphas[i])
            step += 1
            if eval_every and step % eval_every == 0:
                evaluate(step)
            if step in marks:
                shoot(step)
                done.append(step)
            if step in marks and time.perf_counter() - begun > args.deadline:
                stopped = True  # out of time: what is recorded so far is written as a partial recording
                break
            if step in marks and time.perf_counter() - last_save >= args.save_every and step < total:
                write(args.out / "recording-partial.npz", assemble(done, time.perf_counter() - begun, False))
                last_save = time.perf_counter()
                print(f"step {step:,} of {total:,}, {last_save - begun:.0f} s", flush=True)
    jax.block_until_ready(states)
    trained = time.perf_counter() - begun
    final = assemble(done, trained, complete=True)
    if stopped:
        final.meta["partial"] = True
        print(f"stopped at the deadline, step {step:,} of {total:,}", flush=True)
    write(args.out / ("recording-partial.npz" if stopped else "recording.npz"), final)
    for side, state in zip(SIDES, states):
        np.savez(args.out / f"weights-{side}.npz", **state_weights(state))
    distance = {side: final.curves[side]["mean_distance"] for side in SIDES}
    ratio = distance["baseline"][-1, 1] / distance["acai"][-1, 1] if len(distance["acai"]) else float("nan")
    print(f"recorded {len(done)} points, {step:,} steps in {trained:.0f} s of wall time ({step / trained:.1f} pair "
          f"steps/s); the last evaluation's ratio of Mean Distances (baseline / ACAI): {ratio:.2f}", flush=True)
    pool.shutdown()
    return 0


def recording_pixels(frames: np.ndarray) -> np.ndarray:
    """acai.data.to_display: [-1, 1] floats -> uint8, clip(round(127.5 + 127.5 x), 0, 255)."""
    return np.clip(np.round(127.5 + 127.5 * np.asarray(frames, dtype=np.float32)), 0, 255).astype(np.uint8)


def machine(jax, precision: str) -> str:
    device = jax.devices()[0]
    kind = f"{device.device_kind} GPU" if device.platform == "gpu" else f"{device.platform.upper()}"
    arithmetic = "float32" if precision == "highest" or device.platform != "gpu" else "TF32 convolutions"
    return f"{kind}, {arithmetic}, JAX {jax.__version__} (scripts/jax_race.py)"


def write(path: Path, recorded: recording.Recording) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(recording.to_bytes(recorded))
    os.replace(temporary, path)


if __name__ == "__main__":
    sys.exit(main())
