"""Runs moto's server (Secrets Manager, EventBridge Scheduler, EventBridge, SQS) for the Rust
integration tests.

It prints its URL on the first line, then serves until its parent (the test binary) exits,
so a test run never leaves a server behind, even when it is killed.

With --deny it enforces IAM: it creates a user without any policy and prints that user's
access key id and secret on the next two lines, so every request signed with them is refused
(AccessDenied), as for a function whose role lacks a permission.
"""
import os
import sys
import time

DENY = "--deny" in sys.argv[1:]
if DENY:
    # Requests beyond the first two (creating the user and its key) are authorised by IAM.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "2"

from moto.server import ThreadedMotoServer  # noqa: E402  (reads the variable on import)

parent = os.getppid()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
url = f"http://{host}:{port}"
lines = [url]
if DENY:
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    iam.create_user(UserName="no-permissions")
    key = iam.create_access_key(UserName="no-permissions")["AccessKey"]
    lines += [key["AccessKeyId"], key["SecretAccessKey"]]
print("\n".join(lines), flush=True)
try:
    while os.getppid() == parent:
        time.sleep(0.3)
finally:
    server.stop()
    sys.exit(0)
