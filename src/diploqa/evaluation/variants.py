"""``--compare KEY=V1,V2``: the settings an evaluation puts side by side.

Every variant is a :class:`~diploqa.config.RankingConfig`, so all of them run on one loaded
index (:meth:`~diploqa.index.Index.with_ranking`): the vectors and the keyword index are read
once. ``dictionary=on,off`` is ``ranking.dictionary``; ``ranking.FIELD=…`` (or ``FIELD=…``)
any field of the ranking, its values read as the field's type. With one value the current
setting is the baseline beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..config import RankingConfig
from ..errors import DiploqaError

#: Keys that are not ranking fields by name, and the field each stands for.
ALIASES = {"dictionary": "dictionary"}
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


class VariantError(DiploqaError, ValueError):
    """A ``--compare`` specification names no setting or a value it cannot take."""


@dataclass(frozen=True)
class Variant:
    """One setting compared: its label (``dictionary=off``) and the ranking it makes."""

    label: str
    ranking: RankingConfig


def _field(key: str) -> str:
    name = ALIASES.get(key, key.removeprefix("ranking."))
    names = {f.name for f in fields(RankingConfig)}
    if name not in names:
        raise VariantError(
            f"--compare: {key!r} is no setting; use dictionary=on,off or ranking.FIELD=V1,V2 "
            f"with FIELD one of {', '.join(sorted(names))}"
        )
    return name


def _value(key: str, text: str, current: object) -> object:
    word = text.strip().lower()
    if isinstance(current, bool):
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise VariantError(f"--compare: {key} takes on or off, not {text!r}")
    try:
        return int(word) if isinstance(current, int) else float(word)
    except ValueError:
        kind = "a whole number" if isinstance(current, int) else "a number"
        raise VariantError(f"--compare: {key} takes {kind}, not {text!r}") from None


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_variants(spec: str, base: RankingConfig | None = None) -> tuple[str, list[Variant]]:
    """The key and the variants of ``KEY=V1[,V2…]`` over ``base`` (default: the default
    ranking); with one value the baseline is ``base``'s own setting, labelled "(current)".

    Raises:
        VariantError: no ``=``, an unknown key, a value of the wrong kind, or a value twice.
    """
    base = base or RankingConfig()
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise VariantError(f"--compare takes KEY=V1,V2 (e.g. dictionary=on,off), not {spec!r}")
    name = _field(key)
    current = getattr(base, name)
    parsed = [_value(key, v, current) for v in values.split(",") if v.strip()]
    variants = [Variant(f"{key}={_show(v)}", replace(base, **{name: v})) for v in parsed]
    if len(parsed) == 1:
        if parsed[0] == current:
            raise VariantError(f"--compare: {key} is {_show(current)} already; give two values")
        variants.insert(0, Variant(f"{key}={_show(current)} (current)", base))
    if len({v.label for v in variants}) != len(variants):
        raise VariantError(f"--compare: a value of {key} is given twice in {spec!r}")
    return key, variants
