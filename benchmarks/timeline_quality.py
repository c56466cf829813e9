"""What "match" means for a timeline, measured: does the highest bar fall where a subject's
articles cluster, and does a question about something else leave those months dark?

Data: the German Wikinews sample (``--articles``: ``articles.jsonl``, 998 dated articles
2004–2022, read by path, never copied into the repository), built into a FAISS index
(``--index``; built there first if it does not exist). Subjects: 19 stories the sample follows
over several articles, each with the ids of its articles (found by keywords over the whole
text and read by hand) and a question in German and in English. Their clusters: the months
holding most of a subject's articles (two where two tie).

For every question the index's matching articles are taken once with no threshold (each
article's best candidate score, ``Index.matches``), then every threshold of the sweep is
applied to them, and the month timeline of what remains is counted by
:func:`diploqa.timeline.count_periods`, as ``Index.timeline`` does:

* **peak right**: the highest bar (all bars of the highest count) lies in the subject's
  cluster months;
* **recall** of the subject's articles, and **precision**: the share of matched articles that
  are the subject's (a lower bound: a related article outside the hand-made set counts as
  wrong);
* **other subjects**: articles of the other 18 subjects a question matched, and how often a
  question lights up another subject's cluster month (a bar there that its own articles do
  not explain) as its highest bar;
* **off-archive controls**: questions about subjects the sample does not cover; how many
  articles they match.

Usage::

    python benchmarks/timeline_quality.py \
        --articles ../shared/data/news_de/dewikinews_quotes/articles.jsonl \
        --index /tmp/wikinews-index --out docs/quality.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import report as bench_report  # benchmarks/report.py

import diploqa
from diploqa.timeline import count_periods

MARGINS = [round(0.06 + 0.01 * i, 2) for i in range(11)]
RAW_THRESHOLDS = [0.8, 0.83, 0.86, 0.89]

DEFINITION = """\
**What "match" means.** An article matches a question when one of its chunks is among the
question's `RankingConfig.match_candidates` (1,000) best chunks, by meaning (the vector store)
and by keywords (BM25), and scores at least `RankingConfig.match_margin` above the question's
background. Scores are the ranking's (dense similarity plus a keyword bonus of at most 0.05).
The background is the question's score against the mean vector of 40 short passages on
everyday subjects (`src/diploqa/data/background.de.txt`, embedded once per process): what an
article about something else scores. It differs by question, most of all by language (below),
so a margin above it reads the same for German and English questions where a raw threshold
cannot. The archive's own mean vector would track it as well on a general archive (within
0.02 on this one), but in an archive about one subject (the seeds: US–Russian diplomacy) a
question about that subject *is* the archive's mean, and nothing would match. The filters of
the question apply as in a search; where even the weakest of the 1,000 candidates by meaning
clears the threshold, the counts are a lower bound and say so (`capped`). Code:
`src/diploqa/matching.py`."""


@dataclass(frozen=True)
class Subject:
    name: str
    german: str
    english: str
    articles: tuple[int, ...]  # Wikinews page ids


SUBJECTS = [
    Subject("Bad Reichenhall", "Warum stürzte das Dach der Eissporthalle in Bad Reichenhall ein?",
            "Why did the roof of the ice rink in Bad Reichenhall collapse?", (18862, 18890, 21224)),
    Subject("Discovery", "Rückkehr der Raumfähre Discovery ins All",
            "Space shuttle Discovery returns to flight", (7537, 8562, 9679, 9996)),
    Subject("Vogelgrippe", "Ausbreitung der Vogelgrippe H5N1 in Europa",
            "Spread of bird flu H5N1 in Europe", (13851, 14002, 14955, 23071)),
    Subject("Bundestagswahl 2005", "Vorgezogene Bundestagswahl 2005 nach Schröders Vertrauensfrage",
            "Early German federal election 2005 after Schröder's confidence vote",
            (6062, 7546, 7771, 9019, 12491, 12667, 12984)),
    Subject("Papst-Golf", "Versteigerung des Golf von Papst Benedikt bei eBay",
            "Auction of Pope Benedict's VW Golf on eBay", (5114, 5178)),
    Subject("eBay-Baby", "Baby bei eBay zum Verkauf angeboten",
            "Baby offered for sale on eBay", (12599, 12825)),
    Subject("Shenzhou 6", "Chinas bemannter Raumflug Shenzhou 6",
            "China's crewed space flight Shenzhou 6", (13741, 13837)),
    Subject("Braunbär", "Braunbär in Bayern zum Abschuss freigegeben",
            "Brown bear in Bavaria may be shot", (27237, 28114, 28446)),
    Subject("Osttimor", "Unruhen und Ausnahmezustand in Osttimor",
            "Unrest and state of emergency in East Timor", (27603, 27778)),
    Subject("Graf Zeppelin", "Wrack des Flugzeugträgers Graf Zeppelin gefunden",
            "Wreck of the aircraft carrier Graf Zeppelin found", (30456, 30570)),
    Subject("Hongkong", "Proteste für freie Wahlen in Hongkong",
            "Protests for free elections in Hong Kong", (77331, 77466, 77468, 77549)),
    Subject("Gaza", "Israels Angriffe und Bodenoffensive im Gazastreifen",
            "Israel's attacks and ground offensive in the Gaza Strip", (54978, 55038)),
    Subject("Olympia Peking", "Olympische Spiele 2008 in Peking",
            "Olympic Games 2008 in Beijing", (49024, 49483, 52016, 52082)),
    Subject("Tunesien", "Sturz des tunesischen Präsidenten Ben Ali",
            "Fall of Tunisian president Ben Ali", (65602, 65671)),
    Subject("Myanmar Nargis", "Zyklon Nargis in Myanmar und die Hilfe",
            "Cyclone Nargis in Myanmar and the aid", (50164, 50226)),
    Subject("Handball-EM 2020", "Deutschland bei der Handball-Europameisterschaft 2020",
            "Germany at the 2020 European Handball Championship", (83753, 83783)),
    Subject("US-Vorwahlen 2012", "Vorwahlen der Republikaner 2012: Romney gegen Santorum",
            "Republican primaries 2012: Romney against Santorum", (72118, 72180)),
    Subject("Elektroautos", "Neue Elektroautos und ihre Hersteller",
            "New electric cars and their makers",
            (50858, 50935, 51046, 51722, 55265, 55268, 55767, 56546, 62091, 80937)),
    Subject("Hurrikan Katrina", "Folgen von Hurrikan Katrina in New Orleans",
            "Aftermath of Hurricane Katrina in New Orleans", (12325, 27945, 28750)),
]  # fmt: skip

#: Questions about what the sample never mentions (checked by keywords over every text).
CONTROLS = [
    "Bitcoin und andere Kryptowährungen",
    "Schulstreiks von Fridays for Future für das Klima",
    "Quantencomputer von Google und IBM",
    "Rezept für einen Apfelstrudel",
    "Cryptocurrency prices crash",
    "Climate strikes by school students",
    "How do quantum computers work?",
    "Apple strudel recipe",
]


def article_id(page: int) -> str:
    return f"wikinews.jsonl#dewikinews-{page}"


def load(articles: Path, index_dir: Path) -> diploqa.Index:
    if not (index_dir / "manifest.json").exists():
        folder = Path(tempfile.mkdtemp(prefix="wikinews-articles-"))
        shutil.copy(articles, folder / "wikinews.jsonl")
        diploqa.build_index(folder, index_dir)
    return diploqa.load_index(index_dir)


@dataclass(frozen=True)
class Scored:
    """A question's candidate articles, best first: ids, raw scores, and its background."""

    articles: tuple[str, ...]
    scores: tuple[float, ...]
    background: float

    def above(self, cut: float, raw: bool = False) -> list[str]:
        """The articles scoring at least ``cut`` (raw), or ``cut`` above the background."""
        offset = 0.0 if raw else self.background
        return [a for a, s in zip(self.articles, self.scores, strict=True) if s - offset >= cut]


