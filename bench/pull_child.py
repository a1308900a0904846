"""One pull in a process of its own, as the agent runs on the appliance; prints one JSON line.

``python -m bench.pull_child URL KEY SECRET DB [PAGE_BYTES]``: the pull's seconds, what it
applied, whether it completed, and the process's peak RSS. PAGE_BYTES (tests/agent/
test_pull_interrupted.py): pages of about that many bytes from the first one (small: many pages,
so a kill lands mid-pull). Imports only what the agent imports, so the RSS is the
agent's, not the bench's (Textual, the demo catalog, the fake).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from appliance.agent import pull
from appliance.agent.client import ERPNextClient
from appliance.demo.masters import POS_PROFILE
from appliance.store.db import create_db_engine, make_session_factory


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ``ru_maxrss``: Linux carries ``ru_maxrss`` across
    exec, so it reports the forking parent's size (the bench, with a whole catalog parsed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    url, key, secret, db, *page_bytes = argv
    if page_bytes:
        pull.PAGE_BYTES = int(page_bytes[0])
        pull.FIRST_PAGE = pull.MIN_PAGE
    client = ERPNextClient(url, key, secret, timeout=300)
    engine = create_db_engine(Path(db))
    puller = pull.Puller(
        client,
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        pos_profile=POS_PROFILE,
    )
    started = time.perf_counter()
    report = puller.pull()
    seconds = time.perf_counter() - started
    client.close()
    engine.dispose()
    peak = _peak_rss_mb()
    out = {
        "s": round(seconds, 2),
        "applied": report.applied,
        "complete": report.complete,
        "pages": report.pages,
        "peak_rss_mb": round(peak, 1),
    }
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
