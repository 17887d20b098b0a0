"""Forged tokens naming unknown key ids cannot make the service hammer the EHR's JWKS URL
or hold up legitimate calls: keys are fetched off the request path, at most once per
refresh floor, and an unknown ``kid`` is refused at once while a fetch is under way."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_security import EC_KEY, ISS, OTHER_EC_KEY, _jwk, call, token

from workup.service.keysets import KeyRefused, KeySets


class JwksServer:
    """A real local JWKS endpoint that counts its fetches and can be made to hang."""

    def __init__(self, keys: list[dict]) -> None:
        self.keys = keys
        self.hits = 0
        self.gate = threading.Event()
        self.gate.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits += 1
                outer.gate.wait(30)  # a slow EHR: the fetch hangs until the test lets it go
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()


@pytest.fixture
def jwks():
    s = JwksServer([_jwk(EC_KEY, "ec-1", "ES384")])
    yield s
    s.close()


def forged() -> str:
    return token(key=OTHER_EC_KEY, kid=f"forged-{uuid.uuid4()}")


def test_a_flood_of_unknown_kids_costs_one_fetch_and_legitimate_calls_do_not_wait(make_client, jwks):
    c = make_client(dev_insecure=False, jwt_issuers={ISS: {"jwks_url": jwks.url}}, jwks_refresh_floor_seconds=3600)
    keysets = c.app.state.workup.verifier.keysets
    assert keysets.wait_idle()
    assert jwks.hits == 1  # the start-up fetch

    jwks.gate.clear()  # from now on the EHR's JWKS endpoint hangs
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: call(c, forged()).status_code, range(120)))
    assert statuses == [401] * 120
    # legitimate calls are answered while nothing could be fetched, and fetch nothing
    assert [call(c, token()).status_code for _ in range(5)] == [200] * 5
    # the floor had not passed since the start-up fetch: not one fetch on behalf of the flood
    assert jwks.hits == 1 and keysets.fetches[jwks.url] == 1
    jwks.gate.set()


def test_an_unknown_kid_is_refused_at_once_while_its_fetch_is_pending(make_client, jwks):
    c = make_client(dev_insecure=False, jwt_issuers={ISS: {"jwks_url": jwks.url}}, jwks_refresh_floor_seconds=0)
    keysets = c.app.state.workup.verifier.keysets
    assert keysets.wait_idle()
    jwks.gate.clear()
    jwks.keys = [_jwk(EC_KEY, "ec-1", "ES384"), _jwk(OTHER_EC_KEY, "ec-2", "ES384")]  # the EHR rotates its key
    rotated = lambda: token(key=OTHER_EC_KEY, kid="ec-2")  # noqa: E731
    assert call(c, rotated()).status_code == 401  # refused at once: its fetch hangs at the EHR
    assert keysets.pending(jwks.url)
    for _ in range(50):  # a flood while that fetch is pending starts no other
        assert call(c, forged()).status_code == 401
    assert call(c, token()).status_code == 200
    assert keysets.fetches[jwks.url] == 2 and jwks.hits == 2
    jwks.gate.set()
    assert keysets.wait_idle()
    assert call(c, rotated()).status_code == 200  # the next call after the rotation is accepted


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_refresh_floor_allows_one_fetch_per_interval_whatever_arrives():
    clock, fetched = FakeClock(), []
    ks = KeySets(refresh_floor_s=60, max_age_s=300, fetch=lambda u: fetched.append(u) or {"keys": []}, clock=clock)
    for _ in range(100):
        with pytest.raises(KeyRefused):
            ks.key("https://ehr/jwks", "nope", "ES384")
        assert ks.wait_idle()
    assert fetched == ["https://ehr/jwks"]
    clock.t += 59
    with pytest.raises(KeyRefused):
        ks.key("https://ehr/jwks", "nope", "ES384")
    assert ks.wait_idle() and len(fetched) == 1
    clock.t += 1
    with pytest.raises(KeyRefused):
        ks.key("https://ehr/jwks", "nope", "ES384")
    assert ks.wait_idle() and len(fetched) == 2


def test_a_failed_fetch_keeps_the_last_good_keys_and_a_stale_set_refreshes_in_the_background():
    clock, calls = FakeClock(), []
    good = {"keys": [_jwk(EC_KEY, "ec-1", "ES384")]}

    def fetch(url):
        calls.append(url)
        if len(calls) > 1:
            raise OSError("EHR down")
        return good

    ks = KeySets(refresh_floor_s=60, max_age_s=300, fetch=fetch, clock=clock)
    ks.prefetch(["u"])
    assert ks.wait_idle()
    assert ks.key("u", "ec-1", "ES384") is not None
    clock.t += 301  # stale: the key still serves while a refresh is started
    assert ks.key("u", "ec-1", "ES384") is not None
    assert ks.wait_idle() and len(calls) == 2
    assert ks.key("u", "ec-1", "ES384") is not None  # the failed refresh kept it
    with pytest.raises(KeyRefused, match="another algorithm"):
        ks.key("u", "ec-1", "RS384")
