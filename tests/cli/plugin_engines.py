"""A user's engine module, as ``--engine-module tests.cli.plugin_engines`` imports it: one
correct engine and one with a planted sign flip, registered at import."""

from __future__ import annotations

from gradcheck.engines import register_engine
from gradcheck.nn.network import loss_and_grads
from tests.mutants import MUTANTS

register_engine("plugin_correct", loss_and_grads, summary="the core, as a user's engine")
register_engine("plugin_sign_flip", MUTANTS["sign_flip"], summary="a planted sign flip")
