"""The decision engine: pure functions from facts to a recommendation."""

from workup.engine.recommend import evaluate

__all__ = ["evaluate"]
