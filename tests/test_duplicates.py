"""Near-duplicate stories: one agency story printed by several outlets is grouped; different
stories on the same event and follow-ups are not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from diploqa import duplicates
from diploqa.duplicates import (
    NUM_PERM,
    THRESHOLD,
    decode_signature,
    encode_signature,
    group_duplicates,
    signature,
    similarity,
)

# A dpa story as ZEIT ONLINE printed it.
DPA_ZEIT = """Lawrow und Blinken vereinbaren neue Gespräche über Abrüstung

Genf (dpa) – Die Außenminister Russlands und der USA haben sich bei einem Treffen in Genf auf neue
Gespräche über die Kontrolle strategischer Atomwaffen verständigt. Sergej Lawrow und Antony
Blinken sprachen am Freitag knapp zwei Stunden miteinander, wie beide Seiten anschließend
mitteilten.

Ein Termin für die erste Verhandlungsrunde steht nach Angaben aus Delegationskreisen noch nicht
fest. Die Experten beider Regierungen sollen sich aber noch vor Ende des Jahres in Wien treffen
und einen Fahrplan ausarbeiten.

Lawrow sprach nach dem Treffen von einem „sachlichen und nützlichen“ Gespräch. Die Differenzen in
vielen Fragen blieben jedoch bestehen, sagte der russische Außenminister vor Journalisten. Blinken
betonte, Washington sei zu ernsthaften Verhandlungen bereit, werde aber die Interessen seiner
Verbündeten in Europa nicht aus den Augen verlieren.

Der New-Start-Vertrag, das letzte große Abkommen zur Begrenzung der Atomwaffenarsenale beider
Länder, läuft im Februar 2026 aus. Ohne Nachfolgeregelung gäbe es erstmals seit Jahrzehnten keine
vertraglichen Obergrenzen mehr für die Zahl der einsatzbereiten Sprengköpfe.

Beobachter werteten das Treffen als vorsichtiges Signal der Entspannung. Zuletzt hatten sich die
Beziehungen zwischen Moskau und Washington wegen des Kriegs in der Ukraine und gegenseitiger
Sanktionen auf einem Tiefpunkt befunden.
"""

# The same dpa story as SPIEGEL printed it: its own headline and author line, the last paragraph
# cut, a few words changed, a teaser line added.
DPA_SPIEGEL = """Atomwaffen: Russland und USA wollen wieder verhandeln

Von Anna Schmidt, dpa

Die Außenminister Russlands und der USA haben sich bei einem Treffen in Genf auf neue Gespräche
über die Kontrolle strategischer Atomwaffen geeinigt. Sergej Lawrow und Antony Blinken sprachen am
Freitag fast zwei Stunden miteinander, wie beide Seiten danach erklärten.

Ein Termin für die erste Verhandlungsrunde steht nach Angaben aus Delegationskreisen noch nicht
fest. Die Experten beider Regierungen sollen sich aber noch vor Jahresende in Wien treffen und
einen Fahrplan ausarbeiten.

Lawrow sprach nach dem Treffen von einem „sachlichen und nützlichen“ Gespräch. Die Differenzen in
vielen Fragen blieben aber bestehen, sagte der russische Außenminister vor Journalisten. Blinken
betonte, Washington sei zu ernsthaften Verhandlungen bereit, werde aber die Interessen der
Verbündeten in Europa nicht aus den Augen verlieren.

Der New-Start-Vertrag, das letzte große Abkommen zur Begrenzung der Atomwaffenarsenale beider
Länder, läuft im Februar 2026 aus. Ohne Nachfolgeregelung gäbe es erstmals seit Jahrzehnten keine
vertraglichen Obergrenzen mehr für die Zahl der einsatzbereiten Sprengköpfe.

Mehr zum Thema: Was vom New-Start-Vertrag noch übrig ist
"""

# A different report on the same meeting (another agency, its own wording, the same names).
REUTERS_SAME_SUMMIT = """Blinken sieht nach Treffen mit Lawrow kaum Fortschritte

Genf (Reuters) – US-Außenminister Antony Blinken hat sich nach seinem Treffen mit dem russischen
Kollegen Sergej Lawrow in Genf zurückhaltend geäußert. Man habe offen miteinander geredet, in den
zentralen Streitfragen aber keine Annäherung erreicht, sagte Blinken am Freitagabend im Hotel
Intercontinental.

