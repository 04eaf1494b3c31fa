"""Every version ever used stays loadable, so old answers keep their meaning."""

import pytest
import sqlalchemy as sa
import yaml

from engage.instruments.loader import load_library
from engage.instruments.models import InstrumentVersion
from engage.instruments.scoring import score_answers
from engage.instruments.services import (
    get_instrument,
    instrument_of,
    record_instrument_version,
)


def write(folder, document):
    path = folder / f"{document['id']}.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_a_revised_instrument_keeps_its_old_version(session, tmp_path, tiny):
    write(tmp_path, tiny)
    first = load_library([tmp_path]).get("tiny")
    stored_first = record_instrument_version(first)
    assert record_instrument_version(first).id == stored_first.id  # once per content

    # The network revises the file: blood now scores 5 and the version is bumped.
    tiny["version"] = 2
    tiny["items"][1]["options"][1]["points"] = 5
    tiny["scores"][0]["bands"][1]["max"] = 19
    write(tmp_path, tiny)
    second = load_library([tmp_path]).get("tiny")
    stored_second = record_instrument_version(second)
    assert stored_second.id != stored_first.id
    assert second.content_hash != first.content_hash

    session.expire_all()
    rows = session.scalars(sa.select(InstrumentVersion).order_by(InstrumentVersion.id)).all()
    assert [(r.instrument_id, r.version) for r in rows] == [("tiny", "1"), ("tiny", "2")]

    answers = {"pain": 1, "blood": "some", "stools": 0, "night": False}
    old = instrument_of(rows[0])
    assert old.content_hash == first.content_hash
    assert score_answers(old, answers).scores["total"].value == 3
    assert score_answers(instrument_of(rows[1]), answers).scores["total"].value == 6


def test_a_tampered_stored_version_is_noticed(session, tmp_path, tiny):
    write(tmp_path, tiny)
    row = record_instrument_version(load_library([tmp_path]).get("tiny"))
    row.source = row.source.replace("Breve", "Corta")
    with pytest.raises(ValueError, match="does not match its hash"):
        instrument_of(row)


def test_the_app_loads_the_shipped_instruments(app):
    with app.app_context():
        assert get_instrument("ibd-symptoms").languages == ("en", "es")
        with pytest.raises(KeyError, match="no instrument 'nope'"):
            get_instrument("nope")
