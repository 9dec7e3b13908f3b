"""The autoencoders of acai, one module each, and their registry (acai.models.base says what a model is).

    from acai import models
    models.get("vae")            # the class; models.names() lists every registered name
    models.model_config(PRESETS["lines32"], "ae")   # a preset as a model (or alias), with its authors' settings

A new model is one module: subclass models.Model, decorate the class with @models.register, import the module.
"""

# The built-in models, in the order of the pickers. Importing them registers them (no TensorFlow is loaded).
from acai.models import aae, acai, denoising, dropout, vae, vqvae  # noqa: E402, F401, I001
from acai.models.base import (
    Batch,
    Model,
    NoSettings,
    Step,
    TableRow,
    aliases,
    get,
    model_config,
    names,
    probe_terms,
    register,
    table_position,
    table_rows,
    unregister,
)

__all__ = ["Batch", "Model", "NoSettings", "Step", "TableRow", "aliases", "get", "model_config", "names",
           "probe_terms", "register", "table_position", "table_rows", "unregister"]
