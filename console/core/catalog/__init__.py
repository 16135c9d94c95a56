"""The console's SQLite catalog (configuration, cached repository contents, session history)."""

from .database import Catalog

__all__ = ["Catalog"]
