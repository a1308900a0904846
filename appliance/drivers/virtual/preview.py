"""Renders decoded ESC/POS output as a PNG roll of paper, for people to look at.

One character cell is 12 x 24 px with DejaVu Sans Mono at 20 px, so 48 columns make 576 px:
the dot width of an 80 mm printer (32 columns, 384 px, for 58 mm). Without the TTF (a box
without fonts-dejavu-core) Pillow's built-in font is used and the preview says so.
"""

from __future__ import annotations

from pathlib import Path

import barcode  # type: ignore[import-untyped]  # python-barcode, a python-escpos dependency
import qrcode  # type: ignore[import-untyped]
from barcode.writer import ImageWriter  # type: ignore[import-untyped]
from PIL import Image, ImageDraw, ImageFont

from appliance.drivers.virtual.escpos_decoder import Mark, Printed

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = FONT_DIR / "DejaVuSansMono.ttf", FONT_DIR / "DejaVuSansMono-Bold.ttf"
CELL_W, CELL_H, FONT_PX, MARGIN = 12, 24, 20, 16

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(path: Path, size: int) -> Font:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default()


def render_png(printed: list[Printed], columns: int, target: Path | str) -> Path:
    width = columns * CELL_W + 2 * MARGIN
    blocks = [_block(p, columns) for p in printed]
    height = sum(b.height for b in blocks) + 2 * MARGIN
    page = Image.new("RGB", (width, height), "white")
    y = MARGIN
    for block in blocks:
        page.paste(block, (MARGIN, y))
        y += block.height
    target = Path(target)
    page.save(target)
    return target


def _block(p: Printed, columns: int) -> Image.Image:
    paper = columns * CELL_W
    if p.kind is Mark.TEXT:
        return _text(p, paper)
    if p.kind is Mark.QR:
        return _centered(_qr(p.data), paper)
    if p.kind is Mark.BARCODE:
        return _centered(_code128(p.data.split(" ", 1)[-1]), paper)
    # Cut, drawer kick, images and unknown commands: a grey marker line.
    img = Image.new("RGB", (paper, CELL_H), "white")
    draw = ImageDraw.Draw(img)
    if p.kind is Mark.CUT:
        for x in range(0, paper, 16):
            draw.line([(x, CELL_H // 2), (x + 8, CELL_H // 2)], fill="grey")
    label = f" {p} "
    left = paper // 2 - len(label) * CELL_W // 2
    draw.rectangle([left, 0, left + len(label) * CELL_W, CELL_H - 1], fill="white")
    draw.text((left, 2), label, fill="grey", font=_font(REGULAR, FONT_PX))
    return img


def _text(p: Printed, paper: int) -> Image.Image:
    st = p.style
    font = _font(BOLD if st.bold else REGULAR, FONT_PX * st.height)
    cell_w, cell_h = CELL_W * st.width, CELL_H * st.height
    img = Image.new("RGB", (paper, cell_h), "white")
    text = p.text.rstrip("\n")
    used = len(text) * cell_w
    x = {"center": (paper - used) // 2, "right": paper - used}.get(st.align, 0)
    draw = ImageDraw.Draw(img)
    if st.invert:
        draw.rectangle([x, 0, x + used, cell_h - 1], fill="black")
    ink = "white" if st.invert else "black"
    for n, char in enumerate(text):
        # Per-cell placement keeps the monospace grid even when width != height (GS !).
        glyph = Image.new("L", (CELL_W * st.height, cell_h), 0)
        ImageDraw.Draw(glyph).text((0, 0), char, fill=255, font=font)
        glyph = glyph.resize((cell_w, cell_h)) if st.width != st.height else glyph
        img.paste(Image.new("RGB", glyph.size, ink), (x + n * cell_w, 0), glyph)
    if st.underline:
        draw.line([(x, cell_h - 2), (x + used, cell_h - 2)], fill=ink, width=2)
    return img


def _qr(data: str) -> Image.Image:
    code = qrcode.QRCode(box_size=5, border=1)
    code.add_data(data)
    code.make(fit=True)
    image: Image.Image = code.make_image().get_image().convert("RGB")
    return image


def _code128(data: str) -> Image.Image:
    rendered: Image.Image = barcode.get("code128", data, writer=ImageWriter()).render(
        {"module_height": 8.0, "module_width": 0.25, "font_size": 0, "quiet_zone": 2.0}
    )
    return rendered.convert("RGB")


def _centered(image: Image.Image, paper: int) -> Image.Image:
    if image.width > paper:
        image = image.resize((paper, image.height * paper // image.width))
    block = Image.new("RGB", (paper, image.height + CELL_H // 2), "white")
    block.paste(image, ((paper - image.width) // 2, 0))
    return block
