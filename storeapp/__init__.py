"""storeapp: the store tablet app (local store, view-models, Flet views, CLI)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("storeapp")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
