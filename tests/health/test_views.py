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


def test_readyz_is_ready_on_a_migrated_database_with_instruments(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "ok"
    assert body["checks"]["instruments"].startswith("ok (")


def test_readyz_says_to_migrate_an_unmigrated_database(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert "db upgrade" in body["checks"]["migrations"]
    with app.app_context():
        db.engine.dispose()


def test_readyz_names_an_old_schema_version(client, session):
    import sqlalchemy as sa

    session.execute(sa.text("UPDATE alembic_version SET version_num = '0007'"))
    body = client.get("/readyz").get_json()
    assert body["status"] == "not_ready"
    from engage.health.views import known_migrations

    (head,) = known_migrations()[0]
    assert body["checks"]["migrations"].startswith(f"schema at 0007, code expects {head}: run")


def test_readyz_without_a_database_is_not_ready():
    app = make_test_app("postgresql://postgres@127.0.0.1:1/engage")
    body = app.test_client().get("/readyz").get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("database did not answer: ")
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("version", "status", "says"),
    [
        ("0099_from_a_newer_release", 200, "ok (schema at 0099_from_a_newer_release is newer"),
        ("0001", 503, "schema at 0001, code expects "),
    ],
    ids=["newer-release-migrated", "behind"],
)
def test_readyz_during_a_rolling_upgrade(tmp_path, version, status, says):
    """Old hosts stay ready while a newer release migrates; a schema behind the code is not."""
    import flask_migrate
    import sqlalchemy as sa

    app = make_test_app(f"sqlite:///{tmp_path / 'rolling.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"), {"v": version}
            )
    response = app.test_client().get("/readyz")
    assert response.status_code == status
    assert response.get_json()["checks"]["migrations"].startswith(says)
    with app.app_context():
        db.engine.dispose()
