"""Idle and slow connections cannot lock visitors out of ``uvicorn_run.py``.

Under the common limit of 1,024 open files a thousand silent connections used
to take every descriptor; the service now raises its limit to what the system
allows, closes connections that do not send a whole request head within
CAMPAIGN_HEAD_TIMEOUT seconds (however slowly they trickle bytes), and answers
a fast 503 before the descriptors run out.
"""

from __future__ import annotations

import http.client
import resource
import socket
import time
from pathlib import Path

import pytest

from campaign.core.settings import Settings, SettingsError
from campaign.web.serving import concurrency_limit

from .support.live import wait_until
from .support.service import ServiceProcess, get, raise_own_file_limit

CONNECTIONS = 2000
COMMON_LIMIT = 1024
TRICKLE = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000


def _open(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed the connection (EOF or reset)."""
    try:
        return sock.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_2000_idle_and_trickling_connections_do_not_lock_visitors_out(tmp_path: Path):
    own = raise_own_file_limit()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if own < CONNECTIONS + 256 or hard < CONNECTIONS + 512:
        pytest.skip(f"the hard open-file limit ({hard}) is too low for {CONNECTIONS} sockets")
    # The service starts under the common soft limit; only the hard limit allows more.
    with ServiceProcess(tmp_path, open_files=(COMMON_LIMIT, hard),
                        CAMPAIGN_HEAD_TIMEOUT="1.5") as service:
        silent = _open(service.port, CONNECTIONS // 2)
        trickling = _open(service.port, CONNECTIONS // 2)
        try:
            for sock in trickling:
                sock.sendall(TRICKLE[:1])
            status, body = get(service.url + "/", timeout=20)
            assert status == 200 and "Vom Touristen zum Neubürger".encode() in body

            # the server closes them all, though half of them keep sending bytes
            open_ = set(silent + trickling)
            sent = 1
            deadline = time.monotonic() + 60
            while open_ and time.monotonic() < deadline and sent < len(TRICKLE):
                for sock in list(open_):
                    if _closed_by_server(sock):
                        open_.discard(sock)
                    elif sock in trickling:
                        try:
                            sock.send(TRICKLE[sent:sent + 1])
                        except OSError:
                            open_.discard(sock)
                sent += 1
                time.sleep(0.2)
            assert not open_, f"{len(open_)} connections still open"
            status, _ = get(service.url + "/", timeout=20)
            assert status == 200
        finally:
            for sock in silent + trickling:
                sock.close()


def test_connections_beyond_the_cap_get_a_fast_503_not_a_hang(tmp_path: Path):
    files = 256
    cap = concurrency_limit(files)
    with ServiceProcess(tmp_path, open_files=(files, files),
                        CAMPAIGN_HEAD_TIMEOUT="60") as service:
        idle = _open(service.port, cap)
        try:
            status, body = get(service.url + "/", timeout=20)
            assert status == 503 and body == b"Service Unavailable"
        finally:
            for sock in idle:
                sock.close()
        # once those connections are gone, visitors are served again
        assert wait_until(lambda: get(service.url + "/")[0] == 200, timeout=20)


def test_a_keep_alive_connection_is_served_request_after_request_then_closed(tmp_path: Path):
    with ServiceProcess(tmp_path, CAMPAIGN_HEAD_TIMEOUT="1") as service:
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
        try:
            for path in ("/healthz", "/", "/healthz"):  # one connection, three requests
                conn.request("GET", path)
                response = conn.getresponse()
                assert response.status == 200 and response.read()
            sock = conn.sock
            assert sock is not None
            assert wait_until(lambda: _closed_by_server(sock), timeout=30)
        finally:
            conn.close()


def test_head_timeout_setting():
    assert Settings.from_env({"CAMPAIGN_SECRET_KEY": "k" * 40}).head_timeout == 10.0
    assert Settings.from_env({"CAMPAIGN_SECRET_KEY": "k" * 40,
                              "CAMPAIGN_HEAD_TIMEOUT": "2.5"}).head_timeout == 2.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(SettingsError, match="CAMPAIGN_HEAD_TIMEOUT"):
            Settings.from_env({"CAMPAIGN_SECRET_KEY": "k" * 40, "CAMPAIGN_HEAD_TIMEOUT": bad})


def test_the_concurrency_cap_leaves_descriptors_for_the_service():
    assert concurrency_limit(1024) == 922
    assert concurrency_limit(256) == 192  # at least 64 kept free
    assert 0 < concurrency_limit(1_048_576) < 1_048_576
