"""The JWT matrix: only a fresh ES384/RS384 token from an allow-listed issuer, for this endpoint, once."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from service_helpers import fixture

ISS = "https://ehr.example.org"
AUD = "http://testserver/cds-services/workup-order-sign"
SIGN = "/cds-services/workup-order-sign"

EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC_KEY = ec.generate_private_key(ec.SECP384R1())


def _jwk(key, kid: str, alg: str) -> dict:
    conv = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
    d = conv.to_jwk(key.public_key(), as_dict=True)
    d.update(kid=kid, alg=alg, use="sig")
    return d


ISSUERS = {ISS: {"jwks": {"keys": [_jwk(EC_KEY, "ec-1", "ES384"), _jwk(RSA_KEY, "rsa-1", "RS384")]}}}


def token(*, key=EC_KEY, alg="ES384", kid="ec-1", headers=None, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid, "typ": "JWT", **(headers or {})})


def _b64(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


def none_token() -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'ec-1'})}.{_b64(claims)}."


def hmac_token() -> str:
    # the classic confusion attack: HMAC keyed with the issuer's public key
    pem = EC_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    header = _b64({"alg": "HS384", "typ": "JWT", "kid": "ec-1"})
    payload = _b64(claims)
    import hashlib
    import hmac

    sig = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha384).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


@pytest.fixture
def secured(make_client):
    return make_client(dev_insecure=False, jwt_issuers=ISSUERS)


def call(client, tok: str | None):
    headers = {"Authorization": f"Bearer {tok}"} if tok is not None else {}
    return client.post(SIGN, json=fixture("order-sign-official.json"), headers=headers)


def test_good_es384_token_is_accepted(secured):
    assert call(secured, token()).status_code == 200


def test_good_rs384_token_is_accepted(secured):
    assert call(secured, token(key=RSA_KEY, alg="RS384", kid="rsa-1")).status_code == 200


BAD = {
    "no token": lambda: None,
    "expired": lambda: token(iat=int(time.time()) - 900, exp=int(time.time()) - 600),
    "wrong audience": lambda: token(aud="http://testserver/cds-services/workup-order-select"),
    "wrong issuer": lambda: token(iss="https://evil.example.org"),
    "none algorithm": none_token,
    "hmac": hmac_token,
    "unknown kid": lambda: token(kid="ec-404"),
    "signed by another key": lambda: token(key=OTHER_EC_KEY),
    "es256 not allowed": lambda: jwt.encode(
        {"iss": ISS, "aud": AUD, "iat": int(time.time()), "exp": int(time.time()) + 300, "jti": "x"},
        ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "ec-1"}),
    "no jti": lambda: token(jti=None),
    "no exp": lambda: token(exp=None),
    "iat in the future": lambda: token(iat=int(time.time()) + 900, exp=int(time.time()) + 1200),
    "lifetime too long": lambda: token(exp=int(time.time()) + 86400),
    "jku not allow-listed": lambda: token(headers={"jku": "https://evil.example.org/jwks"}),
    "rsa key with ec alg": lambda: token(key=RSA_KEY, alg="RS384", kid="ec-1"),
    "garbage": lambda: "not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_tokens_get_a_bare_401(secured, case):
    r = call(secured, BAD[case]())
    assert r.status_code == 401, case
    assert r.json() == {"error": {"code": "SV401", "message": "unauthorized"}}
    assert r.headers["www-authenticate"] == "Bearer"


def test_replayed_jti_is_refused(secured):
    tok = token()
    assert call(secured, tok).status_code == 200
    assert call(secured, tok).status_code == 401


def test_basic_auth_is_not_a_bearer_token(secured):
    r = secured.post(SIGN, json=fixture("order-sign-official.json"), headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401


def test_public_base_url_sets_the_expected_audience(make_client):
    c = make_client(dev_insecure=False, jwt_issuers=ISSUERS, public_base_url="https://cds.example.org/")
    assert call(c, token()).status_code == 401  # aud names testserver, not the public URL
    good = token(aud="https://cds.example.org/cds-services/workup-order-sign")
    assert call(c, good).status_code == 200


def test_api_recommend_needs_a_token_too(secured):
    assert secured.post("/v1/recommend", json={"facts": {"age": 40}}).status_code == 401
    tok = token(aud="http://testserver/v1/recommend")
    r = secured.post("/v1/recommend", json={"facts": {"age": 40}}, headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200


def test_feedback_needs_a_token(secured):
    body = {"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}
    assert secured.post(SIGN + "/feedback", json=body).status_code == 401


def test_dev_insecure_turns_checks_off_and_says_so(make_client, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="workup.service"):
        c = make_client(dev_insecure=True)
    assert "JWT verification is OFF" in caplog.text
    assert call(c, None).status_code == 200
    assert c.get("/healthz").json()["auth"] == "off"


def test_tokens_are_never_logged(secured, caplog):
    import logging

    tok = token()
    with caplog.at_level(logging.DEBUG):
        call(secured, tok)
        call(secured, tok)  # replay: refused
        req = fixture("seed-post-acdf-order-sign.json")
        secured.post(SIGN, json=req, headers={"Authorization": f"Bearer {token()}"})
    assert tok not in caplog.text
    assert "SECRET-TOKEN-NEVER-LOGGED" not in caplog.text
    assert "tingling" not in caplog.text  # free text from notes


def test_replay_cache_forgets_expired_tokens():
    from workup.service.security import ReplayCache

    now = [1000.0]
    cache = ReplayCache(max_entries=2, clock=lambda: now[0])
    assert cache.check_and_add("i", "a", 1010)
    assert not cache.check_and_add("i", "a", 1010)
    assert cache.check_and_add("i", "b", 1010)
    assert not cache.check_and_add("i", "c", 1010)  # full of live tokens: refuse rather than forget
    now[0] = 2000.0
    assert cache.check_and_add("i", "c", 2010)  # expired entries were dropped
    assert cache.check_and_add("i", "a", 2010)


def test_keys_from_a_jwks_url_are_fetched_and_cached(make_client):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    hits = []
    jwks = json.dumps({"keys": [_jwk(EC_KEY, "ec-1", "ES384")]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/jwks.json"
        c = make_client(dev_insecure=False, jwt_issuers={ISS: {"jwks_url": url}})
        assert c.app.state.workup.verifier.keysets.wait_idle()  # fetched at start-up, in the background
        assert call(c, token()).status_code == 200
        assert call(c, token()).status_code == 200
        assert hits == ["/jwks.json"]  # cached after the first fetch
        assert call(c, token(kid="ec-404")).status_code == 401
        assert call(c, token(headers={"jku": url})).status_code == 200  # its own URL may be named
    finally:
        server.shutdown()


def test_tokens_issued_before_a_restart_are_refused(secured):
    # the replay cache is in memory; a token older than the process may have been used before it
    secured.app.state.workup.verifier.started_at = time.time() + 120
    assert call(secured, token()).status_code == 401
    secured.app.state.workup.verifier.started_at = time.time() - 120
    assert call(secured, token()).status_code == 200


def test_a_jti_used_on_one_worker_is_refused_by_another(make_client):
    # two workers (two apps) on one audit database share the replay log
    a = make_client(dev_insecure=False, jwt_issuers=ISSUERS)
    b = make_client(new_id=lambda: str(uuid.uuid4()), dev_insecure=False, jwt_issuers=ISSUERS)
    tok = token()
    assert call(a, tok).status_code == 200
    assert call(b, tok).status_code == 401
    assert call(b, token()).status_code == 200


def test_the_replay_log_survives_a_restart_and_forgets_expired_tokens(tmp_path):
    from workup.audit.store import AuditStore

    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    first = AuditStore(url)
    since = first.replay_since
    assert first.check_and_add_token(ISS, "j-1", 1010.0, now=1000.0)
    assert not first.check_and_add_token(ISS, "j-1", 1010.0, now=1000.0)
    first.close()
    again = AuditStore(url)  # a restart (or another worker): same log, same start time
    assert again.replay_since == since
    assert not again.check_and_add_token(ISS, "j-1", 1010.0, now=1005.0)
    assert again.check_and_add_token("https://other.example.org", "j-1", 1010.0, now=1005.0)  # per issuer
    assert again.check_and_add_token(ISS, "j-1", 2010.0, now=2000.0)  # expired entries are forgotten
    again.close()


def test_tokens_issued_before_the_shared_replay_log_began_are_refused(secured):
    st = secured.app.state.workup
    assert st.verifier.started_at == st.store.replay_since
    st.verifier.started_at = time.time() + 120
    assert call(secured, token()).status_code == 401
