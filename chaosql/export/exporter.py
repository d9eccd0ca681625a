"""The exporter: every metric family's query run over one long-lived Session, on demand and bounded.

A scrape asks for a refresh only when the last one started ``min_interval`` seconds ago or more
(so scrapes, however many and however often, cannot make the sources work harder than that), and
waits for it at most ``scrape_timeout`` seconds (or the scraper's own timeout, a little less). A
refresh that takes longer keeps going in the background; meanwhile scrapes get the last complete
set, and ``chaosql_export_stale_seconds`` says how old it is (0 when it is current). The first
refresh starts with the exporter (``start``), not at the first scrape; until it completes there is
no set to serve, and ``chaosql_export_up`` 0 says so: the chaos families are absent because they are
not known yet, which an empty answer would not tell from "no experiments".

One family's failure is that family's only: its query error, an unreadable column, duplicate
labels, or more series than its cap (``max_series``: the whole family is left out rather than a
part whose sums would be wrong) make ``chaosql_export_family_up{family}`` 0 and
``chaosql_export_family_errors_total`` grow, are logged once (and again when they change), and
every other family is served as usual. A keyed counter whose query fails keeps serving its last
totals, which are still true.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chaosql.errors import ChaosqlError
from chaosql.export.counters import CounterState
from chaosql.export.exposition import EOF, Format, render
from chaosql.export.family import MAX_SERIES, ExportError, FamilySpec, Shaped, escape_label

#: Names the exporter's own metrics take; no family may use them.
SELF_PREFIX = "chaosql_export_"
_DIGITS = re.compile(r"\d+(\.\d+)?")


@dataclass
class Outcome:
    """How one family's query went in one refresh."""

    name: str
    origin: str
    ok: bool = True
    error: str = ""
    seconds: float = 0.0
    series: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Collected:
    """One refresh: every family's samples and how each query went."""

    families: list[Shaped]
    outcomes: dict[str, Outcome]
    started: float  # Unix time
    finished: float
    seconds: float
    _text: dict[str, str] = field(default_factory=dict)

    def text(self, fmt: Format) -> str:
        """The families rendered (once per format: scrapes between refreshes reuse it)."""
        if fmt.name not in self._text:
            self._text[fmt.name] = render(self.families, fmt)
        return self._text[fmt.name]


