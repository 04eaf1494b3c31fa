"""``flask engage checkin start`` and the terminal simulator ``flask engage chat``."""

from tests.conversations.conftest import LAURA, NOAH, SOFIA


def test_checkin_start_opens_a_check_in_and_fills_the_outbox(runner, demo):
    result = runner.invoke(args=["engage", "checkin", "start", "E-1002", "ibd-symptoms"])
    assert result.exit_code == 0, result.output
    assert "opened for E-1002 (ibd-symptoms v" in result.output
    assert f"answered by {NOAH} as self; 2 message(s) in the outbox" in result.output


def test_checkin_start_names_what_is_wrong(runner, demo):
    unknown = runner.invoke(args=["engage", "checkin", "start", "X-1", "ibd-symptoms"])
    assert unknown.exit_code == 1
    assert "patient: 'X-1' is not a known MRN" in unknown.output
    instrument = runner.invoke(args=["engage", "checkin", "start", "EAST/E-1002", "nope"])
    assert "instrument: 'nope' is not a loaded instrument" in instrument.output
    runner.invoke(args=["engage", "checkin", "start", "E-1002", "ibd-symptoms"])
    twice = runner.invoke(args=["engage", "checkin", "start", "E-1002", "ibd-symptoms"])
    assert "already has an open check-in for E-1002" in twice.output
    assert "Traceback" not in unknown.output + instrument.output + twice.output


def test_chat_runs_a_check_in_through_the_webhook(runner, demo):
    runner.invoke(args=["engage", "checkin", "start", "E-1002", "ibd-symptoms"])
    replies = "\n".join(["1", "none", "formed", "two", "nope", "not at all", "/quit"]) + "\n"
    result = runner.invoke(args=["engage", "chat", NOAH], input=replies)
    assert result.exit_code == 0, result.output
    assert "Texting engage as +16175550102 (Noah Thompson)" in result.output
    assert "engage (outbox)> Time for your weekly check-in" in result.output
    assert "engage> Thank you! Your care team will see your answers" in result.output
    assert "engage> Your symptoms this week: Remission." in result.output


def test_chat_in_spanish_and_stop(runner, demo):
    runner.invoke(args=["engage", "checkin", "start", "E-1003", "ibd-symptoms"])
    result = runner.invoke(args=["engage", "chat", SOFIA], input="2\nPARAR\nsiete\n")
    assert "engage> ¿Que tan fuerte fue el peor dolor" in result.output
    assert "engage> Se dio de baja" in result.output
    lines_after_stop = result.output.split("Se dio de baja", 1)[1]
    assert "engage>" not in lines_after_stop


def test_chat_refuses_a_bad_number(runner, demo):
    result = runner.invoke(args=["engage", "chat", "12"])
    assert result.exit_code == 1
    assert "phone: '12' is not a valid phone number" in result.output


def test_chat_as_a_parent_for_a_young_child(runner, demo):
    runner.invoke(args=["engage", "checkin", "start", "E-1001", "ibd-symptoms"])
    result = runner.invoke(args=["engage", "chat", LAURA], input="1\n")
    assert "engage (outbox)> This check-in is about Mia." in result.output
    assert "your child's poop" in result.output
