"""Read instrument files, check every rule, and build immutable instruments.

A problem never stops the checking of the rest of a file: the writer gets the
whole list at once, each line naming the file, the place and the problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError

from engage.config import ConfigurationError
from engage.instruments.model import (
    AllOf,
    AnyOf,
    Band,
    Condition,
    Instrument,
    Item,
    ItemTest,
    ItemType,
    Option,
    PointRange,
    RedFlag,
    Respondent,
    RespondentMode,
    Score,
    ScoreTest,
    Translations,
)
from engage.instruments.render import item_message
from engage.instruments.schemas import InstrumentSchema
from engage.instruments.sms import segment_fit

SUPPORTED_LANGUAGES = ("en", "es")
REQUIRED_LANGUAGES = ("en", "es")
INSTRUMENT_SUFFIXES = (".yaml", ".yml")
DEFAULT_TEXT_MAX_LENGTH = 480

ITEM_OPERATORS = ("equals", "in", "gte", "lte", "answered", "mentions")
SCORE_OPERATORS = ("gte", "lte", "band")


class InstrumentProblems(ConfigurationError):
    """One or more instrument files are broken; ``problems`` has one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in instrument files:"
        super().__init__("\n".join([heading, *(f"  {line}" for line in self.problems)]))


@dataclass
class Library:
    """The instruments the service can send, by id (the current version of each)."""

    instruments: dict[str, Instrument] = field(default_factory=dict)

    def get(self, instrument_id: str) -> Instrument:
        try:
            return self.instruments[instrument_id]
        except KeyError:
            known = ", ".join(sorted(self.instruments)) or "none"
            raise KeyError(f"no instrument {instrument_id!r} (loaded: {known})") from None

    def __iter__(self) -> Any:
        return iter(sorted(self.instruments.values(), key=lambda i: i.id))

    def __len__(self) -> int:
        return len(self.instruments)


