"""Runs moto's Secrets Manager server for the Rust integration tests.

It prints its URL on the first line, then serves until its parent (the test binary) exits,
so a test run never leaves a server behind, even when it is killed.
"""
import os
import sys
import time

from moto.server import ThreadedMotoServer

parent = os.getppid()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(f"http://{host}:{port}", flush=True)
try:
    while os.getppid() == parent:
        time.sleep(0.3)
finally:
    server.stop()
    sys.exit(0)
