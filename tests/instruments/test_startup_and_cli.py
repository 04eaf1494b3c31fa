"""A broken instrument file stops start-up with a message; the CLI checks and shows instruments."""

import os

import pytest
import yaml

from engage.instruments.loader import InstrumentProblems
from tests.conftest import TEST_SECRET_KEY, make_test_app
from tests.processes import import_wsgi, run_flask


def broken_folder(tmp_path, tiny):
    tiny["items"][0]["text"]["es"] = "x" * 171
    folder = tmp_path / "licensed"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(yaml.safe_dump(tiny, allow_unicode=True))
    return folder


def test_create_app_refuses_a_broken_instrument(tmp_path, tiny):
    folder = broken_folder(tmp_path, tiny)
    with pytest.raises(InstrumentProblems) as refused:
        make_test_app(f"sqlite:///{tmp_path}/x.sqlite3", ENGAGE_PROMPTS_PATH=str(folder))
    [problem] = refused.value.problems
    assert problem.endswith("tiny.yaml: item 'pain' (es): 187 characters, one SMS holds 160")


def test_extra_prompt_folders_are_loaded(tmp_path, tiny):
    folder = tmp_path / "licensed"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(yaml.safe_dump(tiny, allow_unicode=True))
    app = make_test_app(f"sqlite:///{tmp_path}/x.sqlite3", ENGAGE_PROMPTS_PATH=str(folder))
    library = app.extensions["engage.instruments"]
    assert {"ibd-symptoms", "tiny"} <= set(library.instruments)


def test_gunicorn_entry_point_says_which_file_is_broken(tmp_path, tiny):
    folder = broken_folder(tmp_path, tiny)
    environ = {
        **os.environ,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SMS_TRANSPORT": "outbox",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        "ENGAGE_PROMPTS_PATH": str(folder),
    }
    result = import_wsgi(environ)
    assert result.returncode == 4
    assert "engage cannot start: 1 problem in instrument files:" in result.stderr
    assert "tiny.yaml: item 'pain' (es): 187 characters, one SMS holds 160" in result.stderr
    assert "Traceback" not in result.stderr


def cli_environ(tmp_path, **extra):
    return {**os.environ, "ENGAGE_ENV": "development",
            "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3", **extra}  # fmt: skip


def test_instruments_check_passes_on_the_shipped_files(tmp_path):
    result = run_flask("engage", "instruments", "check", environ=cli_environ(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "ok  ibd-symptoms v" in result.stdout


def test_instruments_check_fails_with_the_problem_list(tmp_path, tiny):
    folder = broken_folder(tmp_path, tiny)
    environ = cli_environ(tmp_path, ENGAGE_PROMPTS_PATH=str(folder))
    result = run_flask("engage", "instruments", "check", environ=environ)
    assert result.returncode == 1
    assert "tiny.yaml: item 'pain' (es): 187 characters, one SMS holds 160" in result.stderr
    assert "Error: 1 problem found" in result.stderr
    assert "Traceback" not in result.stderr


def test_other_commands_also_refuse_with_the_message(tmp_path, tiny):
    folder = broken_folder(tmp_path, tiny)
    environ = cli_environ(tmp_path, ENGAGE_PROMPTS_PATH=str(folder))
    result = run_flask("engage", "demo", environ=environ)
    assert result.returncode == 1
    assert "1 problem in instrument files" in result.stderr
    assert "Traceback" not in result.stderr


def test_instruments_show_prints_the_script_with_lengths(runner):
    result = runner.invoke(args=["engage", "instruments", "show", "ibd-symptoms", "--lang", "es"])
    assert result.exit_code == 0, result.output
    assert "-- item 'bleeding' · " in result.output
    assert "characters · GSM-7" in result.output
    assert "1 Nada de sangre" in result.output
    assert "(only asked when its condition holds)" in result.output


def test_instruments_show_proxy_wording(runner):
    result = runner.invoke(args=["engage", "instruments", "show", "ibd-symptoms", "--proxy"])
    assert "your child's belly pain" in result.output


def test_instruments_show_names_an_unknown_instrument(runner):
    result = runner.invoke(args=["engage", "instruments", "show", "nope"])
    assert result.exit_code == 1
    assert "no instrument 'nope'" in result.output
