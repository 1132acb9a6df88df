"""The network as openml meets it: refused outright offline, failing fast online when the OpenML
server cannot be reached, and that cause found in whatever openml raises."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from typing import Any, Iterator

import requests
import urllib3.util.connection

from bench.core.errors import DataUnavailable, one_line

UNREACHABLE = "OpenML server unreachable"
# Connection errors that no retry within seconds mends: no route to the network or the host.
NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


class OfflineViolation(DataUnavailable):
    """Raised instead of opening a connection while offline. Not an OSError, so openml's retry
    loop (which catches connection errors and sleeps) lets it through at once."""


@contextlib.contextmanager
def no_network(reason: str) -> Iterator[None]:
    def refuse(*args, **kwargs):
        raise OfflineViolation(reason, reason="needs the OpenML server (offline)")

    with contextlib.ExitStack() as stack:
        for owner, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"),
                            (socket, "create_connection"), (socket, "getaddrinfo")):
            stack.enter_context(_patched(owner, name, refuse))
        yield


class ServerUnreachable(DataUnavailable):
    """The OpenML server cannot be reached (no name look-up, no route). Not an OSError, so that
    openml's retry loop, which sleeps 1 + 2 + 3 + 4 s between five tries, lets it through at once."""


def unreachable(label: str, cause: BaseException) -> ServerUnreachable:
    return ServerUnreachable(
        f"OpenML {label} needs the OpenML server, which is unreachable ({one_line(cause, 200)}). "
        "To run offline, import the data into a cache (`python -m bench.data import-shared --cache DIR`, "
        "or `python -m bench.data import-arff FILE --dataset-id N [--task-id T] --cache DIR`) and run with "
        "data.offline=true paths.openml_cache=DIR",
        reason=UNREACHABLE,
    )


@contextlib.contextmanager
def fail_fast_when_unreachable(label: str) -> Iterator[None]:
    """In this thread, a failed DNS look-up, or no route to any of the server's addresses, raises
    ServerUnreachable rather than the OSError openml retries: on a machine with no network, ten
    seconds of sleeps per task for nothing. Failures a retry can mend (refused, reset, a busy
    server) keep openml's retries. urllib3's create_connection is wrapped, not socket's connect:
    it tries every address of the name (IPv6, then IPv4), and only its last failure is final."""
    lookup, connect, thread = socket.getaddrinfo, urllib3.util.connection.create_connection, threading.get_ident()

    def checked_lookup(*args, **kwargs):
        try:
            return lookup(*args, **kwargs)
        except socket.gaierror as e:
            if threading.get_ident() != thread:
                raise
            raise unreachable(label, e) from e

    def checked_connect(*args, **kwargs):
        try:
            return connect(*args, **kwargs)
        except OSError as e:
            if e.errno not in NO_ROUTE or threading.get_ident() != thread:
                raise
            raise unreachable(label, e) from e

    with _patched(socket, "getaddrinfo", checked_lookup), \
            _patched(urllib3.util.connection, "create_connection", checked_connect):
        yield


def unreachable_cause(error: BaseException) -> BaseException | None:
    """The error in `error`'s chain that says the server could not be reached, if any: what
    openml raises when the connection fails outside fail_fast_when_unreachable's reach."""
    for cause in causes(error):
        if isinstance(cause, requests.exceptions.SSLError):  # reached, but the TLS handshake failed
            return None
        if isinstance(cause, (socket.gaierror, requests.ConnectionError)) or getattr(cause, "errno", None) in NO_ROUTE:
            return cause
    return None


def causes(error: BaseException) -> Iterator[BaseException]:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


@contextlib.contextmanager
def _patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)
