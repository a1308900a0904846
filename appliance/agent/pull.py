"""Incremental pull of masters: ERPNext's ``modified`` as the cursor, small chunked commits.

Per doctype, pages come in ``modified asc, name asc`` order with a keyset cursor
(``modified > c`` or ``modified = c and name > n``, as ``filters`` + ``or_filters``, FACTS
§1.8), so documents sharing one ``modified`` never loop or get skipped. A page's child tables
come in one listing per table (``parent=<DocType>``, ``parent in [...]``). Each page is applied
in its own short transaction together with the advanced cursor and the progress row: a crash
resumes after the last applied page, and a sale commit never waits behind more than one page.

Order: the singles (System Settings, Global Defaults, when their ``modified`` changed); then the
terminal's POS Profile, both group trees and the price lists, from which the terminal's
:class:`~appliance.agent.scope.Scope` is read; then everything else, filtered server-side by
that scope (the profile's item and customer groups with descendants, its company's templates,
the selling price lists). What the listing cannot filter is dropped before writing: prices of
items not held, addresses of customers not held. A scope change deletes what fell out at once
and, if the scope grew, pulls the scoped doctypes again from the start.

Going away:
- disabled items and customers are deleted here (the first pull does not even ask for them);
- documents that left the scope by their own change (an item moved to another group) are
  found by a second, names-only listing over the same ``modified`` window, and deleted;
- deleted documents come from ``Deleted Document`` (incremental by ``creation``); where the
  integration user may not read it (System Manager only, FACTS §5.6) a names-only
  reconciliation of every doctype runs every ``reconcile_every`` seconds instead.

The POS Profile's user rows become the till's cashiers (``appliance.store.cashiers``), customers
created here and renamed by ERPNext are adopted under ERPNext's name (``appliance.store
.addresses.adopt_renamed``), and Addresses are flattened onto their customers.

Progress goes to ``sync_state`` ``agent.pull_progress`` with each page (``appliance status``
shows it); the first full pull is journaled at its start and its end.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from appliance.agent.client import ERPNextClient, ERPNextError, ErrorKind
from appliance.agent.scope import (
    ADDRESS,
    CUSTOMER,
    ITEM,
    ITEM_PRICE,
    LOYALTY_POINT_ENTRY,
    Scope,
    drop_out_of_scope,
    held_customers,
    held_items,
    load_scope,
    store_scope,
    stored_scope,
)
from appliance.agent.store_credit import pull_store_credit
from appliance.store import journal, search_index
from appliance.store import sync_state as state
from appliance.store.cashiers import apply_profile_users
from appliance.store.db import unit_of_work
from appliance.store.masters import (
    DOCTYPES,
    GLOBAL_DEFAULTS,
    SPECS,
    SYSTEM_SETTINGS,
    MasterError,
    apply_masters,
    delete_masters,
    master_problem,
)
from appliance.store.models import Base, Customer, SyncState

log = logging.getLogger(__name__)

SINGLES = (SYSTEM_SETTINGS, GLOBAL_DEFAULTS)
# Pulled first: the terminal's scope is read from them.
FOUNDATION = ("POS Profile", "Item Group", "Customer Group", "Price List")
POS_PROFILE = "POS Profile"
DELETED = "Deleted Document"
ACTOR = "agent"
PROGRESS = "pull_progress"  # agent.pull_progress
FIRST_DONE_KEY = "pull.first_done"
RECONCILED_KEY = "pull.reconciled_at"
DELETIONS_KEY = "pull.deletions"  # "listing" or "reconcile" (Deleted Document not readable)
DISABLED_DELETES = (ITEM, CUSTOMER)
RECONCILE_EVERY = 6 * 3600.0
# (parent doctype, table field) -> child doctype, to list child rows directly.
CHILD_DOCTYPES: dict[tuple[str, str], str] = {
    ("Item Group", "taxes"): "Item Tax",
    ("Item", "taxes"): "Item Tax",
    ("Item", "barcodes"): "Item Barcode",
    ("Item", "uoms"): "UOM Conversion Detail",
    ("Sales Taxes and Charges Template", "taxes"): "Sales Taxes and Charges",
    ("Item Tax Template", "taxes"): "Item Tax Template Detail",
    ("Mode of Payment", "accounts"): "Mode of Payment Account",
    ("POS Profile", "payments"): "POS Payment Method",
    ("POS Profile", "applicable_for_users"): "POS Profile User",
    ("POS Profile", "item_groups"): "POS Item Group",
    ("POS Profile", "customer_groups"): "POS Customer Group",
    ("Pricing Rule", "items"): "Pricing Rule Item Code",
    ("Pricing Rule", "item_groups"): "Pricing Rule Item Group",
    ("Pricing Rule", "brands"): "Pricing Rule Brand",
    ("Address", "links"): "Dynamic Link",
    ("Loyalty Program", "collection_rules"): "Loyalty Program Collection",
}
_CHILD_META = ("parent", "parentfield", "parenttype", "doctype", "docstatus", "owner")

Cursor = tuple[str, str]
T = TypeVar("T")

# Pages are sized by bytes, not rows: each listing asks for as many rows as make about
# PAGE_BYTES of answer at the size the last page's rows had (a real Item with every field is
# ~2 KB, the fake's ~0.4 KB), so a request costs the same whatever the doctype, and a page in
# memory stays a few MB (peak RSS stays flat at any catalog size).
PAGE_BYTES = 1024 * 1024
FIRST_PAGE = 1000  # rows asked for before the first answer tells their size
MAX_PAGE = 10_000
MIN_PAGE = 100
# Doctypes whose page is written while the next one is fetched (one page ahead). Not those
# whose writing itself asks ERPNext (Customer: addresses of new customers; POS Profile).
NO_PREFETCH = (CUSTOMER, POS_PROFILE)


def cursor_key(doctype: str) -> str:
    return f"pull.{doctype}.modified"


def _flag(value: Any) -> bool:
    return str(value or "0").strip().casefold() not in ("0", "false", "")


@dataclass
class PullReport:
    applied: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    cashiers: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    # Documents the store refused (a price of "abc", NaN, negative or 10^12, a barcode without
    # code, an absurd length): {doctype, name, reason}; the rest of their page applied.
    skipped: list[dict[str, str]] = field(default_factory=list)
    # Customers whose store credit tills spent beyond what was given, and by how much.
    store_credit_overspent: dict[str, str] = field(default_factory=dict)
    first: bool = False  # this store had never finished a pull
    complete: bool = False  # every doctype was brought up to date

    @property
    def total(self) -> int:
        return sum(self.applied.values())

    def count(self, into: dict[str, int], doctype: str, n: int) -> None:
        if n:
            into[doctype] = into.get(doctype, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": dict(self.applied),
            "removed": dict(self.removed),
            "cashiers": dict(self.cashiers),
            "pages": self.pages,
            "skipped": list(self.skipped),
            "store_credit_overspent": dict(self.store_credit_overspent),
            "total": self.total,
            "first": self.first,
            "complete": self.complete,
        }


@dataclass
class _Page:
    """One page's writes, prepared before its transaction."""

    doctype: str
    docs: list[dict[str, Any]]
    cursor: Cursor | None  # None: not a cursor page (addresses fetched for new customers)
    full_names: dict[str, str] = field(default_factory=dict)


