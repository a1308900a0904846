"""Quick keys: goods with no barcode picked from a grid, ten to a page, by a digit key.

Tabs (left and right arrows): this till's favourites, then the profile's item groups. The keys
1-9 and 0 pick the item on that tile; Page Down and Page Up turn a group's pages. What is on
each page is the counter's (`counter.quick_keys`).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Static

from appliance.counter.door import Counter
from appliance.counter.quick_keys import QuickItem, QuickPage
from appliance.tui.context import Context
from appliance.tui.screens.counter_screen import CounterScreen
from appliance.tui.widgets.status_bar import StatusBar

FAVOURITES = "Favourites"
KEYS = "1234567890"
COLUMNS = 2
TILE = 37  # two tiles and their key fit the console's 80 columns
LINE = 78  # the console's 80 columns less the screen's padding


class QuickKeysScreen(CounterScreen[QuickItem | None]):
    """Returns the item picked, or None."""

    BINDINGS = [  # noqa: RUF012
        *(Binding(key, f"pick({n})", show=False) for n, key in enumerate(KEYS)),
        Binding("left", "tab(-1)", "Group"),
        Binding("right", "tab(1)", "Group", show=False),
        Binding("pagedown", "page(1)", "More"),
        Binding("pageup", "page(-1)", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, ctx: Context) -> None:
        super().__init__(classes="quick-keys")
        self.ctx = ctx
        self.tabs: tuple[str, ...] = (FAVOURITES,)
        self.tab = 0
        self.page_no = 0
        self.page = QuickPage((), more=False)

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="quick-box"):
            yield Static("QUICK KEYS - press the tile's key", classes="screen-title")
            yield Static("", id="quick-tabs", markup=False)
            yield Static("", id="quick-grid", markup=False)
            yield Static("", id="quick-message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load(first=True)

    def say(self, text: str, *, error: bool = False) -> None:
        self.tell("#quick-message", text, error=error)

    @work(exclusive=True, group="quick-load")
    async def load(self, *, first: bool = False) -> None:
        backend = self.ctx.backend
        if first:
            self.tabs = (FAVOURITES, *await backend.run(Counter.quick_groups))
        group = self.tabs[self.tab]
        if group == FAVOURITES:
            items = await backend.run(Counter.favourites)
            self.page = QuickPage(items, more=False)
            if first and not items and len(self.tabs) > 1:
                self.tab = 1  # nothing sold yet on this till: start on the first group
                group = self.tabs[1]
        if group != FAVOURITES:
            self.page = await backend.run(Counter.quick_page, group, self.page_no)
        self.draw()

    def draw(self) -> None:
        self.query_one("#quick-tabs", Static).update(tab_line(self.tabs, self.tab, LINE))
        tiles = [
            f"{KEYS[n]} {item.item_name[: TILE - 2]:<{TILE - 2}}"
            for n, item in enumerate(self.page.items)
        ]
        rows = ["  ".join(tiles[i : i + COLUMNS]) for i in range(0, len(tiles), COLUMNS)]
        self.query_one("#quick-grid", Static).update("\n".join(rows) or "Nothing here yet")
        pages = f"page {self.page_no + 1}" + (", PgDn for more" if self.page.more else "")
        self.say(f"{self.tabs[self.tab]}: {pages}. Left/Right: group, Esc: back")

    def action_pick(self, n: int) -> None:
        if n >= len(self.page.items):
            self.say(f"No item on key {KEYS[n]}", error=True)
            return
        self.dismiss(self.page.items[n])

    def action_tab(self, step: int) -> None:
        self.tab = (self.tab + step) % len(self.tabs)
        self.page_no = 0
        self.load()

    def action_page(self, step: int) -> None:
        if (step > 0 and not self.page.more) or self.page_no + step < 0:
            return
        self.page_no += step
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)


def tab_line(names: Sequence[str], current: int, width: int) -> str:
    """The group tabs on one line, however many groups the catalogue has (a stock site has
    dozens; wrapped, they pushed the tiles off the screen): the current one marked, as many
    of its neighbours as fit, and < or > where there are more."""
    cells = [f"[{name}]" if n == current else name for n, name in enumerate(names)]

    def line(lo: int, hi: int) -> str:
        more_left = "< " if lo > 0 else ""
        more_right = " >" if hi < len(cells) else ""
        return more_left + "  ".join(cells[lo:hi]) + more_right

    lo, hi = current, current + 1
    grown = True
    while grown:
        grown = False
        if hi < len(cells) and len(line(lo, hi + 1)) <= width:
            hi, grown = hi + 1, True
        if lo > 0 and len(line(lo - 1, hi)) <= width:
            lo, grown = lo - 1, True
    return line(lo, hi)[:width]
