"""The models shipped in pretrained/, and the commands that made each: the one list that
scripts/train_pretrained.sh, `python -m acai reproduce`, scripts/export_pretrained.py (the cards' recipes)
and scripts/table1.py read.

    python -m acai.shipped                 # every shipped model's commands
    python -m acai.shipped flags NAME      # the `train` flags that set NAME up (for scripts)
"""

from __future__ import annotations

import dataclasses
import sys

LINES_EVAL_EVERY = 500  # steps between the live lines benchmark's evaluations kept in a lines model's history


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a shipped model was trained: `python -m acai train` with `flags` for `steps` steps, then each of
    `then`, a `--resume` with its own flags (what --resume may change: lambda, gamma, precision) for its steps.
    `start_from`: the shipped model whose folder the first stage resumes instead of starting afresh."""

    flags: tuple[str, ...]
    steps: int
    then: tuple[tuple[tuple[str, ...], int], ...] = ()
    start_from: str | None = None
    note: str = ""

    @property
    def total_steps(self) -> int:
        return self.steps + sum(steps for _, steps in self.then)

    def commands(self, name: str, runs: str = "runs") -> list[str]:
        out = f"{runs}/{name}"
        evaluations = ["--eval-every", str(LINES_EVAL_EVERY)] if name.startswith("lines") else []
        if self.start_from:
            first = [f"cp -r pretrained/{self.start_from} {out}",
                     " ".join(["python -m acai train --resume --out", out, *self.flags, "--steps", str(self.steps),
                               *evaluations])]
        else:
            first = [" ".join(["python -m acai train", *self.flags, "--steps", str(self.steps), *evaluations,
                               "--out", out])]
        return first + [" ".join(["python -m acai train --resume --out", out, *flags, "--steps", str(steps),
                                  *evaluations]) for flags, steps in self.then]


LINES_TABLE_1_STEPS = 11_500  # every lines model of the Table 1 comparison: the same budget

SHIPPED: dict[str, Recipe] = {
    "lines-acai": Recipe(("--preset", "lines32"), LINES_TABLE_1_STEPS),
    "lines-baseline": Recipe(("--preset", "lines32", "--model", "ae"), LINES_TABLE_1_STEPS),
    **{f"lines-{model}": Recipe(("--preset", "lines32", "--model", model), LINES_TABLE_1_STEPS)
       for model in ("dropout", "denoising", "vae", "aae", "vqvae")},
    "lines-acai-lambda-drop": Recipe(
        ("--precision", "float32"), 23_000, then=((("--lam", "0.05"), 21_000),), start_from="lines-acai",
        note="from the shipped lines-acai with fresh Adam moments; a rerun does not repeat it step for step"),
    "mnist32-acai": Recipe(("--preset", "mnist32"), 12_000),
    "mnist32-baseline": Recipe(("--preset", "mnist32", "--model", "ae"), 12_000),
    "mnist256-acai": Recipe(("--preset", "mnist256"), 9_000),
    "mnist256-baseline": Recipe(("--preset", "mnist256", "--model", "ae"), 9_000),
    "mnist-mlp-acai": Recipe(("--preset", "mnist_mlp"), 1_500),
    "fashion256-acai": Recipe(("--preset", "fashion256"), 1_500),
}


def main(argv: list[str]) -> int:
    if argv[:1] == ["flags"] and len(argv) == 2 and argv[1] in SHIPPED:
        print(" ".join(SHIPPED[argv[1]].flags))
        return 0
    if argv:
        print(f"usage: python -m acai.shipped [flags NAME]; NAME one of {', '.join(SHIPPED)}", file=sys.stderr)
        return 2
    for name, recipe in SHIPPED.items():
        print(f"# {name}: {recipe.total_steps:,} steps" + (f" ({recipe.note})" if recipe.note else ""))
        print("\n".join(recipe.commands(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