def candidates(index: diploqa.Index, question: str) -> Scored:
    """Every candidate article of ``question`` (the index's matches at a margin none
    misses)."""
    found = index.with_ranking(replace(index.ranking, match_margin=-1.0)).matches(question)
    return Scored(found.articles, found.scores, found.threshold + 1.0)


def months(index: diploqa.Index, ids: list[str]) -> dict[str, int]:
    timeline = count_periods(index.columns, index.columns.positions(ids), "month")
    return {p.label: p.articles for p in timeline if p.articles}


def cluster(index: diploqa.Index, subject: Subject) -> set[str]:
    counts = months(index, [article_id(p) for p in subject.articles])
    top = max(counts.values())
    return {m for m, n in counts.items() if n == top}


def peak_months(counts: dict[str, int]) -> set[str]:
    if not counts:
        return set()
    top = max(counts.values())
    return {m for m, n in counts.items() if n == top}


def evaluate(index: diploqa.Index) -> dict:
    clusters = {s.name: cluster(index, s) for s in SUBJECTS}
    truth = {s.name: {article_id(p) for p in s.articles} for s in SUBJECTS}
    scored = {
        (subject.name, language): candidates(index, question)
        for subject in SUBJECTS
        for language, question in (("de", subject.german), ("en", subject.english))
    }
    controls = {q: candidates(index, q) for q in CONTROLS}
    details = {"clusters": clusters, "scored": scored, "controls": controls, "truth": truth}
    details["margins"] = [sweep(index, details, margin, False) for margin in MARGINS]
    details["raw"] = [sweep(index, details, cut, True) for cut in RAW_THRESHOLDS]
    return details


