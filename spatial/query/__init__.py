"""Cross-agency queries: the version-1 query file, its executor and its sentences."""

from .model import *  # noqa: F401,F403
