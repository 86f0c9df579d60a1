"""LLM backends behind one async interface (:class:`LLMBackend`)."""

from .base import LLMBackend, LLMError, LLMResult
from .factory import BACKENDS, make_backend

__all__ = ["BACKENDS", "LLMBackend", "LLMError", "LLMResult", "make_backend"]
