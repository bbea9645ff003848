"""The offline guard itself must work, or the offline promise is untested."""

import socket
import urllib.request

import pytest

from tests.conftest import NetworkAccessError


def test_socket_connect_is_refused():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkAccessError):
            s.connect(("127.0.0.1", 9))
    finally:
        s.close()


def test_urlopen_is_refused():
    with pytest.raises((NetworkAccessError, OSError)) as info:
        urllib.request.urlopen("http://example.com", timeout=1)
    assert "network" in str(info.value).lower()


def test_unix_sockets_still_work():
    a, b = socket.socketpair(socket.AF_UNIX)
    a.sendall(b"x")
    assert b.recv(1) == b"x"
    a.close()
    b.close()
