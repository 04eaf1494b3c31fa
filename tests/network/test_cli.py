import sqlalchemy as sa

from engage.network.models import Center


def test_network_and_center_add(runner, session):
    assert runner.invoke(args=["engage", "network", "add", "icn", "Network"]).exit_code == 0
    result = runner.invoke(
        args=["engage", "center", "add", "chi", "--name", "Lakeside",
              "--time-zone", "America/Chicago", "--family-phone", "312 555 0100"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    center = session.scalar(sa.select(Center).where(Center.code == "CHI"))
    assert (center.time_zone, center.family_phone) == ("America/Chicago", "+13125550100")


def test_center_add_refuses_an_unknown_time_zone(runner, session):
    runner.invoke(args=["engage", "network", "add", "icn", "Network"])
    result = runner.invoke(
        args=["engage", "center", "add", "CHI", "--name", "L", "--time-zone", "Central"]
    )
    assert result.exit_code == 1
    assert "time_zone: 'Central' is not a known IANA time zone" in result.output
    assert session.scalar(sa.select(Center)) is None


def test_center_add_without_a_network_says_what_to_do(runner, session):
    result = runner.invoke(
        args=["engage", "center", "add", "CHI", "--name", "L", "--time-zone", "UTC"]
    )
    assert result.exit_code == 1
    assert "flask engage network add" in result.output


def test_center_quiet_hours_are_set_by_name_and_checked(runner, session):
    runner.invoke(args=["engage", "network", "add", "qh", "Quiet Network"])
    runner.invoke(
        args=["engage", "center", "add", "QH", "--name", "Quiet", "--time-zone", "Europe/Berlin"]
    )
    result = runner.invoke(args=["engage", "center", "quiet-hours", "qh", "20:30-7am"])
    assert result.exit_code == 0, result.output
    assert "center QH: quiet from 20:30 to 07:00 (Europe/Berlin)" in result.output
    bad = runner.invoke(args=["engage", "center", "quiet-hours", "QH", "late"])
    assert "quiet_hours: 'late' is not a range such as 21:00-08:00" in bad.output
    empty = runner.invoke(args=["engage", "center", "quiet-hours", "QH", "08:00-08:00"])
    assert "is empty" in empty.output
    unknown = runner.invoke(args=["engage", "center", "quiet-hours", "NOPE", "21:00-08:00"])
    assert "code: 'NOPE' is not a known center" in unknown.output
