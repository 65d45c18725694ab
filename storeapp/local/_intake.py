"""Central's documents made safe to hold: every change lands, a value the tablet cannot use
is replaced by a safe one (issue #7, finding 4: what central stores, every tablet can load).

    admit(kind, id, data) -> Admitted(data, replaced)

A retailer may run its own central, or an older one may have stored values today's API
refuses; one such value must never wedge a pull (a pull that raises is retried forever,
and nothing after it reaches the tablet). So every document passes here before it is
stored, and what comes out is something every projection and screen can work with:

    every value    a NUL byte is removed from text; an integer beyond 64 bits is clamped
                   (SQLite holds no more); NaN or Infinity is dropped (the default applies)
    every time     parsed, naive read as UTC, clamped to [MIN_MOMENT, MAX_MOMENT]: a year
                   of headroom at both ends of the calendar, so that a conversion to any
                   time zone and the rules' arithmetic (a return window, a pickup hold)
                   stay representable; text that is not a time → the field's fallback
    order, return, count
                   parsed with the rules' own model (`fulfillment`); a field that does not
                   validate falls back to its default, a required one to a fallback below
                   (a due time that cannot be read: the order's creation, else MIN_MOMENT,
                   so the order shows late and a person looks at it); a line that cannot
                   be read at all (no id, no sku, no quantity) is left out
    store          each policy field outside what the tablet can compute with
                   (`POLICY_BOUNDS`) falls back to its default; an unknown time zone → UTC
    staff, item, stock, task, exception, device
                   each field the screens read is checked for its type (`_FIELDS`); a
                   wrong one falls back (text → "" or the document's id, numbers → 0 or
                   none, flags → their default)
    every kind     the field that repeats the change's id (`order_id`, `sku` …) is the
                   change's id: the feed and the tables key on it, so a document that
                   names another one cannot overwrite that one

`replaced` names the fields (paths such as `lines.0.qty`, never their values: they may
be a customer's) so that the caller logs one line per repaired change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, TypeAdapter, ValidationError

from fulfillment.counts import Count
from fulfillment.model import Order, Policy, Role
from fulfillment.returns import Return

__all__ = [
    "MAX_MOMENT",
    "MIN_MOMENT",
    "POLICY_BOUNDS",
    "Admitted",
    "admit",
    "admit_plain",
    "clamp_moment",
    "safe_policy",
    "safe_timezone",
]

INT_MAX = 2**63 - 1  # what an SQLite INTEGER holds
MIN_MOMENT = datetime(2, 1, 1, tzinfo=UTC)
MAX_MOMENT = datetime(9998, 12, 31, tzinfo=UTC)
MONEY_MAX = Decimal(10) ** 12  # central's columns hold 12 digits

# policy field -> (lowest, highest) the tablet computes with; outside: the default
POLICY_BOUNDS: dict[str, tuple[float, float]] = {
    "return_window_days": (0, 3650),
    "offline_return_limit": (0, float(MONEY_MAX)),
    "variance_units": (0, 1_000_000_000),
    "variance_pct": (0, 1_000_000),
    "variance_value": (0, float(MONEY_MAX)),
    "pickup_hold_days": (1, 3650),
    "at_risk_minutes": (0, 7 * 24 * 60),
    "max_orders_per_pick_list": (1, 500),
}
_CARRIERS_MAX = 50

# the field of a kind's document that repeats the change's id
_ID_FIELDS = {
    "order": "order_id",
    "return": "return_id",
    "count": "count_id",
    "staff": "employee_id",
    "item": "sku",
    "task": "task_id",
    "exception": "exception_id",
    "device": "device_id",
}

_MOMENT: TypeAdapter[datetime] = TypeAdapter(datetime)
_MAX_PASSES = 8  # repairs of one document: each pass fixes every error pydantic reports


@dataclass(frozen=True)
class Admitted:
    data: dict[str, Any]
    replaced: tuple[str, ...]  # the paths whose value was replaced (no values: no customer data)


def admit(kind: str, id_: str, data: Mapping[str, Any]) -> Admitted:
    """`data` of a `kind` change, with every value the tablet cannot use replaced."""
    plain = admit_plain(kind, id_, data)
    if plain is not None:
        return Admitted(plain, ())
    replaced: list[str] = []
    clean = _scrub(dict(data), "", replaced)
    assert isinstance(clean, dict)
    id_field = _ID_FIELDS.get(kind)
    if id_field is not None and id_field in clean and clean[id_field] != id_:
        replaced.append(id_field)  # the change's id is what the feed and the tables key on
        clean[id_field] = id_
    shaped = _SHAPES.get(kind)
    if shaped is not None:
        clean = shaped(id_, clean, replaced)
    return Admitted(clean, tuple(dict.fromkeys(replaced)))


# --- every value ----------------------------------------------------------------------


class _Drop:
    """A value to leave out (the field's default applies)."""


_DROP = _Drop()


def _scrub(value: Any, path: str, replaced: list[str]) -> Any:
    """NUL bytes out of text, integers into 64 bits, NaN and Infinity dropped; recursively."""
    if isinstance(value, str):
        if "\x00" in value:
            replaced.append(path or "(text)")
            return value.replace("\x00", "")
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if -INT_MAX <= value <= INT_MAX:
            return value
        replaced.append(path)
        return INT_MAX if value > 0 else -INT_MAX
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        replaced.append(path)
        return _DROP
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            kind = type(item)
            # the usual plain values inline (a snapshot holds 100,000 documents): exact
            # types only, so a subclass still goes the long way round
            if (
                item is None
                or kind is bool
                or (kind is str and "\x00" not in item)
                or (kind is int and -INT_MAX <= item <= INT_MAX)
            ):
                out[key] = item
                continue
            kept = _scrub(item, _join(path, str(key)), replaced)
            if kept is not _DROP:
                out[key] = kept
        return out
    if isinstance(value, list | tuple):
        items = (
            item
            if item is None or (type(item) in _PLAIN_ITEMS and _plain_item(item))
            else _scrub(item, _join(path, str(i)), replaced)
            for i, item in enumerate(value)
        )
        return [item for item in items if item is not _DROP]
    return value


_PLAIN_ITEMS = (str, int, bool)  # exact types: a subclass goes the long way round


def _plain_item(item: str | int) -> bool:
    """A list's text or integer that `_scrub` keeps as it is (its path is then never built)."""
    if isinstance(item, str):
        return "\x00" not in item
    return type(item) is bool or -INT_MAX <= item <= INT_MAX


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- times ----------------------------------------------------------------------------


def clamp_moment(value: Any) -> datetime | None:
    """A time the tablet can hold and compute with: naive read as UTC, clamped to
    [MIN_MOMENT, MAX_MOMENT]; None when `value` is not a time at all."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = _MOMENT.validate_python(value)
        except ValidationError:
            return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return MIN_MOMENT if moment.year < 5000 else MAX_MOMENT
    return min(max(moment, MIN_MOMENT), MAX_MOMENT)


def _same_moment(before: Any, after: datetime) -> bool:
    return isinstance(before, datetime) and before.tzinfo is not None and before == after


# --- order, return, count: the rules' own models ------------------------------------------

# (where, field) -> the value a required field falls back to; `where` is the path without
# list indexes ("lines" for a line). A required field with no fallback here: the list
# element holding it is left out. Callables get the document's id and its data.
_Fallback = Callable[[str, dict[str, Any]], Any]


def _due_fallback(_: str, data: dict[str, Any]) -> Any:
    created = clamp_moment(data.get("created_at"))
    return (created or MIN_MOMENT).isoformat()


def _doc_id(id_: str, _: dict[str, Any]) -> str:
    return id_


def _const(value: Any) -> _Fallback:
    return lambda _id, _data: value


_MIN_TEXT = MIN_MOMENT.isoformat()

_ORDER_FALLBACKS: dict[tuple[str, ...], _Fallback] = {
    ("order_id",): _doc_id,
    ("store_id",): _const(""),
    ("type",): _const("ship_from_store"),
    ("due_at",): _due_fallback,
    ("lines",): _const([]),
}
_RETURN_FALLBACKS: dict[tuple[str, ...], _Fallback] = {
    ("return_id",): _doc_id,
    ("state",): _const("needs_review"),  # a manager looks at it; the refund is held
    ("lines",): _const([]),
    ("received_by",): _const(""),
    ("received_at",): _const(_MIN_TEXT),
    ("lines", "reason"): _const("other"),
    ("lines", "condition"): _const("damaged"),  # never back on a shelf on a guess
    ("lines", "disposition"): _const("damaged_bin"),
}
_COUNT_FALLBACKS: dict[tuple[str, ...], _Fallback] = {
    ("count_id",): _doc_id,
    ("sku",): _const(""),
    ("location",): _const(""),
    ("counted",): _const(0),
    ("counted_at",): _const(_MIN_TEXT),
    ("book",): _const(0),
    ("variance",): _const(0),
    ("unit_cost",): _const(None),
    ("value",): _const(None),
    ("state",): _const("disputed"),  # a manager looks at it
    ("counted_by",): _const(""),
}


def _model_doc(
    model: type[BaseModel], fallbacks: Mapping[tuple[str, ...], _Fallback]
) -> Callable[[str, dict[str, Any], list[str]], dict[str, Any]]:
    def shape(id_: str, data: dict[str, Any], replaced: list[str]) -> dict[str, Any]:
        parsed = _repair(model, id_, data, fallbacks, replaced)
        if parsed is None:
            return data  # beyond repair: kept as sent, the projections leave it out
        settled = _settle(parsed.model_dump(), "", replaced)
        again = _repair(model, id_, settled, fallbacks, replaced)
        # a newer central's fields are kept as sent (no reader here; a later app may have one)
        extras = {k: v for k, v in data.items() if k not in model.model_fields}
        return {**extras, **(again or parsed).model_dump(mode="json")}

    return shape


def _repair(
    model: type[BaseModel],
    id_: str,
    data: dict[str, Any],
    fallbacks: Mapping[tuple[str, ...], _Fallback],
    replaced: list[str],
) -> BaseModel | None:
    """Validate `data`, replacing what does not validate, pass after pass (in place)."""
    for _ in range(_MAX_PASSES):
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
        # from the last error back, so that leaving out a list element keeps the indexes
        # of the errors before it
        for error in reversed(errors):
            _fix(id_, data, error["loc"], error["type"] == "missing", fallbacks, replaced)
    return None


def _fix(
    id_: str,
    data: dict[str, Any],
    loc: tuple[int | str, ...],
    missing: bool,
    fallbacks: Mapping[tuple[str, ...], _Fallback],
    replaced: list[str],
) -> None:
    """Replace the value at `loc`: a wrong value goes (its default applies, or the next pass
    finds it missing); a missing one takes its fallback; without one, its list element goes."""
    trail: list[tuple[Any, int | str]] = []  # (container, key) from the top down
    here: Any = data
    for step in loc:
        if isinstance(here, dict) and step in here:
            trail.append((here, step))
            here = here[step]
        elif isinstance(here, list) and isinstance(step, int) and 0 <= step < len(here):
            trail.append((here, step))
            here = here[step]
        else:
            if missing and isinstance(here, dict) and isinstance(step, str):
                trail.append((here, step))
            break
    if not trail:
        return
    path = ".".join(str(key) for _, key in trail)
    where = tuple(str(key) for _, key in trail if not isinstance(key, int))
    replaced.append(path)
    container, key = trail[-1]
    fallback = fallbacks.get(where)
    if isinstance(container, list):
        container.pop(key)  # type: ignore[arg-type]
    elif not missing:
        container.pop(key, None)
    elif fallback is not None:
        container[key] = fallback(id_, data)
    else:  # required, no fallback: leave out the list element holding it
        for holder, index in reversed(trail[:-1]):
            if isinstance(holder, list):
                holder.pop(index)
                return
        container[key] = None  # nothing to leave out: the next pass gives up


def _settle(value: Any, path: str, replaced: list[str]) -> Any:
    """A parsed document's times clamped, its money bounded (python values, recursively)."""
    if isinstance(value, datetime):
        moment = clamp_moment(value)
        assert moment is not None
        if not _same_moment(value, moment):
            replaced.append(path)
        return moment
    if isinstance(value, Decimal):
        if value.is_finite() and abs(value) < MONEY_MAX:
            return value
        replaced.append(path)
        return Decimal(0)
    # a value with nothing in it to clamp is kept without a call (nor its path built): an
    # order is some 120 values, a pull page 200 orders
    if isinstance(value, dict):
        return {
            k: v if type(v) in _NOTHING_TO_SETTLE else _settle(v, _join(path, str(k)), replaced)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            v if type(v) in _NOTHING_TO_SETTLE else _settle(v, _join(path, str(i)), replaced)
            for i, v in enumerate(value)
        ]
    return value


_NOTHING_TO_SETTLE = frozenset({str, int, bool, float, type(None)})  # exact types


# --- store: the policy and the time zone ---------------------------------------------------


def safe_policy(raw: Any, replaced: list[str] | None = None) -> Policy:
    """The store's policy, each field outside what the tablet computes with on its default."""
    replaced = replaced if replaced is not None else []
    if not isinstance(raw, dict):
        if raw is not None:
            replaced.append("policy")
        return Policy()
    kept: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in Policy.model_fields:
            continue  # a newer central's field: not the tablet's business
        try:
            parsed = getattr(Policy.model_validate({name: value}), name)
        except ValidationError:
            replaced.append(f"policy.{name}")
            continue
        if not _within(name, parsed):
            replaced.append(f"policy.{name}")
            continue
        kept[name] = parsed
    return Policy.model_validate(kept)


def _within(name: str, value: Any) -> bool:
    if name == "carriers":
        return 0 < len(value) <= _CARRIERS_MAX and all(0 < len(c) <= 80 for c in value)
    bounds = POLICY_BOUNDS.get(name)
    if bounds is None or value is None:
        return True
    try:
        number = float(value)
    except (OverflowError, ValueError, InvalidOperation):
        return False
    return math.isfinite(number) and bounds[0] <= number <= bounds[1]


def safe_timezone(raw: Any) -> str:
    """The store's time zone when this machine knows it, else "UTC"."""
    if not isinstance(raw, str) or not raw or len(raw) > 64:
        return "UTC"
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC"
    return raw


def _store(id_: str, data: dict[str, Any], replaced: list[str]) -> dict[str, Any]:
    policy = safe_policy(data.get("policy"), replaced)
    timezone = safe_timezone(data.get("timezone"))
    if "timezone" in data and timezone != data["timezone"]:
        replaced.append("timezone")
    out = {**data, "policy": policy.model_dump(mode="json"), "timezone": timezone}
    return _fields(_STORE_FIELDS, id_, out, replaced)


# --- the other kinds: the fields the screens read ------------------------------------------

_Check = Callable[[str, Any], tuple[bool, Any]]  # (document id, value) -> (ok, value to keep)

_NONE = type(None)
# per check, the types of value it keeps whatever the value (`admit_plain` need not call it)
_KEPT_TYPES: dict[_Check, frozenset[type]] = {}


def _keeps(check: _Check, *types: type) -> _Check:
    _KEPT_TYPES[check] = frozenset(types)
    return check


def _text(default: str | None = "") -> _Check:
    def check(_: str, value: Any) -> tuple[bool, Any]:
        return (True, value) if isinstance(value, str) else (False, default)

    return _keeps(check, str)


def _text_or_id(id_: str, value: Any) -> tuple[bool, Any]:
    return (True, value) if isinstance(value, str) and value else (False, id_)


def _optional_text(_: str, value: Any) -> tuple[bool, Any]:
    return (True, value) if value is None or isinstance(value, str) else (False, None)


_keeps(_optional_text, str, _NONE)


def _number(default: int | None = 0, low: int = -INT_MAX) -> _Check:
    def check(_: str, value: Any) -> tuple[bool, Any]:
        if value is None and default is None:
            return True, None
        if isinstance(value, int) and not isinstance(value, bool):
            return (True, value) if value >= low else (False, low)
        return False, default

    return _keeps(check, _NONE) if default is None else check


def _flag(default: bool) -> _Check:
    def check(_: str, value: Any) -> tuple[bool, Any]:
        return (True, value) if isinstance(value, bool) else (False, default)

    return _keeps(check, bool)


def _moment(_: str, value: Any) -> tuple[bool, Any]:
    if value is None:
        return True, None
    moment = clamp_moment(value)
    if moment is None:
        return False, None
    try:
        sent = _MOMENT.validate_python(value)
    except ValidationError:  # pragma: no cover - clamp_moment parsed it
        sent = None
    if isinstance(value, str) and _same_moment(sent, moment):
        return True, value
    return False, moment.isoformat()


_keeps(_moment, _NONE)


def _price(_: str, value: Any) -> tuple[bool, Any]:
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False, None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return False, None
    if not amount.is_finite() or abs(amount) >= MONEY_MAX:
        return False, None
    return True, value


_keeps(_price, _NONE)


def _codes(_: str, value: Any) -> tuple[bool, Any]:
    if not isinstance(value, list):
        return False, []
    codes = [c for c in value if isinstance(c, str)]
    return len(codes) == len(value), codes


def _role(_: str, value: Any) -> tuple[bool, Any]:
    ok = isinstance(value, str) and value in {r.value for r in Role}
    return (True, value) if ok else (False, Role.ASSOCIATE.value)


_STORE_FIELDS: dict[str, _Check] = {"name": _text(), "store_id": _text_or_id}
_DOC_FIELDS: dict[str, dict[str, _Check]] = {
    "staff": {
        "employee_id": _text_or_id,
        "name": _text_or_id,
        "role": _role,
        "pin_hash": _optional_text,
        "active": _flag(True),
    },
    "item": {
        "sku": _text_or_id,
        "gtins": _codes,
        "name": _text_or_id,
        "price": _price,
        "location": _text(),
        "location_seq": _number(0, low=0),
        "image_url": _optional_text,
        "final_sale": _flag(False),
        "unit_cost": _price,
        "category": _optional_text,
    },
    "stock": {
        "sku": _text(),
        "location": _text(),
        "on_hand": _number(None),
        "reserved": _number(None),
        "available": _number(None),
        "doubtful": _flag(False),
    },
    "task": {
        "task_id": _text_or_id,
        "kind": _text("review"),
        "sku": _text(),
        "location": _text(),
        "qty": _number(0),
        "order_id": _optional_text,
        "reason": _text(),
        "state": _text("open"),
        "created_at": _moment,
        "done_by": _optional_text,
        "plan_id": _optional_text,
        "assignee": _optional_text,
        "due_at": _moment,
    },
    "exception": {
        "exception_id": _text_or_id,
        "code": _text(),
        "message": _text(),
        "order_id": _optional_text,
        "op_id": _optional_text,
        "device_id": _optional_text,
        "actor_id": _optional_text,
        "state": _text("open"),
        "created_at": _moment,
        "resolved_at": _moment,
        "resolved_by": _optional_text,
    },
    "device": {
        "device_id": _text_or_id,
        "name": _text(),
        "device_name": _text(),
        "app_version": _optional_text,
        "enrolled_at": _moment,
        "last_seen_at": _moment,
        "revoked_at": _moment,
    },
}


def _fields(
    checks: Mapping[str, _Check], id_: str, data: dict[str, Any], replaced: list[str]
) -> dict[str, Any]:
    out = dict(data)
    for name, check in checks.items():
        if name not in out:
            continue  # the readers take a missing field as its default
        ok, value = check(id_, out[name])
        if not ok:
            replaced.append(name)
        out[name] = value
    return out


def _plain(kind: str) -> Callable[[str, dict[str, Any], list[str]], dict[str, Any]]:
    checks = _DOC_FIELDS[kind]
    return lambda id_, data, replaced: _fields(checks, id_, data, replaced)


# --- the usual document, in one walk (issue #9) -------------------------------------------

_PLAIN_CHECKS: dict[str, tuple[tuple[str, _Check, frozenset[type]], ...]] = {
    kind: tuple(
        (name, check, _KEPT_TYPES.get(check, frozenset())) for name, check in checks.items()
    )
    for kind, checks in _DOC_FIELDS.items()
}


def admit_plain(kind: str, id_: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """What `admit` returns for the usual document of a catalogue-like kind (item, stock,
    staff, task, exception, device), found in one walk: every value null, a flag, text
    without NUL, an integer within 64 bits or a list of such text (no float anywhere, no
    nested object), its id field the change's id and every field the screens read of the
    right type. None for any other document: `admit` then takes the long way round (and
    says what it replaced). A snapshot is 100,000 such documents."""
    checks = _PLAIN_CHECKS.get(kind)
    if checks is None:
        return None
    out: dict[str, Any] = {}
    for key, value in data.items():
        t = type(value)
        # the same test of a plain value as `_scrub`'s, written out in both loops on purpose:
        # a call per field is ~0.1 s of a 100,000-document snapshot
        if (
            value is None
            or t is bool
            or (t is str and "\x00" not in value)
            or (t is int and -INT_MAX <= value <= INT_MAX)
        ):
            out[key] = value
        elif t is list and all(type(v) is str and "\x00" not in v for v in value):
            out[key] = list(value)
        else:
            return None
    id_field = _ID_FIELDS.get(kind)
    if id_field is not None and id_field in out and out[id_field] != id_:
        return None
    for name, check, kept in checks:
        if name in out:
            value = out[name]
            if type(value) not in kept and check(id_, value) != (True, value):
                return None
    return out


_SHAPES: dict[str, Callable[[str, dict[str, Any], list[str]], dict[str, Any]]] = {
    "order": _model_doc(Order, _ORDER_FALLBACKS),
    "return": _model_doc(Return, _RETURN_FALLBACKS),
    "count": _model_doc(Count, _COUNT_FALLBACKS),
    "store": _store,
    **{kind: _plain(kind) for kind in _DOC_FIELDS},
}
