"""The demo's team mirror when SeaweedFS cannot start: the demo goes on without it."""

from __future__ import annotations

import io
import os
import socket
from pathlib import Path

from rich.console import Console

from modelward.cli.demo_mirror import mirror_settings, ready_mirror
from modelward.devhub.s3 import HOST, S3Server


def test_a_mirror_that_cannot_start_is_one_line_and_no_mirror(tmp_path: Path) -> None:
    server = S3Server(root=tmp_path / "mirror")
    with socket.socket() as holder:  # its master port taken: weed exits at once
        holder.bind((HOST, server.ports["master"]))
        holder.listen()
        server.spawn()
        out = io.StringIO()
        before = dict(os.environ)
        mirror = ready_mirror(server, Console(file=out, width=300))
    assert mirror is None and mirror_settings(mirror) == {}
    assert out.getvalue().count("\n") == 1, out.getvalue()
    assert out.getvalue().startswith("no team mirror: weed exited")
    assert str(server.log_path) in out.getvalue()
    assert server.process is not None and server.process.poll() is not None
    assert dict(os.environ) == before  # no AWS variables pointing at a server that is not there