class Exporter:
    """``exporter.scrape(fmt)`` -> the exposition text; thread-safe. ``session`` is used by the
    refresh thread only (a Session is not for concurrent use)."""

    def __init__(
        self,
        session: Any,
        specs: Sequence[FamilySpec],
        *,
        broken: dict[str, str] | None = None,
        min_interval: float = 10.0,
        scrape_timeout: float = 10.0,
        max_series: int = MAX_SERIES,
        counters: CounterState | None = None,
        log: Any = None,
    ) -> None:
        self.session = session
        self.specs = list(specs)
        self.broken = dict(broken or {})
        self.min_interval = min_interval
        self.scrape_timeout = scrape_timeout
        self.max_series = max_series
        self.counters = counters or CounterState(None)
        self.log = log
        self.started = time.time()
        self.good: Collected | None = None
        self.refreshes = 0
        self.scrapes = 0
        self.errors: dict[str, int] = {name: 0 for name in [*(s.name for s in self.specs), *self.broken]}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chaosql-export")
        self._running: Future | None = None
        self._running_since = 0.0  # Unix time the running refresh started
        self._last_started = float("-inf")  # monotonic
        self._reported: dict[str, str] = {}  # family -> its last error, or "ok"
        self._warned: dict[str, set[str]] = {}  # family -> the warnings of its last refresh
        self._counter_families: dict[str, list[Shaped]] = {}  # a keyed counter's last families
        self._closed = False
        for name, error in self.broken.items():
            self._log("error", "family broken", family=name, error=error)

    # --- scrapes --------------------------------------------------------------------------------

    def scrape(self, fmt: Format, *, wait: float | None = None) -> str:
        """The whole exposition: the families (as fresh as ``collect`` allows) and the exporter's
        own metrics."""
        good, stale = self.collect(wait=wait)
        body = good.text(fmt) if good is not None else ""
        body += render(self._self_families(good, stale), fmt)
        return body + EOF if fmt.openmetrics else body

    def collect(self, *, wait: float | None = None) -> tuple[Collected | None, float]:
        """The set to serve now and its staleness in seconds (0: as current as asked for)."""
        limit = self.scrape_timeout if wait is None else max(0.0, min(wait, self.scrape_timeout))
        with self._lock:
            self.scrapes += 1
            future = self._running
            due = self.good is None or time.monotonic() - self._last_started >= self.min_interval
            if future is None and due and not self._closed:
                future = self._start()
            mark = self._running_since if future is not None else None
        if future is not None:
            try:
                future.result(timeout=limit)
            except FutureTimeout:
                pass
            except Exception:  # logged by the refresh; the last good set is served
                pass
        with self._lock:
            good = self.good
        now = time.time()
        if good is None:
            return None, now - self.started
        if mark is None or good.started >= mark:
            return good, 0.0
        return good, now - good.finished

    def start(self) -> None:
        """Begin the first refresh now, in the background, so that the first scrape finds it under
        way (or done) rather than starting it: it lists every kind and fills the watch caches."""
        with self._lock:
            if self._running is None and self.good is None and not self._closed:
                self._start()

    def refresh_now(self) -> Collected:
        """Refresh and wait for it, however long it takes (``chaosql export --once``)."""
        with self._lock:
            future = self._running or self._start()
        future.result()
        assert self.good is not None
        return self.good

    def _start(self) -> Future:
        self._last_started = time.monotonic()
        self._running_since = time.time()
        self._running = self._pool.submit(self._refresh, self._running_since)
        return self._running

    def healthy(self, *, stuck_after: float = 300.0) -> tuple[bool, dict[str, Any]]:
        """Healthy unless a refresh has been running for ``stuck_after`` seconds (for /healthz)."""
        with self._lock:
            running_for = time.time() - self._running_since if self._running is not None else 0.0
            good = self.good
        failed = sorted(n for n, o in (good.outcomes.items() if good else ()) if not o.ok)
        body = {
            "status": "ok" if running_for < stuck_after else "stuck",
            "uptime_seconds": round(time.time() - self.started, 1),
            "last_refresh_age_seconds": round(time.time() - good.finished, 1) if good else None,
            "refresh_running_seconds": round(running_for, 1),
            "families": len(self.specs) + len(self.broken),
            "families_failed": failed,
        }
        return running_for < stuck_after, body

    def close(self) -> None:
        """Stop: cancel a refresh under way, write the counter state."""
        with self._lock:
            self._closed = True
            running = self._running
        if running is not None:
            try:
                self.session.cancel("chaosql export is stopping")
            except Exception:
                pass
            try:
                running.result(timeout=30)
            except Exception:
                pass
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._save_counters(force=True)

    def _save_counters(self, *, force: bool = False) -> None:
        try:
            self.counters.save(force=force)
        except (OSError, ChaosqlError) as err:
            self._log("error", "cannot write the counter state", path=str(self.counters.path), error=str(err))

    # --- one refresh ----------------------------------------------------------------------------

    def _refresh(self, started: float) -> Collected:
        try:
            return self._evaluate_all(started)
        except BaseException as err:
            if self.log is not None:
                self.log.error("refresh failed", error=f"{type(err).__name__}: {err}")
            raise
        finally:
            with self._lock:
                self._running = None

    def _evaluate_all(self, started: float) -> Collected:
        clock = time.perf_counter()
        now = datetime.now(UTC)
        families: list[Shaped] = []
        outcomes: dict[str, Outcome] = {}
        for spec in self.specs:
            if self._closed:
                break
            outcome = Outcome(spec.name, spec.query.origin)
            begun = time.perf_counter()
            try:
                shaped = self._evaluate(spec, now, outcome)
            except ChaosqlError as err:
                outcome.ok, outcome.error = False, str(err)
                shaped = list(self._counter_families.get(spec.name, ()))
            except Exception as err:  # a bug must not take the other families down
                outcome.ok, outcome.error = False, f"internal error: {type(err).__name__}: {err}"
                shaped = []
            if self._closed and not outcome.ok:
                break  # stopped by close(): not the family's failure, and nobody scrapes it any more
            outcome.seconds = time.perf_counter() - begun
            outcome.series = sum(len(s.samples) for s in shaped) if outcome.ok else 0
            families.extend(shaped)
            outcomes[spec.name] = outcome
            self._report(outcome)
        for name, error in self.broken.items():
            outcomes[name] = Outcome(name, "", ok=False, error=error)
        self._save_counters()
        collected = Collected(families, outcomes, started, time.time(), time.perf_counter() - clock)
        with self._lock:
            self.good = collected
            self.refreshes += 1
            for name, outcome in outcomes.items():
                if not outcome.ok:
                    self.errors[name] = self.errors.get(name, 0) + 1
        if self.log is not None:
            failed = sum(1 for o in outcomes.values() if not o.ok)
            self.log.debug(
                "refreshed",
                seconds=round(collected.seconds, 3),
                families=len(outcomes),
                failed=failed,
                series=sum(len(f.samples) for f in families),
            )
        return collected

    def _evaluate(self, spec: FamilySpec, now: datetime, outcome: Outcome) -> list[Shaped]:
        sql = spec.query.bind({}, now=now)
        result = self.session.execute(sql)
        outcome.warnings = list(result.warnings)
        shaped = spec.shape(result.arrow())
        if spec.key:
            for family in shaped:
                rows = zip((labels for labels, _ in family.samples), (v for _, v in family.samples), family.keys or ())
                totals = self.counters.advance(family.name, rows)
                family.samples, family.keys = sorted(totals.items()), None
            self._counter_families[spec.name] = shaped
        # the cap is per metric family: a query with nine value columns over 10,000 experiments
        # makes nine families of 10,000 series each, not one of 90,000
        cap = spec.max_series or self.max_series
        widest = max(shaped, key=lambda s: len(s.samples), default=None)
        if widest is not None and len(widest.samples) > cap:
            raise ExportError(
                f"family {widest.name}: {len(widest.samples)} series, more than its cap of {cap}; "
                f"{spec.name} left out rather than cut short",
                hint="raise -- max_series: in its query (or --max-series), or aggregate to fewer label values",
            )
        return shaped

    def _report(self, outcome: Outcome) -> None:
        """Log a family's failure once (and again when the error changes), its recovery once, and a
        warning when it was not there in the family's previous refresh."""
        previous = self._reported.get(outcome.name)
        if not outcome.ok and previous != outcome.error:
            self._log("error", "family failed", family=outcome.name, origin=outcome.origin, error=outcome.error)
        elif outcome.ok and previous not in (None, "ok"):
            self._log("info", "family recovered", family=outcome.name)
        self._reported[outcome.name] = outcome.error if not outcome.ok else "ok"
        shapes = {_DIGITS.sub("#", w): w for w in outcome.warnings}  # "12.4 s old" is the same warning later
        for shape, warning in shapes.items():
            if shape not in self._warned.get(outcome.name, set()):
                self._log("warning", "family warning", family=outcome.name, warning=warning)
        self._warned[outcome.name] = set(shapes)

    def _log(self, level: str, event: str, **fields: Any) -> None:
        if self.log is not None:
            self.log.log(level, event, **fields)

    # --- the exporter's own metrics -------------------------------------------------------------

    def _self_families(self, good: Collected | None, stale: float) -> list[Shaped]:
        def gauge(name: str, help_text: str, samples: list[tuple[str, float]]) -> Shaped:
            return Shaped(SELF_PREFIX + name, "gauge", help_text, samples)

        def per_family(pick: Any) -> list[tuple[str, float]]:
            return [(f'{{family="{escape_label(n)}"}}', float(pick(o))) for n, o in sorted(outcomes.items())]

        outcomes = good.outcomes if good is not None else {}
        with self._lock:
            errors = dict(self.errors)
            refreshes, scrapes = self.refreshes, self.scrapes
        out = [
            gauge(
                "up",
                "1 when the chaos metric families are served (from a complete refresh); 0 while the first "
                "refresh is still running and they are absent, which does not mean there are no experiments.",
                [("", 1.0 if good is not None else 0.0)],
            ),
            gauge(
                "stale_seconds",
                "Age of the metrics served when the refresh a scrape asked for did not finish in time; 0 when current.",
                [("", stale)],
            ),
            gauge(
                "refresh_duration_seconds",
                "Seconds the last complete refresh took.",
                [("", good.seconds)] if good else [],
            ),
            gauge(
                "last_refresh_timestamp_seconds",
                "When the last complete refresh finished (Unix seconds).",
                [("", good.finished)] if good else [],
            ),
            Shaped(
                SELF_PREFIX + "refreshes",
                "counter",
                "Refreshes completed since the exporter started.",
                [("", refreshes)],
            ),
            Shaped(SELF_PREFIX + "scrapes", "counter", "Scrapes answered since the exporter started.", [("", scrapes)]),
            gauge(
                "family_up",
                "1 when the family's query gave its metrics in the last refresh, else 0.",
                per_family(lambda o: o.ok),
            ),
            gauge(
                "family_duration_seconds",
                "Seconds the family's query took in the last refresh.",
                per_family(lambda o: o.seconds),
            ),
            gauge("family_series", "Series the family served in the last refresh.", per_family(lambda o: o.series)),
            gauge(
                "family_warnings",
                "Warnings of the family's query in the last refresh (a source down under on_source_error = 'warn').",
                per_family(lambda o: len(o.warnings)),
            ),
            Shaped(
                SELF_PREFIX + "family_errors",
                "counter",
                "Refreshes in which the family failed, since the exporter started.",
                [(f'{{family="{escape_label(n)}"}}', float(c)) for n, c in sorted(errors.items())],
            ),
        ]
        return out
