"""The QR poster for the event's access code: the event's name, a QR code of the site's link with
the code in it (segno), the link and the code in words for those who type. A PNG and an A4 PDF
(Pillow writes both from the same page)."""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageDraw, ImageFont

# A4 at 150 dpi: sharp when printed, a few hundred KB
PAGE = (1240, 1754)
QR_SIDE = 900
DPI = 150


def _font(size: int):
    return ImageFont.load_default(size=size)


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, size: int) -> int:
    font = _font(size)
    while draw.textlength(text, font=font) > PAGE[0] - 120 and size > 16:  # a long name or link: smaller
        size -= 4
        font = _font(size)
    width = draw.textlength(text, font=font)
    draw.text(((PAGE[0] - width) / 2, y), text, fill="black", font=font)
    return y + int(size * 1.4)


def page(event_name: str, link: str, code: str | None = None) -> Image.Image:
    image = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(image)
    y = _centred(draw, 110, event_name, 72)
    y = _centred(draw, y + 10, "Find your photos: scan the code", 44)
    qr = segno.make(link, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=max(1, QR_SIDE // qr.symbol_size()[0]), border=4)
    buffer.seek(0)
    symbol = Image.open(buffer).convert("RGB")
    image.paste(symbol, ((PAGE[0] - symbol.width) // 2, y + 40))
    y += 40 + symbol.height + 40
    y = _centred(draw, y, link, 32)
    if code is None and "code=" in link:
        code = link.rsplit("code=", 1)[1]
    if code:
        _centred(draw, y + 20, f"Access code: {code}", 56)
    return image


def png(event_name: str, link: str) -> bytes:
    out = io.BytesIO()
    page(event_name, link).save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def pdf(event_name: str, link: str) -> bytes:
    out = io.BytesIO()
    page(event_name, link).save(out, format="PDF", resolution=DPI, title=f"{event_name}: find your photos")
    return out.getvalue()
