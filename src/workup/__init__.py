"""workup: offline, deterministic clinical decision support for spine imaging.

Public entry points::

    from workup.kb import load          # knowledge packs
    from workup.engine import evaluate  # facts → Recommendation
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("workup")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
