"""Run localstripe (a fake Stripe server, GPL, used as a tool) bound to 127.0.0.1 only.

localstripe's own command line listens on every interface and pickles its state to a fixed
/tmp file; this launcher binds the loopback, keeps the state in the given file, and prints the
port it got (ask for port 0 to get a free one). Used by the tests and by `make demo`.

    python scripts/localstripe_server.py STATE_FILE [PORT] [PORT_FILE]
"""

import pickle
import socket
import sys

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    state_file = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    port_file = sys.argv[3] if len(sys.argv) > 3 else None

    def dump_to_disk(self):
        with open(state_file, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk
    resources.Store.try_load_from_disk = lambda self: None  # always from scratch

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    bound = sock.getsockname()[1]
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(bound))
    print(bound, flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
