"""The gate a check of the standing questions yields at: it waits while a search is being
answered, at most its limit; every search of the server counts itself in flight."""

from __future__ import annotations

import threading
import time

import pytest

from diploqa.app import handlers
from diploqa.app.activity import YIELD_LIMIT_SECONDS, SearchActivity
from diploqa.errors import QueryError
from diploqa.query import Query


def paused(activity: SearchActivity) -> tuple[threading.Thread, list[float]]:
    """A thread that pauses once (as a check between two steps); what it waited."""
    waited: list[float] = []
    thread = threading.Thread(target=lambda: waited.append(activity.pause()), daemon=True)
    thread.start()
    return thread, waited


def test_a_pause_waits_while_a_search_is_in_flight_and_goes_on_when_it_ends():
    activity = SearchActivity(limit=30.0)
    with activity.searching():
        with activity.searching():  # two at once: both must end
            thread, waited = paused(activity)
            thread.join(0.3)
            assert thread.is_alive() and activity.in_flight == 2
        thread.join(0.3)
        assert thread.is_alive() and activity.in_flight == 1
    thread.join(5.0)
    assert not thread.is_alive() and activity.in_flight == 0
    assert 0.6 <= waited[0] < 10.0
    assert (activity.pauses, activity.overruns) == (1, 0)
    started = time.monotonic()
    assert activity.pause() < 0.5  # nothing in flight: no wait
    assert time.monotonic() - started < 0.5


def test_a_pause_waits_at_most_its_limit_so_searches_cannot_starve_a_check():
    activity = SearchActivity(limit=0.3)
    with activity.searching():  # a search that never ends, as a stream of them would
        waited = [activity.pause(), activity.pause()]
        assert activity.in_flight == 1
    assert all(0.3 <= w < 5.0 for w in waited)
    assert (activity.pauses, activity.overruns) == (2, 2)
    assert SearchActivity().limit == YIELD_LIMIT_SECONDS
    with pytest.raises(ValueError, match="yield limit"):
        SearchActivity(limit=-1)


def test_a_search_that_fails_leaves_the_activity():
    activity = SearchActivity()
    with pytest.raises(RuntimeError), activity.searching():
        raise RuntimeError("boom")
    assert activity.in_flight == 0 and activity.wait_quiet(5.0)


def test_a_pause_waits_for_a_quiet_moment_after_the_last_search():
    """Searches 30 ms apart leave no quiet moment of 100 ms: a step begun in their gaps would
    run into the next one, so the check waits its limit; once they stop, a step starts after
    the quiet time."""
    activity = SearchActivity(limit=0.8, quiet=0.1)
    stop = threading.Event()

    def stream():
        while not stop.is_set():
            with activity.searching():
                time.sleep(0.005)
            time.sleep(0.03)

    searches = threading.Thread(target=stream, daemon=True)
    searches.start()
    try:
        waited = activity.pause()
    finally:
        stop.set()
        searches.join(5.0)
    assert waited >= 0.8 and activity.overruns == 1  # never quiet: the limit, not longer
    started = time.monotonic()
    assert activity.wait_quiet(5.0)
    assert 0.05 <= time.monotonic() - started < 1.0  # the quiet time after the last search
    assert activity.pause() < 0.05  # quiet since: at once
    with pytest.raises(ValueError, match="quiet time"):
        SearchActivity(quiet=-1)


class Counting(SearchActivity):
    """A real gate that also counts the searches that entered it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = 0

    def searching(self):
        self.entered += 1
        return super().searching()


def test_every_search_of_the_server_counts_itself_in_flight(app_holder, monkeypatch, tmp_path):
    activity = Counting()
    monkeypatch.setattr(app_holder, "searches", activity)
    query = Query("Wer traf Lawrow in Sotschi?", k=2)
    assert "Lawrow" in handlers.page_answer(app_holder, query).results
    assert handlers.search_records(app_holder, query)
    assert handlers.answer_record(app_holder, query, "year")["hits"]
    assert handlers.timeline_record(app_holder, query)["matched"] > 0
    assert handlers.save_export(app_holder, query, "csv", tmp_path).stat().st_size > 0
    assert activity.entered == 5 and activity.in_flight == 0
    with pytest.raises(QueryError):  # a refused question leaves it too
        handlers.search_records(app_holder, " ")
    assert activity.entered == 6 and activity.in_flight == 0


def test_a_servers_check_yields_to_its_holders_searches(app_holder, tmp_path):
    from diploqa.alerts import AlertService, AlertStore, Matcher

    store = AlertStore(tmp_path / "alerts.sqlite3")
    service = AlertService(store, app_holder)
    assert service.matcher.pause == app_holder.searches.pause
    own = Matcher(pause=print)  # a matcher given with its own pause keeps it
    assert AlertService(store, app_holder, matcher=own).matcher.pause is print
