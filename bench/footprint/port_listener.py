#!/usr/bin/env python3
"""Listens on N TCP ports on 127.0.0.1 (chosen by the kernel), prints them on one line, and
accepts and closes every connection, until its stdin closes or it gets SIGTERM.

  port_listener.py N
"""

import os
import selectors
import socket
import sys
import threading


def main():
    count = int(sys.argv[1])
    sel = selectors.DefaultSelector()
    ports = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        ports.append(s.getsockname()[1])

    def exit_when_stdin_closes():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(" ".join(map(str, ports)), flush=True)
    while True:
        for key, _ in sel.select():
            try:
                conn, _ = key.fileobj.accept()
                conn.close()
            except OSError:
                pass  # the client gave up first


if __name__ == "__main__":
    main()
