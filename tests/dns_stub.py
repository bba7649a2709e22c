"""A stub DNS server on loopback for tests: answers CNAME (and A) queries from a fixed table, over UDP, in a thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset


class StubDns:
    """``cnames``: name → target. Other names get an empty answer (no CNAME); names in ``nxdomain`` NXDOMAIN;
    names in ``silent`` get no answer at all (a timeout). ``queries`` records what was asked."""

    def __init__(self, cnames: dict[str, str], nxdomain: Iterable[str] = (), silent: Iterable[str] = ()):
        self.cnames = {k.lower().rstrip("."): v for k, v in cnames.items()}
        self.nxdomain, self.silent = set(nxdomain), set(silent)
        self.queries: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> StubDns:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self._socket.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
            if name in self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if name in self.nxdomain:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif name in self.cnames:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", "CNAME", self.cnames[name].rstrip(".") + ".")
                )
            self._socket.sendto(response.to_wire(), client)
