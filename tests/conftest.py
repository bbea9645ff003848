"""Shared fixtures.  Every test runs with the network cut off: any attempt to
open an internet socket fails the test (CityFrame never goes online)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYSIDE6_OPTION_LAZY", "0")  # as main.py: no lazy Qt types (render thread)

# CI runs hypothesis derandomized, so a submission's result does not depend on luck;
# developers' runs keep exploring new examples.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="session")
def _sample_cache(tmp_path_factory):
    """Unpack packed sample cities into a per-run cache, and keep settings (QSettings)
    in a per-run folder: tests never touch the user's files."""
    os.environ["CITYFRAME_CACHE"] = str(tmp_path_factory.mktemp("cityframe-cache"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    yield


class NetworkAccessError(AssertionError):
    """Raised when code under test tries to reach the network."""


_INET = {socket.AF_INET, socket.AF_INET6}


def _guard(original):
    def guarded(self, address, *args, **kwargs):
        if self.family in _INET:
            raise NetworkAccessError(f"network connection attempted to {address!r}")
        return original(self, address, *args, **kwargs)

    return guarded


def _refuse(*args, **kwargs):
    raise NetworkAccessError(f"network look-up or connection attempted: {args[:2]!r}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test whose code opens an internet connection or resolves a host."""
    monkeypatch.setattr(socket.socket, "connect", _guard(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guard(socket.socket.connect_ex))
    monkeypatch.setattr(socket.socket, "sendto", _guard(socket.socket.sendto))
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    monkeypatch.setattr(socket, "gethostbyname", _refuse)
    yield
