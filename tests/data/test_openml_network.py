"""Online, an OpenML server that cannot be reached fails fast, in one line that says how to run
offline; with data.skip_missing the task is skipped and listed like an uncached one."""

from __future__ import annotations

import errno
import socket
import time

import pandas as pd
import pytest
import requests
import urllib3

import bench.cli.run as bench_run
from bench.data.openml import OpenMLSource
from bench.data.openml_network import UNREACHABLE, ServerUnreachable, fail_fast_when_unreachable, unreachable_cause
from tests.conftest import compose_config

TID = 990002


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The sleeps openml's retry loop asks for, none of them taken."""
    asked = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """Every DNS look-up fails, as on a machine with no network; the hosts asked for."""
    asked = []

    def no_dns(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return asked


def load_online(cache_root, task_id: int = TID):
    src = OpenMLSource(suite="openml", task_id=task_id, cache_root=str(cache_root), preprocess={})
    return src.load(src.refs()[0])


def test_no_name_lookup_fails_at_once_saying_how_to_run_offline(cache_root, lookups, sleeps):
    with pytest.raises(ServerUnreachable) as error:
        load_online(cache_root)
    message = str(error.value)
    assert message.startswith(f"OpenML task {TID} needs the OpenML server, which is unreachable (gaierror: ")
    assert "python -m bench.data import-shared --cache DIR" in message and "data.offline=true" in message
    assert "\n" not in message and error.value.reason == UNREACHABLE
    assert (lookups, sleeps) == (["www.openml.org"], [])  # one try, no retry, no sleep


def test_no_route_to_the_network_fails_at_once(cache_root, monkeypatch, sleeps):
    connects = []

    def no_route(sock, address):
        connects.append(address)
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 443))])
    monkeypatch.setattr(socket.socket, "connect", no_route)
    with pytest.raises(ServerUnreachable, match="unreachable .*Network is unreachable"):
        load_online(cache_root)
    assert (len(connects), sleeps) == (1, [])


def test_an_address_without_a_route_falls_back_to_the_next_one(monkeypatch):
    """A dual-stack name on a host whose IPv6 has no route: urllib3 goes on to IPv4, as without
    the guard; only the last address's failure would be final."""
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::1", 443, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 443))])

    def route_for_ipv4_only(sock, address):
        if sock.family == socket.AF_INET6:
            raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", route_for_ipv4_only)
    with fail_fast_when_unreachable("task 1"):
        connected = urllib3.util.connection.create_connection(("www.openml.org", 443))
    assert connected.family == socket.AF_INET
    connected.close()


def test_skip_missing_lists_the_tasks_of_an_unreachable_server(cache_root, results, tmp_path, lookups, sleeps):
    manifest = tmp_path / "suite.csv"
    pd.DataFrame({"did": [990001, 990003], "tid": [TID, 990004], "name": ["toy", "other"]}).to_csv(manifest, index=False)
    cfg = compose_config(["data=openml_cc18", f"data.manifest={manifest}", "data.skip_missing=true",
                          f"paths.openml_cache={cache_root}", "model=logreg", "explainers=[random]"], results)
    summary = bench_run.run(cfg)
    assert [label for label, _ in summary.skipped] == [f"task {TID} (toy)", "task 990004 (other)"]
    assert {error.reason for _, error in summary.skipped} == {UNREACHABLE}
    skipped = pd.read_csv(results / "tables" / "skipped.csv")
    assert list(skipped["task_id"]) == [TID, 990004] and skipped["error"].str.contains("data.offline=true").all()
    assert (len(lookups), sleeps) == (2, [])


def test_unreachability_is_found_in_what_openml_raises():
    lookup_failed = urllib3.exceptions.NameResolutionError("www.openml.org", None, socket.gaierror(-2, "unknown"))
    connection_failed = requests.ConnectionError(lookup_failed)
    connection_failed.__cause__ = lookup_failed
    wrapped = RuntimeError("openml failed")
    wrapped.__cause__ = connection_failed
    assert unreachable_cause(wrapped) is connection_failed
    assert unreachable_cause(OSError(errno.EHOSTUNREACH, "No route to host")) is not None
    assert unreachable_cause(RuntimeError("a server error")) is None
    assert unreachable_cause(requests.exceptions.SSLError("handshake failed")) is None  # reached, then refused