def _not_created_here(session: Session, doctype: str, names: list[str]) -> list[str]:
    """``names`` less the customers this till created: they stay whatever their group (its
    sales name them); only a Deleted Document removes them."""
    if doctype != CUSTOMER or not names:
        return names
    mine = set(
        session.scalars(
            select(Customer.name).where(Customer.name.in_(names), Customer.offline_id.is_not(None))
        )
    )
    return [n for n in names if n not in mine]


class _Ahead(Iterator[T]):
    """``source`` run one item ahead in a thread: the next page is fetched while the last one
    is written (HTTP waits release the GIL). At most one item waits, so at most two pages are
    in memory. An error of the source is raised here, at the item it stopped at; ``close``
    stops the thread after the item it is fetching."""

    def __init__(self, source: Iterator[T]) -> None:
        self._source = source
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._over = False
        self._thread = threading.Thread(target=self._run, name="pull-ahead", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
            except queue.Full:
                continue
            # Wait until it is taken: the next fetch starts only when this page is being written.
            self._queue.join()
            return True
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as exc:
            self._put(("error", exc))

    def __next__(self) -> T:
        if self._over:
            raise StopIteration
        kind, value = self._queue.get()
        self._queue.task_done()
        if kind == "item":
            return value  # type: ignore[no-any-return]
        self._over = True
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:  # let a fetcher waiting on join() go
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.1)


