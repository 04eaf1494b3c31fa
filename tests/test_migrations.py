"""The schema comes from the migrations, and the models never drift from them."""

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engage.db import Base, alembic_options, db
from tests.conftest import make_test_app

EXPECTED_TABLES = {
    "early_status_callbacks",
    "networks",
    "centers",
    "staff_users",
    "center_memberships",
    "patients",
    "caregivers",
    "caregiver_links",
    "contacts",
    "consent_changes",
    "visits",
    "instrument_versions",
    "messages",
    "sign_in_attempts",
    "audit_events",
    "api_tokens",
    "message_status_events",
    "send_windows",
    "enrollments",
    "checkins",
    "answers",
    "checkin_scores",
    "contact_conversations",
    "alerts",
    "ideas",
    "idea_status_changes",
    "idea_votes",
    "idea_comments",
    "idea_tags",
    "idea_followers",
    "idea_testing_centers",
    "idea_digests",
    "sign_in_codes",
    "app_tokens",
    "proxy_grants",
}


def schema_differences(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=alembic_options())
        return compare_metadata(context, Base.metadata)


@pytest.fixture
def empty_app(backend, new_database):
    app = make_test_app(new_database(backend))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_flask_db_upgrade_builds_the_schema_from_nothing(empty_app):
    with empty_app.app_context():
        assert sa.inspect(db.engine).get_table_names() == []

    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    with empty_app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
        assert EXPECTED_TABLES | {"alembic_version"} == tables
        assert schema_differences(db.engine) == []


def test_models_and_migrations_agree(migrated_app):
    with migrated_app.app_context():
        differences = schema_differences(db.engine)
    assert differences == [], (
        "models and migrations differ; write a migration with "
        "`flask --app engage db migrate -m '...'` and review it"
    )


def test_the_drift_check_notices_a_change(empty_app):
    """The check above can fail: a column the migrations lack is reported."""
    with empty_app.app_context():
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE networks ADD COLUMN stray VARCHAR(10)"))
        differences = schema_differences(db.engine)
    assert any(d[0] == "remove_column" and d[2] == "networks" for d in differences), differences


def test_downgrade_to_base_and_up_again(empty_app):
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        assert EXPECTED_TABLES <= set(sa.inspect(db.engine).get_table_names())


def test_check_constraints_admit_every_value_of_their_enum(migrated_app):
    """Autogenerate does not compare CHECK constraints: a new enum value needs a migration."""
    with migrated_app.app_context():
        inspector = sa.inspect(db.engine)
        missing = []
        for table in Base.metadata.sorted_tables:
            checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
            for column in table.columns:
                enum_class = getattr(column.type, "enum_class", None)
                if enum_class is None:
                    continue
                name = f"ck_{table.name}_{column.type.name}"
                assert name in checks, f"{name} is not in the migrated schema"
                missing += [
                    f"{table.name}.{column.name}={member.value}"
                    for member in enum_class
                    if f"'{member.value}'" not in checks[name]
                ]
        assert missing == []