def sweep(index: diploqa.Index, details: dict, cut: float, raw: bool) -> dict:
    """The measures of one threshold (``raw``) or margin over every subject and control."""
    clusters, truth = details["clusters"], details["truth"]
    row: dict = {"cut": cut}
    for language in ("de", "en"):
        strict = lenient = recall = precision = others = lit = 0.0
        for subject in SUBJECTS:
            ids = details["scored"][subject.name, language].above(cut, raw)
            own, home = truth[subject.name], clusters[subject.name]
            counts = months(index, ids)
            peak = peak_months(counts)
            strict += bool(peak) and peak <= home
            lenient += bool(peak & home)
            recall += len(own & set(ids)) / len(own)
            precision += len(own & set(ids)) / len(ids) if ids else 1.0
            foreign = [a for a in ids if a not in own]
            others += sum(a in truth[o] for o in truth if o != subject.name for a in foreign)
            own_months = months(index, sorted(own & set(ids)))
            lit += any(
                m in clusters[o] and m not in home and counts[m] > own_months.get(m, 0)
                for o in clusters
                if o != subject.name
                for m in peak
            )
        n = len(SUBJECTS)
        row[language] = {
            "strict": strict / n, "lenient": lenient / n, "recall": recall / n,
            "precision": precision / n, "others": others / n, "lit": lit / n,
        }  # fmt: skip
    matched = [len(c.above(cut, raw)) for c in details["controls"].values()]
    row["controls"] = (float(np.mean(matched)), max(matched))
    return row


