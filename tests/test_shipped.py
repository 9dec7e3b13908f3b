"""acai/shipped.py is the one list of the shipped models: every folder of pretrained/ is in it, and each
recipe's flags and steps make exactly the model its folder holds."""

import json
from pathlib import Path

import pytest

from acai.cli import config_from_flags
from acai.config import Config
from acai.shipped import SHIPPED

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"


def test_the_list_and_the_folders_agree():
    assert sorted(SHIPPED) == sorted(path.name for path in PRETRAINED.iterdir() if path.is_dir())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_recipe_makes_its_shipped_model(name):
    manifest = json.loads((PRETRAINED / name / "config.json").read_text())
    recipe = SHIPPED[name]
    shipped = Config.from_dict(manifest["config"])
    first = SHIPPED[recipe.start_from] if recipe.start_from else recipe
    assert config_from_flags(first.flags).same_model_as(shipped)
    steps = recipe.total_steps + (SHIPPED[recipe.start_from].total_steps if recipe.start_from else 0)
    assert manifest["step"] == steps
    commands = recipe.commands(name)
    assert commands[-1].startswith("python -m acai train") and f"runs/{name}" in commands[-1]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_train_arguments_rebuild_each_shipped_config(name):
    from acai.cli import train_arguments

    shipped = Config.from_dict(json.loads((PRETRAINED / name / "config.json").read_text())["config"])
    tuned = shipped.replace(settings={"keep_probability": 0.3}) if shipped.model == "dropout" else shipped
    for config in (shipped, tuned):
        rebuilt = config_from_flags(train_arguments(config))
        assert rebuilt.same_model_as(config) and rebuilt.precision == config.precision
        # lambda and gamma were saved through float32 (0.20000000298...): the command gives the value set, 0.2
        assert (rebuilt.lam, rebuilt.gamma) == pytest.approx((config.lam, config.gamma), rel=1e-6)
