import pytest
import sqlalchemy as sa

from engage.errors import InvalidInput
from engage.network.models import Center, StaffRole
from engage.network.services import add_staff_user, get_center


def test_center_codes_are_upper_case_and_unique(make_center):
    center = make_center(code="bos")
    assert center.code == "BOS"
    with pytest.raises(InvalidInput) as refused:
        make_center(code="Bos")
    assert refused.value.field == "code"
    assert str(refused.value) == "code: 'BOS' is already the code of another center"


def test_unknown_time_zone_is_refused_with_field_and_value(make_center):
    with pytest.raises(InvalidInput) as refused:
        make_center(time_zone="America/Springfield")
    assert refused.value.field == "time_zone"
    assert "'America/Springfield' is not a known IANA time zone" in str(refused.value)


def test_models_refuse_unknown_time_zones_whatever_the_path(make_center):
    center = make_center()
    with pytest.raises(InvalidInput, match="'EST5EDT-ish'"):
        center.time_zone = "EST5EDT-ish"


def test_family_phone_is_stored_in_e164(make_center):
    center = make_center(family_phone="617-555-0100")
    assert center.family_phone == "+16175550100"


def test_get_center_names_the_unknown_code(session):
    with pytest.raises(InvalidInput, match="center: 'NOPE' is not the code of a known center"):
        get_center("NOPE")


def test_staff_emails_are_case_insensitive_and_unique(make_center):
    center = make_center()
    user = add_staff_user(
        email=" Ana.Rivera@Example.ORG ",
        full_name="Ana Rivera",
        role=StaffRole.CLINICIAN,
        centers=[center],
    )
    assert user.email == "ana.rivera@example.org"
    assert user.centers == [center]
    assert center.staff == [user]
    with pytest.raises(InvalidInput, match="already belongs to a staff user"):
        add_staff_user(email="ANA.RIVERA@example.org", full_name="A", role=StaffRole.ADMIN)


def test_staff_email_must_look_like_an_address(session):
    with pytest.raises(InvalidInput, match="email: 'ana' is not an e-mail address"):
        add_staff_user(email="ana", full_name="Ana", role=StaffRole.ADMIN)


def test_database_refuses_an_unknown_role(session, make_center):
    make_center(code="RAW")
    session.flush()
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(
            sa.text(
                "INSERT INTO staff_users (email, full_name, role, is_active, created_at) "
                "VALUES ('x@example.org', 'X', 'superuser', true, CURRENT_TIMESTAMP)"
            )
        )
    session.rollback()


def test_center_time_zone_gives_a_zoneinfo(session, make_center):
    center: Center = make_center(time_zone="America/Los_Angeles")
    assert center.zone.key == "America/Los_Angeles"
