"""Child process for the crash test: commit sales in a loop until killed.

Usage: python -m tests.store.crash_child DB_FILE SHIFT_OFFLINE_ID

Prints ``ready`` once the database is open and warm, then one line ``<offline_id> <receipt_no>``
per sale, strictly after its commit has returned: a printed line is an acknowledged sale.
Every fifth sale is a full return of the sale before it, so returns and their outbox
dependencies are killed mid-way too.
"""

from __future__ import annotations

import sys
from pathlib import Path

from appliance.store.db import create_db_engine, make_session_factory, unit_of_work
from appliance.store.receipts import next_receipt_no
from appliance.store.sales import commit_sale, find_sale
from tests.store.factories import TERMINAL, return_draft, sale_draft


def main(db_file: Path, shift: str) -> None:
    factory = make_session_factory(create_db_engine(db_file))
    with unit_of_work(factory) as uow:
        # Warm up (connect, configure mappers) so the parent's kill window covers commits.
        find_sale(uow.session, shift)
    print("ready", flush=True)
    last_sale: str | None = None
    n = 0
    while True:
        n += 1
        with unit_of_work(factory) as uow:
            receipt = next_receipt_no(uow.session, TERMINAL)
            original = find_sale(uow.session, last_sale) if last_sale and n % 5 == 0 else None
            if original is not None:
                draft = return_draft(shift, receipt, original)
            else:
                draft = sale_draft(shift, receipt, n_lines=1 + n % 4)
            commit_sale(uow.session, draft)
            uow.commit()
        print(draft.offline_id, draft.receipt_no, flush=True)
        last_sale = None if draft.is_return else draft.offline_id


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