Beide Minister hätten vereinbart, dass Fachleute ihrer Ministerien die Gespräche über
strategische Stabilität fortsetzen. Zu einem Zeitplan äußerte sich Blinken nicht. Die russische
Seite hatte vor dem Treffen Sicherheitsgarantien verlangt, die Washington als unannehmbar ansieht.

Lawrow warf den USA in einer eigenen Pressekonferenz vor, die Sorgen Moskaus zu ignorieren. Er
kündigte an, Präsident Wladimir Putin werde über das weitere Vorgehen entscheiden. Der im Februar
2026 auslaufende New-Start-Vertrag sei nur ein Thema unter vielen gewesen.

In Genf hatten sich zuletzt im Sommer 2021 die Präsidenten beider Länder getroffen. Damals war
ein Dialog über Rüstungskontrolle vereinbart worden, der nach Beginn des Ukraine-Kriegs
ausgesetzt wurde.
"""

# The next day's story: new developments, one paragraph of the first story as background.
FOLLOW_UP = """Nach Genfer Treffen: Moskau nennt Bedingungen für Abrüstungsgespräche

Moskau (dpa) – Einen Tag nach dem Treffen der Außenminister in Genf hat Russland Bedingungen für
die vereinbarten Abrüstungsgespräche genannt. Vize-Außenminister Sergej Rjabkow sagte am Samstag
der Agentur Interfax, Moskau erwarte, dass auch die Atomwaffen Frankreichs und Großbritanniens
berücksichtigt würden.

In Washington stieß die Forderung auf Ablehnung. Ein Sprecher des Außenministeriums sagte, über
die Arsenale von Verbündeten werde man nicht verhandeln. Die NATO-Staaten in Europa reagierten
zurückhaltend; Bundesaußenministerin Annalena Baerbock sprach von einem bekannten Manöver.

