"""The grader's end of a kernel's sockets: connected once, never again.

ZMQ reconnects a dropped connection by itself, to the same path; a kernel that had
swapped its socket file for a link would get the grader's client connected
wherever the link points (another kernel's socket, a system service's), with the
grader's rights. So the client connects only once every socket of the kernel is
bound -- checked to be a socket, not a link, before any of the submission's code
ran -- with reconnection off (``ZMQ_RECONNECT_IVL`` -1), and only on the two
channels the grader uses (shell and iopub): no heartbeat channel (its socket is
made anew after a missed beat), no stdin or control channel (jupyter_client would
connect them when its channels are stopped). A kernel that drops a connection is
cut off, and the grader restarts it.
"""

from __future__ import annotations

import os
import stat

import zmq
from jupyter_client import BlockingKernelClient

PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
#: a request the kernel does not take within this many ms fails (zmq.Again) instead of
#: blocking its thread forever: a shell socket with no peer (the kernel killed while it
#: started, by Ctrl-C or its limits, or a notebook that closed its own socket) never takes one
SEND_TIMEOUT_MS = 5000
#: what a send raises then (and when the client was closed meanwhile)
SEND_FAILED = zmq.ZMQError


def bound(info: dict) -> bool:
    """Whether every socket of the connection ``info`` (ipc transport) is there, a socket."""
    for port in PORTS:
        try:
            if not stat.S_ISSOCK(os.lstat(f"{info['ip']}-{info[port]}").st_mode):
                return False
        except OSError:
            return False
    return True


def connect(info: dict) -> BlockingKernelClient:
    """A client on the shell and iopub channels of ``info``, which never reconnects."""
    context = zmq.Context()
    context.setsockopt(zmq.RECONNECT_IVL, -1)
    context.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)
    client = BlockingKernelClient(context=context)
    client.load_connection_info(info)  # never read back from a folder the kernel wrote
    client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
    return client


def disconnect(client: BlockingKernelClient) -> None:
    """Stop the channels that were started (none is made for the purpose)."""
    for channel in (client._shell_channel, client._iopub_channel):
        try:
            if channel is not None and channel.is_alive():
                channel.stop()
        except Exception:
            pass
    client.context.destroy(linger=0)
