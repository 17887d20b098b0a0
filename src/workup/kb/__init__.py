"""Knowledge packs: schema, loading and lint."""

from workup.kb.load import KnowledgeBase, build, default, load

__all__ = ["KnowledgeBase", "build", "default", "load"]