def _ahead(source: Iterator[T]) -> Iterator[T]:
    return _Ahead(source)


class Puller:
    def __init__(
        self,
        client: ERPNextClient,
        read: sessionmaker[Session],
        write: sessionmaker[Session],
        *,
        page_size: int | None = None,
        doctypes: Sequence[str] = DOCTYPES,
        pos_profile: str | None = None,
        reconcile_every: float = RECONCILE_EVERY,
        store_credit_modes: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.store_credit_modes = tuple(store_credit_modes)
        self._read = read
        self._write = write
        # None: each page sized to about PAGE_BYTES; a number: that many rows a page.
        self.page_size = page_size
        self.doctypes = tuple(doctypes)
        self.pos_profile = pos_profile or None
        self.reconcile_every = reconcile_every
        self.scope = Scope(profile=self.pos_profile)
        self._on_page: Callable[[str, PullReport], bool] | None = None
        self._started = ""

    # -- the cycle -----------------------------------------------------------------------------
    def pull(self, on_page: Callable[[str, PullReport], bool] | None = None) -> PullReport:
        """One cycle over every doctype. ERPNext errors propagate (the loop classifies them).

        ``on_page(doctype, report)`` is called after each page is committed with its cursor (the
        service reports progress and pings its watchdog there); when it returns False the pull
        ends there (``report.complete`` stays False) and the next one resumes from the cursors.
        """
        report = PullReport()
        self._on_page = on_page
        self._started = state.now_iso()
        report.first = self._begin()
        if report.first and self._cursor(ITEM) is None:
            # Not when resuming after the items: their index may already be built.
            self._defer_index()
        self._start_deletions()
        scoped = False
        for doctype in self._order():
            if not scoped and doctype not in SINGLES and doctype not in FOUNDATION:
                self._rescope(report)
                scoped = True
            going = (
                self._pull_single(doctype, report)
                if doctype in SINGLES
                else self._pull_doctype(doctype, report)
            )
            if not going:
                return report
            if doctype == ITEM and report.first:
                # The items are in: the till's name search finds them from here on, even if a
                # later doctype stops this pull (it resumes, but may fail for hours).
                self._build_index()
        if not scoped:
            self._rescope(report)
        self._pull_deletions(report)
        if self.store_credit_modes:
            overspent = pull_store_credit(self.client, self._write, self.store_credit_modes)
            report.store_credit_overspent = {
                c: str(v.quantize(Decimal("0.01"))) for c, v in overspent.items()
            }
        report.complete = True
        self._finish(report)
        return report

    def _order(self) -> list[str]:
        first = [d for d in SINGLES if d in self.doctypes]
        first += [d for d in FOUNDATION if d in self.doctypes]
        return first + [d for d in self.doctypes if d not in first]

    # -- sync_state ----------------------------------------------------------------------------
    def _get(self, key: str) -> str | None:
        with self._read() as session:
            try:
                row = session.get(SyncState, key)
                return None if row is None else row.value
            finally:
                session.rollback()

    @staticmethod
    def _put(session: Session, key: str, value: str) -> None:
        row = session.get(SyncState, key)
        if row is None:
            session.add(SyncState(key=key, value=value))
        else:
            row.value = value

    def _cursor(self, doctype: str) -> Cursor | None:
        raw = self._get(cursor_key(doctype))
        if raw is None:
            return None
        value = json.loads(raw)
        return str(value["modified"]), str(value.get("name", ""))

    def _progress(self, session: Session, doctype: str, report: PullReport, running: bool) -> None:
        value = {
            "doctype": doctype,
            "pages": report.pages,
            "applied": report.total,
            "by_doctype": dict(report.applied),
            "first": report.first,
            "running": running,
            "started": self._started,
            "at": state.now_iso(),
        }
        self._put(session, state.PREFIX + PROGRESS, json.dumps(value))

    # -- first pull: journal ---------------------------------------------------------------------
    def _begin(self) -> bool:
        if self._get(FIRST_DONE_KEY) is not None:
            return False
        with unit_of_work(self._write) as uow:
            if uow.session.get(SyncState, "pull.first_started") is None:
                self._put(uow.session, "pull.first_started", json.dumps(self._started))
                journal.append(
                    uow.session,
                    journal.JournalKind.PULL_FULL_START,
                    ACTOR,
                    self.pos_profile,
                    {"pos_profile": self.pos_profile, "doctypes": len(self.doctypes)},
                )
            uow.commit()
        log.info("first full pull of the masters (POS Profile %s)", self.pos_profile)
        return True

    def _defer_index(self) -> None:
        """A first pull writes items and barcodes without indexing them row by row; the index
        is built once the Item listing is done (``search_index.defer_item_index``)."""
        with unit_of_work(self._write) as uow:
            if search_index.defer_item_index(uow.session):
                log.info("first pull: the item search index is built once the items are in")
            uow.commit()

    def _build_index(self) -> None:
        """Build the item indexes a first pull deferred and put their triggers back (nothing
        to do when nothing is deferred)."""
        started = time.perf_counter()
        rebuilt = search_index.restore_item_index(self._write)
        if rebuilt:
            log.info(
                "search index of %s built in %.1f s",
                ", ".join(rebuilt),
                time.perf_counter() - started,
            )

    def _finish(self, report: PullReport) -> None:
        if report.first:
            self._build_index()  # a pull without Item among its doctypes
        with unit_of_work(self._write) as uow:
            self._progress(uow.session, "", report, running=False)
            if report.first:
                self._put(uow.session, FIRST_DONE_KEY, json.dumps(state.now_iso()))
                journal.append(
                    uow.session,
                    journal.JournalKind.PULL_FULL_END,
                    ACTOR,
                    self.pos_profile,
                    {"applied": dict(report.applied), "pages": report.pages},
                )
            uow.commit()

    # -- scope -----------------------------------------------------------------------------------
    def _rescope(self, report: PullReport) -> None:
        """Read the scope from the store; act on a change (drop what fell out, re-pull growth)."""
        with unit_of_work(self._write) as uow:
            session = uow.session
            scope = load_scope(session, self.pos_profile)
            old = stored_scope(session)
            if old != scope:
                removed = drop_out_of_scope(session, scope)
                for doctype, n in removed.items():
                    report.count(report.removed, doctype, n)
                grown = scope.grown(old) if old is not None else set()
                for doctype in grown:
                    session.execute(delete(SyncState).where(SyncState.key == cursor_key(doctype)))
                store_scope(session, scope)
                if old is not None:
                    log.info(
                        "POS Profile scope changed: removed %s, pulling %s again",
                        removed,
                        sorted(grown),
                    )
            uow.commit()
        self.scope = scope

    # -- pages -----------------------------------------------------------------------------------
    def _pages(
        self,
        doctype: str,
        filters: list[list[Any]],
        cursor: Cursor | None,
        fields: Sequence[str],
        order_field: str = "modified",
    ) -> Iterator[tuple[list[dict[str, Any]], Cursor]]:
        """Keyset pages after ``cursor``, each with the cursor it advances to; each page asks
        for about ``PAGE_BYTES`` of rows, at the size the previous page's rows had."""
        length = self.page_size or FIRST_PAGE
        while True:
            where = list(filters)
            or_filters: Any = None
            if cursor is not None:
                where.append([order_field, ">=", cursor[0]])
                or_filters = [[order_field, ">", cursor[0]], ["name", ">", cursor[1]]]
            rows = self.client.get_list(
                doctype,
                fields=list(fields),
                filters=where or None,
                or_filters=or_filters,
                order_by=f"{order_field} asc, name asc",
                limit_page_length=length,
            )
            if not rows:
                return
            asked, size = length, self.client.last_answer_size()
            if self.page_size is None and size > 0:
                length = max(MIN_PAGE, min(MAX_PAGE, len(rows) * PAGE_BYTES // size))
            last = rows[-1]
            cursor = (str(last[order_field]), str(last["name"]))
            yield rows, cursor
            if len(rows) < asked:
                return

    def _pull_single(self, doctype: str, report: PullReport) -> bool:
        doc = self.client.get_doc(doctype, doctype)
        if doc is None:
            return True
        cursor = self._cursor(doctype)
        modified = str(doc.get("modified") or "")
        if cursor is not None and cursor[0] == modified:
            return True
        doc.setdefault("doctype", doctype)
        self._apply(_Page(doctype, [doc], (modified, doctype)), report)
        return self._on_page is None or self._on_page(doctype, report)

    def _pull_doctype(self, doctype: str, report: PullReport) -> bool:
        tables = [
            (key, child) for (parent, key), child in CHILD_DOCTYPES.items() if parent == doctype
        ]
        cursor = self._cursor(doctype)
        filters = self.scope.filters(doctype)
        if cursor is not None:
            self._pull_exits(doctype, cursor, report)
        elif doctype in DISABLED_DELETES:
            filters.append(["disabled", "=", 0])  # nothing held yet that could be disabled
        pages = self._fetched(doctype, filters, cursor, tables)
        if doctype not in NO_PREFETCH:
            pages = _ahead(pages)
        try:
            for page in pages:
                new_customers = self._apply(page, report)
                if new_customers:
                    self._pull_addresses_of(new_customers, report)
                log.info(
                    "pulled %d %s up to %s",
                    len(page.docs),
                    doctype,
                    page.cursor[0] if page.cursor else "",
                    extra={"DOCTYPE": doctype},
                )
                if self._on_page is not None and not self._on_page(doctype, report):
                    return False
        finally:
            if isinstance(pages, _Ahead):
                pages.close()
        return True

    def _fetched(
        self,
        doctype: str,
        filters: list[list[Any]],
        cursor: Cursor | None,
        tables: list[tuple[str, str]],
    ) -> Iterator[_Page]:
        """The pages after ``cursor`` with their child tables, ready to write. On a pull from
        the start, child tables that hold no row at all on the server are not listed page by
        page (an empty Item Tax cost a request per page)."""
        if cursor is None:  # from the start: worth one request to learn a table is empty
            tables = [t for t in tables if self._has_rows(t[1], doctype)]
        listed = cursor is None
        for rows, next_cursor in self._pages(doctype, filters, cursor, ["*"]):
            self._attach_children(doctype, rows, tables, listed=listed)
            for row in rows:
                row["doctype"] = doctype
            page = _Page(doctype, rows, next_cursor)
            if doctype == POS_PROFILE:
                page.full_names = self._full_names(rows)
            yield page

    def _has_rows(self, child: str, parent: str) -> bool:
        return bool(
            self.client.get_list(child, fields=["name"], limit_page_length=1, parent=parent)
        )

    def _pull_exits(self, doctype: str, cursor: Cursor, report: PullReport) -> None:
        """Delete documents that changed since ``cursor`` and are now outside the scope."""
        exits = self.scope.exits(doctype)
        if exits is None:
            return
        for rows, _next in self._pages(doctype, exits, cursor, ["name", "modified"]):
            with unit_of_work(self._write) as uow:
                names = _not_created_here(uow.session, doctype, [str(r["name"]) for r in rows])
                removed = self._delete(uow.session, doctype, names)
                uow.commit()
            report.count(report.removed, doctype, removed)

    def _attach_children(
        self,
        doctype: str,
        rows: list[dict[str, Any]],
        tables: list[tuple[str, str]],
        *,
        listed: bool = False,
    ) -> None:
        """Each row's child tables. ``listed``: ``tables`` are those with rows on the server;
        the others are attached empty (the parents have none)."""
        names = [str(r["name"]) for r in rows]
        if listed:
            for (parent, field_name), child in CHILD_DOCTYPES.items():
                if parent == doctype and (field_name, child) not in tables:
                    for row in rows:
                        row[field_name] = []
        for key, child in tables:
            children = self.client.get_list(
                child,
                fields=["*"],
                filters=[["parent", "in", names]],
                order_by="idx asc",
                limit_page_length=0,
                parent=doctype,
            )
            by_parent: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
            for child_row in children:
                if child_row.get("parentfield") not in (None, key):
                    continue
                parent = str(child_row.get("parent"))
                if parent in by_parent:
                    by_parent[parent].append(
                        {k: v for k, v in child_row.items() if k not in _CHILD_META}
                    )
            for row in rows:
                row[key] = by_parent[str(row["name"])]

    def _full_names(self, profiles: list[dict[str, Any]]) -> dict[str, str]:
        """User.full_name of the terminal profile's users, where the integration user may read
        User; an empty map (ids shown instead) where it may not."""
        users = sorted(
            {
                str(row.get("user"))
                for doc in profiles
                if doc.get("name") == self.pos_profile
                for row in doc.get("applicable_for_users") or []
                if row.get("user")
            }
        )
        if not users:
            return {}
        try:
            rows = self.client.get_list(
                "User",
                fields=["name", "full_name"],
                filters=[["name", "in", users]],
                limit_page_length=0,
            )
        except ERPNextError as exc:
            if exc.kind is ErrorKind.RETRY:
                raise
            log.info("cannot read User names (%s): showing user ids", exc.status)
            return {}
        return {str(r["name"]): str(r["full_name"]) for r in rows if r.get("full_name")}

    def _pull_addresses_of(self, customers: list[str], report: PullReport) -> None:
        """Addresses of customers new to this till, when the Address pull is past them (a
        customer moved into the scope keeps its old addresses, which no cursor would bring)."""
        if self._cursor(ADDRESS) is None or ADDRESS not in self.doctypes:
            return
        links = self.client.get_list(
            "Dynamic Link",
            fields=["parent"],
            filters=[["link_doctype", "=", CUSTOMER], ["link_name", "in", customers]],
            limit_page_length=0,
            parent=ADDRESS,
        )
        names = sorted({str(r["parent"]) for r in links})
        if not names:
            return
        docs = self.client.get_list(
            ADDRESS, fields=["*"], filters=[["name", "in", names]], limit_page_length=0
        )
        self._attach_children(ADDRESS, docs, [("links", "Dynamic Link")])
        for doc in docs:
            doc["doctype"] = ADDRESS
        self._apply(_Page(ADDRESS, docs, None), report)

    # -- applying a page -------------------------------------------------------------------------
    def _apply(self, page: _Page, report: PullReport) -> list[str]:
        """Write one page with its cursor and progress; returns customers new to this till."""
        doctype = page.doctype
        new_customers: list[str] = []
        with unit_of_work(self._write) as uow:
            session = uow.session
            keep, drop = self._sift(session, page)
            if doctype == CUSTOMER:
                names = [str(d["name"]) for d in keep]
                held = held_customers(session, names)
                new_customers = [n for n in names if n not in held]
            keep = self._apply_skipping(session, keep, report)
            removed = self._delete(session, doctype, drop)
            if doctype == POS_PROFILE and self.pos_profile:
                for doc in keep:
                    if doc.get("name") == self.pos_profile:
                        changes = apply_profile_users(
                            session,
                            self.pos_profile,
                            doc.get("applicable_for_users") or [],
                            page.full_names,
                        )
                        for key, n in changes.as_dict().items():
                            report.count(report.cashiers, key, n)
            if page.cursor is not None:
                key = cursor_key(doctype)
                self._put(
                    session,
                    key,
                    json.dumps({"modified": page.cursor[0], "name": page.cursor[1]}),
                )
            report.count(report.applied, doctype, len(keep))
            report.count(report.removed, doctype, removed)
            report.pages += 1
            self._progress(session, doctype, report, running=True)
            uow.commit()
        return new_customers

    def _apply_skipping(
        self, session: Session, docs: list[dict[str, Any]], report: PullReport
    ) -> list[dict[str, Any]]:
        """Apply ``docs``; if the store refuses one, apply the others and name each refused one
        (log, journal, report): one bad record never stops the pull. What was applied."""
        try:
            apply_masters(session, docs)
            return docs
        except MasterError:
            pass  # refused before any write: find which documents, apply the rest
        good = []
        for doc in docs:
            reason = master_problem(doc)
            if reason is None:
                good.append(doc)
                continue
            doctype, name = str(doc.get("doctype")), str(doc.get("name"))[:140]
            log.warning("skipped %s %s: %s", doctype, name, reason, extra={"DOCTYPE": doctype})
            report.skipped.append({"doctype": doctype, "name": name, "reason": reason})
            journal.append(
                session,
                journal.JournalKind.PULL_SKIPPED,
                ACTOR,
                name,
                {"doctype": doctype, "reason": reason},
            )
        apply_masters(session, good)
        return good

    def _sift(self, session: Session, page: _Page) -> tuple[list[dict[str, Any]], list[str]]:
        """The page's documents to write, and names to delete here (disabled, not ours)."""
        doctype, docs = page.doctype, page.docs
        if doctype in DISABLED_DELETES:
            drop = [str(d["name"]) for d in docs if _flag(d.get("disabled"))]
            return [d for d in docs if not _flag(d.get("disabled"))], drop
        if doctype == ITEM_PRICE:
            held = held_items(session, (str(d.get("item_code")) for d in docs))
            keep = [d for d in docs if str(d.get("item_code")) in held]
            return keep, [str(d["name"]) for d in docs if str(d.get("item_code")) not in held]
        if doctype == LOYALTY_POINT_ENTRY:
            # Only the balances of customers this till can sell to.
            served = held_customers(session, (str(d.get("customer")) for d in docs))
            keep = [d for d in docs if str(d.get("customer")) in served]
            return keep, [str(d["name"]) for d in docs if str(d.get("customer")) not in served]
        if doctype == ADDRESS:
            served = held_customers(
                session,
                (
                    str(link.get("link_name"))
                    for d in docs
                    for link in d.get("links") or []
                    if link.get("link_doctype") == CUSTOMER
                ),
            )

            def ours(doc: dict[str, Any]) -> bool:
                return any(
                    link.get("link_doctype") == CUSTOMER and link.get("link_name") in served
                    for link in doc.get("links") or []
                )

            return [d for d in docs if ours(d)], [str(d["name"]) for d in docs if not ours(d)]
        return docs, []

    @staticmethod
    def _delete(session: Session, doctype: str, names: Sequence[str]) -> int:
        if not names or doctype not in SPECS:
            return 0
        removed = delete_masters(session, doctype, names)
        if doctype == ITEM:
            # ERPNext drops an item's prices with it, without Deleted Document rows.
            prices = Base.metadata.tables["item_prices"]
            stale = list(
                session.scalars(select(prices.c.name).where(prices.c.item_code.in_(names)))
            )
            delete_masters(session, ITEM_PRICE, stale)
        return removed

    # -- deletions -------------------------------------------------------------------------------
    def _deletion_doctypes(self) -> list[str]:
        return [d for d in self.doctypes if d in SPECS]

    def _start_deletions(self) -> None:
        """Before the first pull: start the Deleted Document cursor at the newest one, so older
        deletions (of documents this store never held) are not read."""
        if self._get(cursor_key(DELETED)) is not None or self._get(DELETIONS_KEY) is not None:
            return
        try:
            newest = self.client.get_list(
                DELETED,
                fields=["name", "creation"],
                order_by="creation desc, name desc",
                limit_page_length=1,
            )
        except ERPNextError as exc:
            if exc.status != 403:
                raise
            self._no_deleted_documents()
            return
        cursor = (str(newest[0]["creation"]), str(newest[0]["name"])) if newest else ("", "")
        with unit_of_work(self._write) as uow:
            self._put(uow.session, DELETIONS_KEY, json.dumps("listing"))
            self._put(
                uow.session,
                cursor_key(DELETED),
                json.dumps({"modified": cursor[0], "name": cursor[1]}),
            )
            uow.commit()

    def _no_deleted_documents(self) -> None:
        log.warning(
            "the integration user may not read Deleted Document (System Manager only): "
            "deletions are found by reconciling names every %.0f s",
            self.reconcile_every,
        )
        with unit_of_work(self._write) as uow:
            self._put(uow.session, DELETIONS_KEY, json.dumps("reconcile"))
            uow.commit()

    def _pull_deletions(self, report: PullReport) -> None:
        mode = self._get(DELETIONS_KEY)
        if mode is not None and json.loads(mode) == "reconcile":
            self._reconcile_if_due(report)
            return
        cursor = self._cursor(DELETED)
        if cursor is not None and cursor == ("", ""):
            cursor = None
        filters = [["deleted_doctype", "in", self._deletion_doctypes()]]
        fields = ["name", "deleted_doctype", "deleted_name", "creation"]
        try:
            for rows, next_cursor in self._pages(DELETED, filters, cursor, fields, "creation"):
                by_doctype: dict[str, list[str]] = {}
                for row in rows:
                    by_doctype.setdefault(str(row["deleted_doctype"]), []).append(
                        str(row["deleted_name"])
                    )
                with unit_of_work(self._write) as uow:
                    for doctype, names in by_doctype.items():
                        report.count(
                            report.removed, doctype, self._delete(uow.session, doctype, names)
                        )
                    value = {"modified": next_cursor[0], "name": next_cursor[1]}
                    self._put(uow.session, cursor_key(DELETED), json.dumps(value))
                    uow.commit()
        except ERPNextError as exc:
            if exc.status != 403:
                raise
            self._no_deleted_documents()  # the role was taken away: fall back

    def _reconcile_if_due(self, report: PullReport) -> None:
        last = self._get(RECONCILED_KEY)
        if last is not None and time.time() - float(json.loads(last)) < self.reconcile_every:
            return
        for doctype in self._deletion_doctypes():
            self._reconcile(doctype, report)
        with unit_of_work(self._write) as uow:
            self._put(uow.session, RECONCILED_KEY, json.dumps(time.time()))
            uow.commit()

    def _reconcile(self, doctype: str, report: PullReport) -> None:
        """Delete what is held here but no longer listed by ERPNext (names only, one listing)."""
        filters = self.scope.filters(doctype)
        if doctype in DISABLED_DELETES:
            filters.append(["disabled", "=", 0])
        listed = {
            str(r["name"])
            for r in self.client.get_list(
                doctype, fields=["name"], filters=filters or None, limit_page_length=0
            )
        }
        table = Base.metadata.tables[SPECS[doctype].table]
        with unit_of_work(self._write) as uow:
            held = list(uow.session.scalars(select(table.c.name)))
            gone = _not_created_here(uow.session, doctype, [n for n in held if n not in listed])
            report.count(report.removed, doctype, self._delete(uow.session, doctype, gone))
            uow.commit()


__all__ = ["ERPNextError", "PullReport", "Puller", "cursor_key"]
