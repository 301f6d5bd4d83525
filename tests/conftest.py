"""Fixtures for tests that drive a running Odoo server from outside.

The ``server`` fixture starts Odoo (the configuration and database that
``make test`` prepared: pytest-odoo's ``--odoo-config`` / ``--odoo-database``)
on a free local port and yields its URL; it is stopped after the session.
"""
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client

import pytest


def _free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(request):
    config = request.config.getoption("--odoo-config")
    database = request.config.getoption("--odoo-database")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "odoo", "-c", config, "-d", database,
         f"--db-filter=^{database}$", f"--http-port={port}", "--http-interface=127.0.0.1",
         "--max-cron-threads=0", "--log-level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/web/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("Odoo did not start: " + process.stderr.read().decode()[-2000:])
        time.sleep(0.5)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class JsonRpc:
    """A minimal JSON-RPC client with its own session cookie."""

    def __init__(self, url):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())

    def call(self, path, params):
        payload = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params, "id": 1}).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=payload,
                                     headers={"Content-Type": "application/json"})
        with self.opener.open(req, timeout=60) as response:
            answer = json.loads(response.read())
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer.get("result")  # absent when the method answered None

    def login(self, database, login, password):
        return self.call("/web/session/authenticate", {"db": database, "login": login, "password": password})

    def call_kw(self, model, method, args, kwargs=None):
        return self.call(f"/web/dataset/call_kw/{model}/{method}",
                         {"model": model, "method": method, "args": args, "kwargs": kwargs or {}})


class RpcError(Exception):
    @property
    def message(self):
        return self.args[0].get("data", {}).get("message", "")


@pytest.fixture
def admin(server, request):
    client = JsonRpc(server)
    client.login(request.config.getoption("--odoo-database"), "admin", "admin")
    return client


class XmlRpc:
    """An XML-RPC client logged in as one user: what an integration uses.

    ``call`` raises ``xmlrpc.client.Fault``; its ``faultCode`` tells an
    access error (4) from a refusal with a message (2) and from a server
    error (1), such as an answer that cannot be marshalled.
    """

    ACCESS_ERROR = 4
    WARNING = 2
    APPLICATION_ERROR = 1

    def __init__(self, url, database, login, password):
        self.database, self.password = database, password
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
        self.uid = common.authenticate(database, login, password, {})
        if not self.uid:
            raise RuntimeError(f"{login} could not log in over XML-RPC")
        self.login = login
        self.object = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(self, model, method, *args, **kwargs):
        return self.object.execute_kw(self.database, self.uid, self.password, model, method, list(args), kwargs)


@pytest.fixture(scope="session")
def xmlrpc_login(server, request):
    """``xmlrpc_login(login, password)``: an XML-RPC client for that user."""
    database = request.config.getoption("--odoo-database")

    def login(user_login, password):
        return XmlRpc(server, database, user_login, password)
    return login


@pytest.fixture(scope="session")
def xmlrpc_admin(xmlrpc_login):
    return xmlrpc_login("admin", "admin")


@pytest.fixture(scope="session")
def world(server, request, xmlrpc_admin, xmlrpc_login):
    """Users of each role of the access matrix and the records they act on
    (see ``recon_world.py``); rules disabled and users archived afterwards."""
    from recon_world import World

    json_admin = JsonRpc(server)
    json_admin.login(request.config.getoption("--odoo-database"), "admin", "admin")
    made = World(xmlrpc_admin, xmlrpc_login, json_admin)
    yield made
    made.close()
