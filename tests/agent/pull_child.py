"""Child process for the interrupted-pull tests: one pull of the masters, as the agent runs it.

Usage: python -m tests.agent.pull_child URL KEY SECRET DB PAGE_BYTES

Pages are sized to about PAGE_BYTES of answer (small: many pages, a kill lands mid-pull).
Prints the pull's report as one JSON line when it ends.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from appliance.agent import pull
from appliance.agent.client import ERPNextClient
from appliance.demo.masters import POS_PROFILE
from appliance.store.db import create_db_engine, make_session_factory


def main(url: str, key: str, secret: str, db: str, page_bytes: str) -> None:
    pull.PAGE_BYTES = int(page_bytes)
    pull.FIRST_PAGE = pull.MIN_PAGE
    engine = create_db_engine(Path(db))
    puller = pull.Puller(
        ERPNextClient(url, key, secret, timeout=60),
        make_session_factory(engine, read_only=True),
        make_session_factory(engine),
        pos_profile=POS_PROFILE,
    )
    print(json.dumps(puller.pull().as_dict()), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
