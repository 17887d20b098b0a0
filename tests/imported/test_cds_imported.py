"""CDS Hooks with an imported table: an order the curated catalogue does not know is rated where its reasons route."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tables import write_csv
from test_route import ROWS
from workup.imported.pack import import_table

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from workup.service.app import create_app  # noqa: E402
from workup.service.config import Settings  # noqa: E402

SELECT = "/cds-services/workup-order-select"


def hook(order_text: str, reason: str) -> dict:
    sr = {"resourceType": "ServiceRequest", "id": "sr1", "status": "draft", "intent": "proposal",
          "subject": {"reference": "Patient/p1"}, "code": {"text": order_text}, "reasonCode": [{"text": reason}]}
    return {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "hook": "order-select",
        "context": {"userId": "Practitioner/1", "patientId": "p1", "selections": ["ServiceRequest/sr1"],
                    "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": sr}]}},
        "prefetch": {"patient": {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1980-05-01"}},
    }


@pytest.fixture
def client(tmp_path):
    import_table(write_csv(tmp_path / "t.csv", ROWS), tmp_path / "d")
    app = create_app(Settings(dev_insecure=True, audit_path=tmp_path / "a.sqlite3", data_dir=tmp_path / "d"),
                     clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    with TestClient(app) as c:
        yield c
    app.state.workup.store.close()


def test_an_imported_order_is_rated_in_the_variant_its_reason_routes_to(client):
    r = client.post(SELECT, json=hook("XR elbow", "fell onto his elbow, point tenderness and swelling"))
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert "Radiography Elbow" in card["detail"] and "9" in card["summary"]
    assert "Sore Elbow After a Fall" in card["detail"]


def test_without_a_routable_reason_nothing_changes(client):
    r = client.post(SELECT, json=hook("XR elbow", "routine dental cleaning"))
    assert r.status_code == 200 and r.json() == {"cards": []}
