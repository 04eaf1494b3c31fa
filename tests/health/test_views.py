import pytest

from engage.db import db
from tests.conftest import make_test_app


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    "unreachable_url",
    [
        "postgresql://postgres@127.0.0.1:1/engage",
        "sqlite:////nonexistent-directory/engage.sqlite3",
    ],
    ids=["postgresql-closed-port", "sqlite-missing-directory"],
)
def test_healthz_answers_503_with_a_reason_when_the_database_does_not_answer(unreachable_url):
    app = make_test_app(unreachable_url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unavailable"
    assert body["reason"].startswith("database did not answer: ")
    assert "Traceback" not in body["reason"]
    with app.app_context():
        db.engine.dispose()


def test_unknown_path_is_a_json_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"
