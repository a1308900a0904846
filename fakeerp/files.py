"""``POST /api/method/upload_file`` as a stock site answers it (../shared/erpnext/README.md):
a multipart form with ``file``, ``is_private``, ``doctype`` and ``docname`` makes a File
attached to that document; the answer's ``message`` is the File (``name``, ``file_url``
``/private/files/<file name>``, ``attached_to_doctype``, ``attached_to_name``, ``file_size``).

The fake keeps each file's bytes in ``Site.files`` (File name -> bytes) for tests to open. Only
a user who may write the document may attach to it; an unknown document answers 404.
"""

from __future__ import annotations

import secrets
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from fakeerp import errors
from fakeerp.site import Site

FILE = "File"


def _parts(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Form field -> (file name or None, bytes)."""
    if not content_type.startswith("multipart/form-data"):
        raise errors.validation("upload_file needs a multipart/form-data body")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + raw
    )
    out: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts() if isinstance(message, Message) else []:
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            out[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return out


def upload_file(site: Site, content_type: str, raw: bytes, user: str) -> dict[str, Any]:
    parts = _parts(content_type, raw)
    if "file" not in parts or not parts["file"][0]:
        raise errors.validation("No file attached")
    filename, content = parts["file"]
    doctype = parts.get("doctype", (None, b""))[1].decode()
    docname = parts.get("docname", (None, b""))[1].decode()
    private = parts.get("is_private", (None, b"0"))[1].decode() == "1"
    with site.lock:
        if doctype:
            site.get(doctype, docname, user)  # 404 for an unknown document, 403 if fenced
            if site.meta.custom_doctype(doctype) is not None:
                site.meta.permit_doc(doctype, user, "write")
        taken = {d.get("file_name") for d in site.docs.get(FILE, {}).values()}
        stored = str(filename)
        while stored in taken:  # Frappe keeps both: the second gets a random suffix
            stem, dot, ext = str(filename).rpartition(".")
            stored = f"{stem or ext}{secrets.token_hex(3)}{dot}{ext if stem else ''}"
        name = secrets.token_hex(5)
        doc = {
            "name": name,
            "doctype": FILE,
            "file_name": stored,
            "file_url": f"/{'private/' if private else ''}files/{stored}",
            "is_private": int(private),
            "attached_to_doctype": doctype or None,
            "attached_to_name": docname or None,
            "file_size": len(content),
            "owner": user,
        }
        site.load([doc])
        site.files[name] = content
        return site.get(FILE, name)
