"""The reference application of the production loop (notebook 07, in progress): the HR assistant
(retrieval, a versioned template, guards, a catalog model) from one versioned file, traced, in
process (`Assistant.answer`) or over an OpenAI-compatible HTTP API (`server.make_server`)."""

from .assistant import Answer, AppSpec, Assistant, default_path
from .replay import replay, replay_into
from .server import make_server

__all__ = ["Answer", "AppSpec", "Assistant", "default_path", "make_server", "replay", "replay_into"]