def instrument_files(folders: Iterable[Path]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    problems: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            problems.append(f"{display_path(folder)}: is not a folder (ENGAGE_PROMPTS_PATH)")
            continue
        files.extend(
            sorted(p for p in folder.iterdir() if p.suffix in INSTRUMENT_SUFFIXES and p.is_file())
        )
    return files, problems


def load_library(folders: Iterable[Path]) -> Library:
    """Load every instrument file; raise ``InstrumentProblems`` listing every problem found."""
    files, problems = instrument_files(folders)
    library = Library()
    first_seen: dict[str, str] = {}
    for path in files:
        try:
            instrument = parse_instrument(path.read_text(encoding="utf-8"), display_path(path))
        except InstrumentProblems as broken:
            problems.extend(broken.problems)
            continue
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{display_path(path)}: cannot be read as UTF-8 text ({error})")
            continue
        if instrument.id in library.instruments:
            problems.append(
                f"{display_path(path)}: instrument id {instrument.id!r} is already used by "
                f"{first_seen[instrument.id]}"
            )
            continue
        library.instruments[instrument.id] = instrument
        first_seen[instrument.id] = display_path(path)
    if problems:
        raise InstrumentProblems(problems)
    return library


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def content_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def parse_instrument(source: str, path: str = "<instrument>") -> Instrument:
    """Build one instrument from the text of its file, or raise every problem in it."""
    try:
        document = yaml.safe_load(source)
    except yaml.YAMLError as error:
        raise InstrumentProblems([f"{path}: {describe_yaml_error(error)}"]) from None
    if not isinstance(document, dict):
        raise InstrumentProblems(
            [f"{path}: is not an instrument: expected keys such as id, version, items"]
        )
    try:
        data = InstrumentSchema().load(document)
    except ValidationError as error:
        lines = describe_schema_errors(error.messages, document)
        raise InstrumentProblems([f"{path}: {line}" for line in lines]) from None

    builder = _Builder(data, path)
    instrument = builder.build(source)
    if builder.problems:
        raise InstrumentProblems(builder.problems)
    return instrument


def describe_yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"YAML syntax error: {problem}"


def describe_schema_errors(messages: Any, document: Any, trail: tuple[Any, ...] = ()) -> list[str]:
    """Turn marshmallow's nested messages into lines that name items by their id."""
    if isinstance(messages, list):
        return [f"{place(trail, document)}: {m}" if trail else str(m) for m in messages]
    lines: list[str] = []
    for key, value in messages.items():
        if isinstance(value, (dict, list)):
            lines.extend(describe_schema_errors(value, document, (*trail, key)))
        else:
            lines.append(f"{place((*trail, key), document)}: {value}")
    return lines


def place(trail: tuple[Any, ...], document: Any) -> str:
    """``items.3.type`` -> ``item 'pain': type`` (or ``item #4`` when it has no id)."""
    words: list[str] = []
    node = document
    index = 0
    while index < len(trail):
        key = trail[index]
        child = node.get(key) if isinstance(node, dict) else None
        next_key = trail[index + 1] if index + 1 < len(trail) else None
        if isinstance(next_key, int) and isinstance(child, list):
            entry = child[next_key] if next_key < len(child) else None
            name = entry.get("id") or entry.get("code") if isinstance(entry, dict) else None
            singular = {"items": "item", "scores": "score", "red_flags": "red flag",
                        "options": "option", "bands": "band"}.get(str(key), str(key))  # fmt: skip
            words.append(f"{singular} {name!r}" if name else f"{singular} #{next_key + 1}")
            node = entry
            index += 2
            continue
        words.append(str(key))
        node = child
        index += 1
    return ": ".join(words) if words else "file"


class _Builder:
    """Builds an instrument from schema-checked data, collecting every problem."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path
        self.problems: list[str] = []
        self.languages: tuple[str, ...] = ()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(
            f"{self.path}: {where}: {message}" if where else f"{self.path}: {message}"
        )

    # -- the whole file -------------------------------------------------------------------
    def build(self, source: str) -> Instrument:
        data = self.data
        self.languages = self.check_languages(data["languages"])
        respondent = self.build_respondent(data["respondent"])
        title = self.translations(data["title"], "title")
        intro = self.translations(data.get("intro"), "intro")
        closing = self.translations(data.get("closing"), "closing")
        items = self.build_items(data["items"], respondent)
        scores = self.build_scores(data.get("scores", []), items)
        red_flags = self.build_red_flags(data.get("red_flags", []), items, scores)
        instrument = Instrument(
            id=data["id"],
            version=data["version"],
            title=title or {},
            languages=self.languages,
            respondent=respondent,
            items=tuple(items.values()),
            scores=tuple(scores.values()),
            red_flags=tuple(red_flags),
            intro=intro,
            closing=closing,
            content_hash=content_hash(source),
            source=source,
            path=self.path,
        )
        self.check_message_lengths(instrument)
        return instrument

    def check_languages(self, languages: list[str]) -> tuple[str, ...]:
        for language in languages:
            if language not in SUPPORTED_LANGUAGES:
                self.problem(
                    "languages",
                    f"{language!r} is not a language engage sends in "
                    f"({', '.join(SUPPORTED_LANGUAGES)})",
                )
        if len(set(languages)) != len(languages):
            self.problem("languages", "a language is listed twice")
        for language in REQUIRED_LANGUAGES:
            if language not in languages:
                self.problem(
                    "languages",
                    f"missing language {language!r}: every instrument has "
                    + " and ".join(REQUIRED_LANGUAGES),
                )
        return tuple(dict.fromkeys(languages))

    def translations(self, value: Translations | None, where: str) -> Translations | None:
        if value is None:
            return None
        for language in self.languages:
            if language not in value:
                self.problem(where, f"has no {language!r} text")
        for language in value:
            if language not in self.languages:
                self.problem(where, f"has {language!r} text, but {language!r} is not in languages")
        return dict(value)

    def build_respondent(self, data: dict[str, Any]) -> Respondent:
        respondent = Respondent(
            mode=data["mode"],
            min_age=data["min_age"],
            max_age=data["max_age"],
            self_from_age=data.get("self_from_age"),
        )
        if respondent.min_age > respondent.max_age:
            self.problem(
                "respondent",
                f"min_age {respondent.min_age} is above max_age {respondent.max_age}",
            )
        if respondent.self_from_age is not None:
            if respondent.mode is not RespondentMode.EITHER:
                self.problem("respondent", "self_from_age only applies to mode 'either'")
            elif not respondent.min_age <= respondent.self_from_age <= respondent.max_age:
                self.problem("respondent", "self_from_age is outside min_age..max_age")
        return respondent

    # -- items ----------------------------------------------------------------------------
    def build_items(self, entries: list[dict[str, Any]], respondent: Respondent) -> dict[str, Item]:
        items: dict[str, Item] = {}
        for entry in entries:
            item_id = entry["id"]
            where = f"item {item_id!r}"
            if item_id in items:
                self.problem(where, "the id is used by an earlier item")
                continue
            item = self.build_item(entry, where)
            if respondent.mode is RespondentMode.EITHER and item.proxy_text is None:
                self.problem(
                    where,
                    "needs proxy_text: with respondent mode 'either' a parent may answer",
                )
            if "when" in entry:
                later = frozenset(e["id"] for e in entries) - set(items)
                condition = self.condition(entry["when"], f"{where}: when", items, {}, later)
                item = replace(item, ask_when=condition)
            items[item_id] = item
        return items

    def build_item(self, entry: dict[str, Any], where: str) -> Item:
        kind: ItemType = entry["type"]
        allowed = {
            ItemType.INTEGER: {"min", "max", "points"},
            ItemType.SCALE: {"min", "max", "points", "anchors"},
            ItemType.CHOICE: {"options"},
            ItemType.YES_NO: {"points"},
            ItemType.TEXT: {"max_length", "becomes_idea"},
        }[kind]
        common = {"id", "type", "text", "proxy_text", "required", "when", "points_when_not_asked"}
        for key in entry:
            if key == "becomes_idea" and kind is not ItemType.TEXT:
                self.problem(
                    where,
                    f"becomes_idea is only for text items: an idea is free text "
                    f"(this item is {kind.value})",
                )
            elif key not in allowed | common:
                self.problem(where, f"{key} is not used by {kind.value} items")
        item = Item(
            id=entry["id"],
            type=kind,
            text=self.translations(entry["text"], f"{where}: text") or {},
            proxy_text=self.translations(entry.get("proxy_text"), f"{where}: proxy_text"),
            required=entry.get("required", kind is not ItemType.TEXT),
            points_when_not_asked=entry.get("points_when_not_asked"),
        )
        if item.points_when_not_asked is not None and "when" not in entry:
            self.problem(where, "points_when_not_asked needs a when condition")
        if kind in (ItemType.INTEGER, ItemType.SCALE):
            return self.build_numeric(item, entry, where)
        if kind is ItemType.CHOICE:
            return self.build_choice(item, entry, where)
        if kind is ItemType.YES_NO:
            return self.build_yes_no(item, entry, where)
        max_length = entry.get("max_length", DEFAULT_TEXT_MAX_LENGTH)
        if item.required:
            self.problem(where, "a free-text item is always optional: remove required: true")
        return replace(
            item,
            max_length=max_length,
            required=False,
            becomes_idea=entry.get("becomes_idea", False),
        )

    def build_numeric(self, item: Item, entry: dict[str, Any], where: str) -> Item:
        minimum, maximum = entry.get("min"), entry.get("max")
        if item.type is ItemType.SCALE:
            minimum = 0 if minimum is None else minimum
            maximum = 10 if maximum is None else maximum
        if minimum is None or maximum is None:
            self.problem(where, "an integer item needs min and max (e.g. min: 0, max: 30)")
            return item
        if minimum >= maximum:
            self.problem(where, f"min {minimum} must be below max {maximum}")
            return item
        item = replace(item, minimum=minimum, maximum=maximum)
        if item.type is ItemType.SCALE:
            item = replace(item, anchors=self.build_anchors(entry.get("anchors"), item, where))
        if "points" in entry:
            item = replace(item, point_ranges=self.build_ranges(entry["points"], item, where))
        return item

    def build_anchors(
        self, anchors: dict[str, dict[int, str]] | None, item: Item, where: str
    ) -> dict[str, dict[int, str]]:
        if not anchors:
            self.problem(where, "a scale needs anchors, e.g. {en: {0: no pain, 10: worst pain}}")
            return {}
        self.translations({k: "x" for k in anchors}, f"{where}: anchors")
        for language, labels in anchors.items():
            for value in labels:
                if not item.minimum <= value <= item.maximum:  # type: ignore[operator]
                    self.problem(
                        f"{where} ({language})",
                        f"anchor {value} is outside {item.minimum}..{item.maximum}",
                    )
            for end in (item.minimum, item.maximum):
                if end not in labels:
                    self.problem(f"{where} ({language})", f"anchors need a label for {end}")
        return {language: dict(labels) for language, labels in anchors.items()}

    def build_ranges(self, raw: Any, item: Item, where: str) -> tuple[PointRange, ...]:
        if not isinstance(raw, list) or not raw:
            self.problem(where, "points must be a list of {from, to, points} ranges")
            return ()
        ranges: list[PointRange] = []
        for number, entry in enumerate(raw, start=1):
            if (
                not isinstance(entry, dict)
                or set(entry) != {"from", "to", "points"}
                or not all(
                    isinstance(entry[k], int) and not isinstance(entry[k], bool) for k in entry
                )  # fmt: skip
            ):
                self.problem(where, f"points range #{number} must be {{from: n, to: n, points: n}}")
                return ()
            ranges.append(PointRange(entry["from"], entry["to"], entry["points"]))
        ranges.sort(key=lambda r: r.low)
        assert item.minimum is not None and item.maximum is not None
        expected, maximum = item.minimum, item.maximum
        for point_range in ranges:
            if point_range.low > point_range.high:
                self.problem(
                    where, f"points range {point_range.low}-{point_range.high} is reversed"
                )
                return ()
            if point_range.low < expected:
                self.problem(
                    where, f"points ranges overlap or start below min at {point_range.low}"
                )
                return ()
            if point_range.low > expected:
                self.problem(where, f"answer {expected} has no points (ranges leave a gap)")
                return ()
            expected = point_range.high + 1
        if expected != maximum + 1:
            self.problem(
                where, f"points ranges end at {expected - 1}, but answers go up to {maximum}"
            )
            return ()
        return tuple(ranges)

    def build_choice(self, item: Item, entry: dict[str, Any], where: str) -> Item:
        options_data = entry.get("options") or []
        if len(options_data) < 2:
            self.problem(where, "a choice item needs at least two options")
            return item
        options: list[Option] = []
        for option in options_data:
            if any(o.code == option["code"] for o in options):
                self.problem(where, f"option code {option['code']!r} is used twice")
            options.append(
                Option(
                    code=option["code"],
                    label=self.translations(option["label"], f"{where}: option {option['code']!r}")
                    or {},
                    points=option.get("points"),
                )
            )
        with_points = [o for o in options if o.points is not None]
        if with_points and len(with_points) != len(options):
            missing = ", ".join(repr(o.code) for o in options if o.points is None)
            self.problem(where, f"every option needs points once one has them; missing: {missing}")
        return replace(item, options=tuple(options))

    def build_yes_no(self, item: Item, entry: dict[str, Any], where: str) -> Item:
        points = entry.get("points")
        if points is None:
            return item
        if isinstance(points, dict):
            # YAML 1.1 reads the keys yes and no as booleans.
            points = {{True: "yes", False: "no"}.get(k, k): v for k, v in points.items()}
        if (
            not isinstance(points, dict)
            or set(points) != {"yes", "no"}
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in points.values())
        ):
            self.problem(where, "points of a yes_no item must be {yes: n, no: n}")
            return item
        return replace(item, yes_points=points["yes"], no_points=points["no"])

    # -- conditions -----------------------------------------------------------------------
    def condition(
        self,
        raw: Any,
        where: str,
        items: Mapping[str, Item],
        scores: Mapping[str, Score],
        later: frozenset[str] = frozenset(),
    ) -> Condition | None:
        """Parse a condition over ``items`` and ``scores``; ``later`` items are not asked yet."""
        if not isinstance(raw, dict) or not raw:
            self.problem(where, "a condition is a mapping such as {item: pain, gte: 8}")
            return None
        if set(raw) in ({"all"}, {"any"}):
            ((key, parts),) = raw.items()
            if not isinstance(parts, list) or not parts:
                self.problem(where, f"{key} needs a list of conditions")
                return None
            parsed = [self.condition(part, where, items, scores, later) for part in parts]
            if any(p is None for p in parsed):
                return None
            conditions = tuple(p for p in parsed if p is not None)
            return AllOf(conditions) if key == "all" else AnyOf(conditions)
        if "item" in raw:
            return self.item_condition(raw, where, items, later)
        if "score" in raw:
            return self.score_condition(raw, where, scores)
        self.problem(
            where, f"cannot read condition {raw!r}: start it with item:, score:, all: or any:"
        )
        return None

    def operator_of(
        self, raw: dict[str, Any], subject: str, operators: Sequence[str], where: str
    ) -> str | None:
        given = [key for key in raw if key != subject]
        if len(given) != 1 or given[0] not in operators:
            self.problem(
                where,
                f"{'an' if subject == 'item' else 'a'} {subject} condition needs exactly one of "
                f"{', '.join(operators)} "
                f"(got {', '.join(given) or 'none'})",
            )
            return None
        return given[0]

    def item_condition(
        self, raw: dict[str, Any], where: str, items: Mapping[str, Item], later: frozenset[str]
    ) -> Condition | None:
        item_id = raw["item"]
        item = items.get(item_id)
        if item is None:
            if item_id in later:
                self.problem(where, f"refers to item {item_id!r}, which is asked later")
            else:
                self.problem(where, f"refers to item {item_id!r}, which does not exist")
            return None
        operator = self.operator_of(raw, "item", ITEM_OPERATORS, where)
        if operator is None:
            return None
        value = raw[operator]
        if operator == "answered":
            if not isinstance(value, bool):
                self.problem(where, "answered takes true or false")
                return None
            return ItemTest(item_id, operator, value)
        if operator == "mentions":
            return self.mentions_condition(item, value, where)
        if operator in ("gte", "lte"):
            if item.type not in (ItemType.INTEGER, ItemType.SCALE):
                self.problem(
                    where, f"{operator} compares numbers; item {item_id!r} is {item.type.value}"
                )
                return None
            if not isinstance(value, int) or isinstance(value, bool):
                self.problem(where, f"{operator} needs a whole number, not {value!r}")
                return None
            return ItemTest(item_id, operator, value)
        values = value if operator == "in" else [value]
        if operator == "in" and (not isinstance(value, list) or not value):
            self.problem(where, "in needs a list of answers")
            return None
        for answer in values:
            problem = answer_problem(item, answer)
            if problem:
                self.problem(where, problem)
                return None
        return ItemTest(item_id, operator, tuple(values) if operator == "in" else value)

    def mentions_condition(self, item: Item, value: Any, where: str) -> Condition | None:
        if item.type is not ItemType.TEXT:
            self.problem(
                where, f"mentions looks into free text; item {item.id!r} is {item.type.value}"
            )
            return None
        if isinstance(value, list):
            value = {language: value for language in self.languages}
        if isinstance(value, dict):
            for language in value:
                if language not in self.languages:
                    self.problem(where, f"mentions has words for {language!r}, not in languages")
                    return None
        if not isinstance(value, dict) or not all(
            isinstance(words, list)
            and words
            and all(isinstance(w, str) and w.strip() for w in words)
            for words in value.values()
        ):
            self.problem(
                where, "mentions needs lists of words or phrases, e.g. {en: [...], es: [...]}"
            )
            return None
        phrases = tuple(sorted({w.strip() for words in value.values() for w in words}))
        return ItemTest(item.id, "mentions", phrases)

    def score_condition(
        self, raw: dict[str, Any], where: str, scores: Mapping[str, Score]
    ) -> Condition | None:
        score = scores.get(raw["score"])
        if score is None:
            self.problem(where, f"refers to score {raw['score']!r}, which does not exist")
            return None
        operator = self.operator_of(raw, "score", SCORE_OPERATORS, where)
        if operator is None:
            return None
        value = raw[operator]
        if operator == "band":
            bands = value if isinstance(value, list) else [value]
            unknown = [b for b in bands if b not in {band.id for band in score.bands}]
            if unknown:
                self.problem(where, f"score {score.id!r} has no band {unknown[0]!r}")
                return None
            return ScoreTest(score.id, "band", tuple(bands))
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.problem(where, f"{operator} needs a number, not {value!r}")
            return None
        return ScoreTest(score.id, operator, value)

    # -- scores ---------------------------------------------------------------------------
    def build_scores(
        self, entries: list[dict[str, Any]], items: Mapping[str, Item]
    ) -> dict[str, Score]:
        scores: dict[str, Score] = {}
        for entry in entries:
            where = f"score {entry['id']!r}"
            if entry["id"] in scores:
                self.problem(where, "the id is used by an earlier score")
                continue
            score = self.build_score(entry, items, where)
            if score is not None:
                scores[score.id] = score
        return scores

    def build_score(
        self, entry: dict[str, Any], items: Mapping[str, Item], where: str
    ) -> Score | None:
        item_ids: list[str] = entry["items"]
        usable = True
        bounds: list[tuple[int, int]] = []
        for item_id in item_ids:
            item = items.get(item_id)
            if item is None:
                self.problem(where, f"refers to item {item_id!r}, which does not exist")
                usable = False
                continue
            reason = unscorable(item)
            if reason:
                self.problem(where, f"item {item_id!r} {reason}")
                usable = False
                continue
            bounds.append(point_bounds(item))
        if len(set(item_ids)) != len(item_ids):
            self.problem(where, "an item is listed twice")
            usable = False
        reverse = entry.get("reverse", [])
        for item_id in reverse:
            if item_id not in item_ids:
                self.problem(where, f"reverse-coded item {item_id!r} is not one of its items")
                usable = False
        min_answered = entry.get("min_answered", len(item_ids))
        if min_answered > len(item_ids):
            self.problem(
                where, f"min_answered {min_answered} is more than its {len(item_ids)} items"
            )
            usable = False
        label = self.translations(entry["label"], f"{where}: label") or {}
        if not usable:
            return None

        raw_min = sum(low for low, _ in bounds)
        raw_max = sum(high for _, high in bounds)
        lookup = entry.get("lookup")
        possible: list[float] = list(range(raw_min, raw_max + 1))
        if lookup is not None:
            missing = [raw for raw in range(raw_min, raw_max + 1) if raw not in lookup]
            if missing:
                self.problem(
                    where,
                    f"lookup has no standard score for raw sum {missing[0]} "
                    f"(it must cover {raw_min}..{raw_max})",
                )
                return None
            possible = [float(lookup[raw]) for raw in range(raw_min, raw_max + 1)]
        bands = self.build_bands(entry.get("bands", []), possible, where)
        tell = self.translations(entry.get("tell_respondent"), f"{where}: tell_respondent")
        if tell is not None:
            if not bands:
                self.problem(where, "tell_respondent needs bands to tell")
            for language, text in tell.items():
                if "{band}" not in text:
                    self.problem(f"{where}: tell_respondent ({language})", "needs {band}")
        return Score(
            id=entry["id"],
            label=label,
            items=tuple(item_ids),
            reverse=frozenset(reverse),
            min_answered=min_answered,
            prorate=entry.get("prorate", False),
            lookup=dict(lookup) if lookup is not None else None,
            bands=bands,
            minimum=min(possible),
            maximum=max(possible),
            raw_minimum=raw_min,
            raw_maximum=raw_max,
            tell_respondent=tell,
        )

    def build_bands(
        self, entries: list[dict[str, Any]], possible: list[float], where: str
    ) -> tuple[Band, ...]:
        bands = [
            Band(
                id=entry["id"],
                label=self.translations(entry["label"], f"{where}: band {entry['id']!r}") or {},
                minimum=entry["min"],
                maximum=entry["max"],
            )
            for entry in entries
        ]
        if not bands:
            return ()
        ids = [band.id for band in bands]
        if len(set(ids)) != len(ids):
            self.problem(where, "a band id is used twice")
        for band in bands:
            if band.minimum > band.maximum:
                self.problem(
                    where, f"band {band.id!r} has min {band.minimum} above max {band.maximum}"
                )
                return ()
        ordered = sorted(bands, key=lambda b: b.minimum)
        for lower, upper in zip(ordered, ordered[1:], strict=False):
            if upper.minimum <= lower.maximum:
                self.problem(
                    where,
                    f"bands {lower.id!r} ({fmt(lower.minimum)}-{fmt(lower.maximum)}) and "
                    f"{upper.id!r} ({fmt(upper.minimum)}-{fmt(upper.maximum)}) overlap",
                )
                return ()
        for value in possible:
            if not any(band.contains(value) for band in bands):
                self.problem(where, f"a score of {fmt(value)} falls in no band")
                return ()
        return tuple(ordered)

    # -- red flags ------------------------------------------------------------------------
    def build_red_flags(
        self, entries: list[dict[str, Any]], items: Mapping[str, Item], scores: Mapping[str, Score]
    ) -> list[RedFlag]:
        flags: list[RedFlag] = []
        for entry in entries:
            where = f"red flag {entry['id']!r}"
            if any(flag.id == entry["id"] for flag in flags):
                self.problem(where, "the id is used by an earlier red flag")
                continue
            condition = self.condition(entry["when"], where, items, scores)
            message = self.translations(entry["message"], f"{where}: message")
            if condition is not None and message is not None:
                flags.append(RedFlag(entry["id"], entry["severity"], condition, message))
        return flags

    # -- SMS lengths ----------------------------------------------------------------------
    def check_message_lengths(self, instrument: Instrument) -> None:
        for language in instrument.languages:
            if instrument.intro:
                self.check_fit("intro", language, instrument.intro.get(language))
            if instrument.closing:
                self.check_fit("closing", language, instrument.closing.get(language))
            for item in instrument.items:
                self.check_fit(f"item {item.id!r}", language, rendered(item, language, False))
                if item.proxy_text:
                    self.check_fit(
                        f"item {item.id!r} proxy_text", language, rendered(item, language, True)
                    )
            for flag in instrument.red_flags:
                self.check_fit(f"red flag {flag.id!r}", language, flag.message.get(language))
            for score in instrument.scores:
                if score.tell_respondent and language in score.tell_respondent:
                    for band in score.bands:
                        if language in band.label:
                            self.check_fit(
                                f"score {score.id!r} tell_respondent, band {band.id!r}",
                                language,
                                score.respondent_summary(band, language),
                            )

    def check_fit(self, where: str, language: str, text: str | None) -> None:
        if text is None:
            return  # a missing translation, already reported
        fit = segment_fit(text)
        if fit.fits:
            return
        because = (
            f" (UCS-2, because of {fit.first_unicode_character!r})"
            if fit.first_unicode_character
            else ""
        )
        self.problem(
            f"{where} ({language})",
            f"{fit.length} characters, one SMS holds {fit.limit}{because}",
        )


def rendered(item: Item, language: str, proxy: bool) -> str | None:
    """The item's SMS, or None when a translation it needs is missing (reported elsewhere)."""
    try:
        return item_message(item, language, proxy=proxy)
    except KeyError:
        return None


def fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def unscorable(item: Item) -> str | None:
    """Why an item cannot count towards a score, or None when it can."""
    if item.type is ItemType.TEXT:
        return "is free text and cannot be scored"
    if item.type is ItemType.CHOICE and any(o.points is None for o in item.options):
        missing = next(o.code for o in item.options if o.points is None)
        return f"is scored but option {missing!r} has no points"
    if item.type is ItemType.YES_NO and item.yes_points is None:
        return "is scored but has no points: {yes: n, no: n}"
    if item.type in (ItemType.INTEGER, ItemType.SCALE) and item.minimum is None:
        return "has no min and max"
    return None


def point_bounds(item: Item) -> tuple[int, int]:
    """The fewest and most points an answer to ``item`` can give."""
    if item.type is ItemType.CHOICE:
        values = [o.points for o in item.options if o.points is not None]
    elif item.type is ItemType.YES_NO:
        values = [item.yes_points or 0, item.no_points or 0]
    elif item.point_ranges:
        values = [r.points for r in item.point_ranges]
    else:
        values = [item.minimum or 0, item.maximum or 0]
    if item.points_when_not_asked is not None:
        values.append(item.points_when_not_asked)
    return min(values), max(values)


def answer_problem(item: Item, answer: Any) -> str | None:
    """Why ``answer`` cannot be an answer to ``item``, or None when it can."""
    if item.type is ItemType.CHOICE:
        if not isinstance(answer, str) or item.option(answer) is None:
            codes = ", ".join(o.code for o in item.options)
            return f"{answer!r} is not an option of item {item.id!r} ({codes})"
    elif item.type is ItemType.YES_NO:
        if not isinstance(answer, bool):
            return f"{answer!r} is not an answer to yes/no item {item.id!r}: use true or false"
    elif item.type in (ItemType.INTEGER, ItemType.SCALE):
        if not isinstance(answer, int) or isinstance(answer, bool):
            return f"{answer!r} is not a whole number for item {item.id!r}"
        if not item.minimum <= answer <= item.maximum:  # type: ignore[operator]
            return f"{answer} is outside {item.minimum}..{item.maximum} for item {item.id!r}"
    elif item.type is ItemType.TEXT:
        if not isinstance(answer, str):
            return f"{answer!r} is not text for item {item.id!r}"
        if item.max_length is not None and len(answer) > item.max_length:
            return f"item {item.id!r} takes at most {item.max_length} characters"
    return None