def subject_table(index: diploqa.Index, details: dict, margin: float) -> str:
    lines = [
        "| subject | articles | cluster | highest bars (de) | matched (de) | of the subject's "
        "| highest bars (en) | matched (en) | of the subject's |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for subject in SUBJECTS:
        own, home = details["truth"][subject.name], details["clusters"][subject.name]
        cells = [subject.name, str(len(own)), ", ".join(sorted(home))]
        for language in ("de", "en"):
            ids = details["scored"][subject.name, language].above(margin)
            counts = months(index, ids)
            peak = sorted(peak_months(counts))
            mark = "✓" if peak and set(peak) <= home else ("~" if set(peak) & home else "✗")
            top = counts[peak[0]] if peak else 0
            cells += [f"{mark} {', '.join(peak) or '–'} ({top})", str(len(ids)),
                      str(len(own & set(ids)))]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sweep_table(rows: list[dict], name: str, chosen: float | None) -> list[str]:
    lines = [
        f"| {name} | highest bars all in the cluster de / en | a highest bar in it de / en | "
        "recall de / en | precision de / en | other subjects' articles per question de / en | "
        "highest bar on another subject's cluster de / en | controls: articles, mean (max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        de, en = row["de"], row["en"]
        mark = " **(default)**" if row["cut"] == chosen else ""
        lines.append(
            f"| {row['cut']:.2f}{mark} | {de['strict']:.2f} / {en['strict']:.2f} | "
            f"{de['lenient']:.2f} / {en['lenient']:.2f} | "
            f"{de['recall']:.2f} / {en['recall']:.2f} | "
            f"{de['precision']:.2f} / {en['precision']:.2f} | "
            f"{de['others']:.2f} / {en['others']:.2f} | {de['lit']:.2f} / {en['lit']:.2f} | "
            f"{row['controls'][0]:.1f} ({row['controls'][1]}) |"
        )
    return lines


def report(index: diploqa.Index, details: dict, chosen: float) -> str:
    backgrounds = {
        language: np.mean([details["scored"][s.name, language].background for s in SUBJECTS])
        for language in ("de", "en")
    }
    at = next(row for row in details["margins"] if row["cut"] == chosen)
    n = len(SUBJECTS)
    reading = (
        f"Reading: at the default margin {chosen:.2f} the highest bar falls in the subject's "
        f"cluster for {round(at['de']['lenient'] * n)} of {n} German and "
        f"{round(at['en']['lenient'] * n)} of {n} English questions where a tie counts "
        f"({round(at['de']['strict'] * n)} and {round(at['en']['strict'] * n)} where it does "
        f"not); a question matched {at['de']['others']:.2f} / {at['en']['others']:.2f} articles "
        "of the other subjects on average, and the control questions "
        f"{at['controls'][0]:.1f} articles. Where it falls short: a broad subject whose "
        "articles each say little about the question (Elektroautos: 10 articles over a year) "
        "matches few of them; a lower margin finds more but lets other subjects' articles in."
    )
    controls = [
        f"- {q!r}: {len(found.above(chosen))} article(s); the best "
        f"{found.scores[0] - found.background:+.3f} from the background"
        if found.articles
        else f"- {q!r}: no candidate"
        for q, found in details["controls"].items()
    ]
    return "\n".join(
        [
            DEFINITION,
            "",
            f"Measured {date.today().isoformat()}, commit `{bench_report.commit()}`, "
            f"{bench_report.cpu()}, load average {os.getloadavg()[0]:.1f}: German Wikinews "
            f"sample ({len(index.articles)} articles, {len(index)} passages, "
            f"{index.manifest.model}), {len(SUBJECTS)} subjects of 2 to 10 articles, each "
            f"asked in German and in English; `match_candidates` "
            f"{index.ranking.match_candidates}. Command: "
            "`python benchmarks/timeline_quality.py --articles … --index …`. The subjects' "
            "clusters are small (2–4 articles in their month), so one stray match can tie the "
            "highest bar: the first column counts a tie with another month as a miss, the "
            "second as a hit.",
            "",
            *sweep_table(details["margins"], "margin", chosen),
            "",
            "The same with one threshold on the raw score instead (no background): the mean "
            f"background of the German questions is {backgrounds['de']:.3f}, of the English "
            f"ones {backgrounds['en']:.3f}, and no threshold serves both.",
            "",
            *sweep_table(details["raw"], "raw threshold", None),
            "",
            f"Per subject at the default margin {chosen:.2f} (✓: every highest bar lies in the "
            "cluster, ~: one of them does; in brackets their count):",
            "",
            subject_table(index, details, chosen),
            "",
            f"Off-archive controls at {chosen:.2f} (subjects no article of the sample mentions):",
            "",
            *controls,
            "",
            reading,
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=Path, required=True, help="Wikinews articles.jsonl")
    parser.add_argument("--index", type=Path, required=True, help="its FAISS index folder")
    parser.add_argument("--out", type=Path, default=None, help="write the section here")
    args = parser.parse_args()
    index = load(args.articles, args.index)
    chosen = diploqa.RankingConfig().match_margin
    details = evaluate(index)
    text = report(index, details, chosen)
    print(text)
    if args.out:
        bench_report.write_section(
            args.out, "timeline-quality", "Timeline: which articles match (measured)", text
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