Wie berichtet, hatten Lawrow und Blinken am Freitag neue Gespräche vereinbart. Der
New-Start-Vertrag, das letzte große Abkommen zur Begrenzung der Atomwaffenarsenale beider Länder,
läuft im Februar 2026 aus. Ohne Nachfolgeregelung gäbe es erstmals seit Jahrzehnten keine
vertraglichen Obergrenzen mehr für die Zahl der einsatzbereiten Sprengköpfe.
"""


def _groups(texts: dict[str, str]) -> list[list[str]]:
    return group_duplicates({key: signature(text) for key, text in texts.items()})


def test_agency_story_printed_by_two_outlets_is_one_group():
    assert similarity(signature(DPA_ZEIT), signature(DPA_SPIEGEL)) >= THRESHOLD
    assert _groups({"zeit": DPA_ZEIT, "spiegel": DPA_SPIEGEL}) == [["spiegel", "zeit"]]


def test_different_reports_on_the_same_summit_stay_apart():
    assert similarity(signature(DPA_ZEIT), signature(REUTERS_SAME_SUMMIT)) < 0.1
    groups = _groups({"zeit": DPA_ZEIT, "spiegel": DPA_SPIEGEL, "reuters": REUTERS_SAME_SUMMIT})
    assert groups == [["spiegel", "zeit"]]


def test_follow_up_story_is_not_a_duplicate():
    assert similarity(signature(DPA_ZEIT), signature(FOLLOW_UP)) < THRESHOLD - 0.1
    groups = _groups({"zeit": DPA_ZEIT, "spiegel": DPA_SPIEGEL, "follow-up": FOLLOW_UP})
    assert groups == [["spiegel", "zeit"]]


def test_case_punctuation_and_line_breaks_do_not_matter():
    plain = "Lawrow und Blinken treffen sich in Genf zu Gesprächen über Abrüstung"
    shouted = "LAWROW und BLINKEN treffen sich – in Genf! – zu „Gesprächen“ über\nAbrüstung."
    assert similarity(signature(plain), signature(shouted)) == 1.0


def test_very_short_texts_get_a_signature_from_what_they_have():
    one_word = signature("Eilmeldung")
    two_words = signature("Lawrow, Genf")
    assert not np.array_equal(one_word, signature(""))
    assert similarity(one_word, signature("EILMELDUNG!")) == 1.0
    assert similarity(one_word, two_words) < 0.1
    briefs = {
        "a": "Lawrow trifft Blinken",
        "b": "Lawrow trifft Blinken.",
        "c": "Putin empfängt Scholz",
        "d": "Eilmeldung",
    }
    assert _groups(briefs) == [["a", "b"]]


def test_empty_input():
    assert group_duplicates({}) == []
    assert group_duplicates({"only": signature(DPA_ZEIT)}) == []
    empty = signature("")
    assert empty.shape == (NUM_PERM,)
    assert empty.dtype == np.uint32
    assert signature(" – … ,;").tolist() == empty.tolist()  # no words: the empty signature
    # texts without words are never grouped, not even with each other
    assert group_duplicates({"a": empty, "b": signature("!!!"), "c": empty.copy()}) == []


def test_grouping_is_transitive():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32)
    b, c = a.copy(), a.copy()
    b[:40] = rng.integers(0, 2**32, 40, dtype=np.uint64)  # a~b: 88 of 128 equal
    c[:40] = b[:40]
    c[40:80] = rng.integers(0, 2**32, 40, dtype=np.uint64)  # b~c: 88 equal, a~c: only 48
    other = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32)
    assert similarity(a, b) >= THRESHOLD and similarity(b, c) >= THRESHOLD
    assert similarity(a, c) < THRESHOLD
    sigs = {"C": c, "A": a, "other": other, "B": b}
    assert group_duplicates(sigs) == [["A", "B", "C"]]
    # without B, A and C are not one story
    assert group_duplicates({"A": a, "C": c}) == []


def test_groups_are_sorted_and_exact_copies_join():
    zeit, spiegel = signature(DPA_ZEIT), signature(DPA_SPIEGEL)
    follow = signature(FOLLOW_UP)
    sigs = {"z2": zeit, "b": follow, "a": follow.copy(), "z1": spiegel, "z0": zeit.copy()}
    assert group_duplicates(sigs) == [["a", "b"], ["z0", "z1", "z2"]]


def test_signature_round_trip_through_text():
    sig = signature(DPA_ZEIT)
    text = encode_signature(sig)
    assert isinstance(text, str) and text.isascii()
    assert len(text) == 684  # 128 uint32 values in base64
    back = decode_signature(text)
    assert back.dtype == np.uint32
    assert np.array_equal(back, sig)
    assert encode_signature(back) == text
    back[0] = 0  # the decoded array is writable and its own
    assert np.array_equal(decode_signature(text), sig)


def test_bad_signatures_are_rejected():
    sig = signature(DPA_ZEIT)
    with pytest.raises(ValueError):
        decode_signature(encode_signature(sig)[:-8])
    with pytest.raises(ValueError):
        decode_signature("not base64 at all!")
    with pytest.raises(ValueError):
        encode_signature(sig[:64])
    with pytest.raises(ValueError):
        encode_signature(sig.astype(np.uint64) + 2**32)
    with pytest.raises(ValueError):
        group_duplicates({"a": sig, "b": sig[:10]})
    with pytest.raises(ValueError):
        group_duplicates({"a": sig}, threshold=0.0)


# The first values of one signature, as this version computes them.
PINNED = [1749368468, 658547307, 484538369, 30787688]


def test_signature_values_are_pinned():
    """Signatures are stored in indexes: a change of shingling, hashing or datasketch's
    permutations must change SIGNATURE_KIND and this value together."""
    assert duplicates.SIGNATURE_KIND == "minhash-affine32-sha1-w3-p128-s1"
    assert signature("Lawrow und Blinken treffen sich in Genf")[:4].tolist() == PINNED


def test_deterministic_across_processes_and_input_order():
    texts = {"zeit": DPA_ZEIT, "spiegel": DPA_SPIEGEL, "reuters": REUTERS_SAME_SUMMIT}
    code = (
        "import sys\n"
        "from diploqa.duplicates import encode_signature, signature\n"
        "print(encode_signature(signature(sys.stdin.read())))\n"
    )
    src = Path(duplicates.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code],
        input=DPA_ZEIT,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert other == encode_signature(signature(DPA_ZEIT))

    sigs = {key: signature(text) for key, text in texts.items()}
    reversed_sigs = dict(reversed(list(sigs.items())))
    assert group_duplicates(sigs) == group_duplicates(reversed_sigs) == [["spiegel", "zeit"]]


def test_planted_copies_among_many_random_signatures_are_found():
    rng = np.random.default_rng(3)
    sigs = rng.integers(0, 2**32, size=(3000, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    keep = rng.random(NUM_PERM) < 0.7
    sigs[1] = np.where(keep, sigs[0], sigs[1])
    sigs[2999] = sigs[1500]
    groups = group_duplicates({f"id{i:04d}": s for i, s in enumerate(sigs)})
    assert groups == [["id0000", "id0001"], ["id1500", "id2999"]]
