"""The ReportLab renderer: each document drawn on a ReportLab canvas (its own PDF writer and the PDF base-14
fonts: Helvetica, Times, Courier), three templates per type, rasterised by pdftoppm. ID cards are drawn at
card size (85.6 x 54 mm) and photographed on a background (degrade.card_photo).

draw(rng, doc_type, c) -> RGB numpy page, for the contents c of content.py.
"""
import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

import degrade
import pdf_raster

FAMILIES = [("Helvetica", "Helvetica-Bold"), ("Times-Roman", "Times-Bold"), ("Courier", "Courier-Bold"),
            ("Helvetica-Oblique", "Helvetica-BoldOblique"), ("Times-Italic", "Times-BoldItalic")]


class Page:
    """A canvas in top-down coordinates (y grows downwards from the top margin), with a regular and a bold font."""

    def __init__(self, rng, size, family=None):
        self.buf = io.BytesIO()
        self.w, self.h = size
        self.c = canvas.Canvas(self.buf, pagesize=size, pageCompression=0)
        self.regular, self.bold = family or rng.choice(FAMILIES)
        self.ink = colors.Color(*(rng.uniform(0, 0.25),) * 3)

    def text(self, x, y, s, size, bold=False, align="left", color=None):
        self.c.setFont(self.bold if bold else self.regular, size)
        self.c.setFillColor(color or self.ink)
        yy = self.h - y - size
        {"left": self.c.drawString, "right": self.c.drawRightString, "center": self.c.drawCentredString}[align](x, yy, s)
        return y + size * 1.35

    def width(self, s, size, bold=False):
        return self.c.stringWidth(s, self.bold if bold else self.regular, size)

    def line(self, x0, y0, x1, y1, width=1, dash=None):
        self.c.setLineWidth(width); self.c.setStrokeColor(self.ink)
        self.c.setDash(*(dash or ([], 0)))
        self.c.line(x0, self.h - y0, x1, self.h - y1)
        self.c.setDash([], 0)

    def rect(self, x, y, w, h, fill=None, stroke=True, width=1):
        self.c.setLineWidth(width); self.c.setStrokeColor(self.ink)
        if fill is not None: self.c.setFillColor(fill)
        self.c.rect(x, self.h - y - h, w, h, stroke=int(stroke), fill=int(fill is not None))

    def wrap(self, x, y, s, size, width):
        line = ""
        for word in s.split():
            if self.width(line + " " + word, size) > width:
                y = self.text(x, y, line, size); line = word
            else:
                line = (line + " " + word).strip()
        return self.text(x, y, line, size)

    def pdf(self):
        self.c.showPage(); self.c.save()
        return self.buf.getvalue()


def paper(rng):
    return rng.choice([A4, LETTER])


def tint(rng, lo=0.75):
    return colors.Color(rng.uniform(lo, 1), rng.uniform(lo, 1), rng.uniform(lo, 1))


def invoice(rng, c):
    p = Page(rng, paper(rng)); m = rng.uniform(40, 70); s = rng.uniform(9, 12); t = rng.randint(0, 2)
    if t == 0:
        y = p.text(m, m, c["title"], s * 2.2, bold=True) + s
        yy = y
        for line in c["seller"]: yy = p.text(m, yy, line, s)
        yb = p.text(p.w / 2 + 20, y, c["to"], s, bold=True)
        for line in c["buyer"]: yb = p.text(p.w / 2 + 20, yb, line, s)
        y = max(yy, yb) + s
        y = p.text(m, y, c["number_label"] + " " + c["number"], s)
        y = p.text(m, y, c["date_label"] + " " + c["date"], s) + s
    elif t == 1:
        band = rng.uniform(60, 90)
        p.rect(0, 0, p.w, band, fill=colors.Color(rng.uniform(0, .4), rng.uniform(0, .4), rng.uniform(.2, .6)), stroke=False)
        p.text(m, band / 2 - s, c["title"], s * 2.4, bold=True, color=colors.white)
        y = band + s
        for line in c["seller"]: y = p.text(m, y, line, s * 0.9)
        bx = p.w - m - 200
        p.rect(bx, band + s, 200, s * 3.2)
        p.text(bx + 6, band + s * 1.4, c["number_label"] + " " + c["number"], s * 0.9)
        p.text(bx + 6, band + s * 2.6, c["date_label"] + " " + c["date"], s * 0.9)
        y = max(y, band + s * 5) + s
        y = p.text(m, y, c["to"] + ":", s, bold=True)
        for line in c["buyer"]: y = p.text(m, y, line, s)
        y += s
    else:
        y = p.text(p.w / 2, m, c["seller"][0], s * 1.6, bold=True, align="center")
        y = p.text(p.w / 2, y, ", ".join(c["seller"][1:]), s * 0.9, align="center")
        p.line(m, y + 4, p.w - m, y + 4, 0.5); y += s * 2
        y = p.text(p.w - m, y, c["title"], s * 2, bold=True, align="right")
        p.text(m, y, c["number_label"], s); y = p.text(m + 130, y, c["number"], s, bold=True)
        p.text(m, y, c["date_label"], s); y = p.text(m + 130, y, c["date"], s) + s
        for line in [c["to"]] + c["buyer"]: y = p.text(m, y, line, s)
        y += s
    # the items table
    cols = [m, m + 45, p.w - m]
    row = s * 1.6
    if t == 1: p.rect(m, y - 3, p.w - 2 * m, row, fill=tint(rng, 0.8), stroke=False)
    p.text(cols[0] + 2, y, c["qty"], s, bold=True); p.text(cols[1], y, c["desc"], s, bold=True)
    p.text(cols[2] - 2, y, c["amount"], s, bold=True, align="right")
    y += row; p.line(m, y - 4, p.w - m, y - 4, 1)
    for k, (qty, item, amount) in enumerate(c["items"]):
        if t == 2 and k % 2: p.rect(m, y - 3, p.w - 2 * m, row, fill=colors.Color(.93, .93, .93), stroke=False)
        p.text(cols[0] + 2, y, qty, s); p.text(cols[1], y, item, s); p.text(cols[2] - 2, y, amount, s, align="right")
        y += row
        if t == 1: p.line(m, y - 4, p.w - m, y - 4, 0.3)
    p.line(m, y - 2, p.w - m, y - 2, 1.2); y += s
    if t == 2:
        p.rect(p.w - m - 230, y - 4, 230, s * 2.2, width=1.2)
    p.text(p.w - m - 8, y, c["total_label"] + "  " + c["total"], s * 1.3, bold=True, align="right")
    p.text(m, p.h - m - s, c["due"], s * 0.8)
    return pdf_raster.rasterise(p.pdf(), rng.uniform(95, 150))


def receipt(rng, c):
    width = rng.choice([58, 72, 80]) * mm; s = rng.uniform(7, 9)
    height = (len(c["items"]) + 14) * s * 1.5 + 40
    fam = rng.choice([("Courier", "Courier-Bold"), ("Helvetica", "Helvetica-Bold"), ("Courier", "Courier")])
    p = Page(rng, (width, height), fam); m = 8; t = rng.randint(0, 2)
    y = m
    if t == 0:
        y = p.text(p.w / 2, y, c["shop"], s * 1.4, bold=True, align="center")
        for line in c["address"]: y = p.text(p.w / 2, y, line, s * 0.9, align="center")
    else:
        y = p.text(m, y, c["shop"], s * 1.3, bold=True)
        for line in c["address"]: y = p.text(m, y, line, s * 0.9)
    if t == 2: y = p.text(m, y, c["when"], s)
    y += s * 0.6
    p.line(m, y, p.w - m, y, 0.6, dash=([2, 2], 0) if t else None); y += s * 0.6
    for item, amount in c["items"]:
        p.text(m, y, item, s); y = p.text(p.w - m, y, amount, s, align="right")
    p.line(m, y + 2, p.w - m, y + 2, 0.6, dash=([2, 2], 0) if t else None); y += s * 0.8
    ts = s * 1.3
    if p.width(c["total_label"] + "  " + c["total"], ts, True) > p.w - 2 * m:
        ts = s  # a narrow till roll prints the total smaller
    p.text(m, y, c["total_label"], ts, bold=True); y = p.text(p.w - m, y, c["total"], ts, bold=True, align="right")
    if rng.random() < 0.5:
        p.text(m, y, c["cash"], s); y = p.text(p.w - m, y, c["total"].split()[-1] if " " in c["total"] else "", s, align="right")
    y += s * 0.5
    if t != 2: y = p.text(m, y, c["when"], s)
    p.text(p.w / 2 if t == 0 else m, y + s * 0.5, c["thanks"], s, align="center" if t == 0 else "left")
    return pdf_raster.rasterise(p.pdf(), rng.uniform(150, 220))


def id_card(rng, c, clean):
    p = Page(rng, (85.6 * mm, 54 * mm)); t = rng.randint(0, 2)
    p.rect(0, 0, p.w, p.h, fill=tint(rng, 0.65), stroke=False)
    s = rng.uniform(6, 7.5)
    if t == 1:
        p.rect(0, 0, p.w, 14, fill=colors.Color(rng.uniform(0, .3), rng.uniform(.2, .5), rng.uniform(.2, .5)), stroke=False)
        p.text(p.w / 2, 3, c["title"], s * 1.05, bold=True, align="center", color=colors.white)
    else:
        p.text(8, 6, c["title"], s * 1.1, bold=True)
    photo_x = 8 if t != 1 else p.w - 8 - 60
    p.rect(photo_x, 20, 60 * 0.8, 60, fill=colors.Color(.55, .55, .6), stroke=False)
    p.c.setFillColor(colors.Color(.85, .72, .62)); p.c.circle(photo_x + 24, p.h - 20 - 22, 13, stroke=0, fill=1)
    x = photo_x + 56 if t != 1 else 8
    y = 20
    y = p.text(x, y, c["name_label"], s * 0.75); y = p.text(x, y, c["name"], s, bold=True) + 2
    y = p.text(x, y, c["birth_label"], s * 0.75); y = p.text(x, y, c["birth"], s) + 2
    y = p.text(x, y, c["number_label"], s * 0.75); y = p.text(x, y, c["number"], s, bold=True)
    if t == 2:
        p.text(6, p.h - 12, "IDBRA" + c["number"].replace(".", "").replace("-", "") + "<<<<<<<<", s * 0.9)
    img = pdf_raster.rasterise(p.pdf(), rng.uniform(180, 260))
    return degrade.card_photo(rng, img) if not clean or rng.random() < 0.5 else img


def letter(rng, c):
    p = Page(rng, paper(rng)); m = rng.uniform(55, 85); s = rng.uniform(10, 12); t = rng.randint(0, 2)
    if t == 0:
        y = m
        for line in [c["sender"]] + c["sender_address"]: y = p.text(m, y, line, s)
        y += s
        for line in c["recipient"]: y = p.text(m, y, line, s)
        y = p.text(p.w - m, y + s, c["date"], s, align="right") + s
    elif t == 1:
        y = p.text(p.w / 2, m, c["sender"], s * 1.6, bold=True, align="center")
        y = p.text(p.w / 2, y, " · ".join(c["sender_address"]), s * 0.85, align="center")
        p.line(m, y + 2, p.w - m, y + 2, 0.8); y += s * 2
        y = p.text(m, y, c["date"], s) + s
        for line in c["recipient"]: y = p.text(m, y, line, s)
        y += s
    else:
        y = m
        for line in [c["sender"]] + c["sender_address"]: y = p.text(p.w - m, y, line, s * 0.9, align="right")
        y += s * 2
        p.text(m, y - s, c["sender"] + ", " + ", ".join(c["sender_address"]), s * 0.6)
        for line in c["recipient"]: y = p.text(m, y, line, s)
        y = p.text(p.w - m, y + s, c["date"], s, align="right") + s
    y = p.text(m, y, c["subject"], s, bold=True) + s * 0.5
    y = p.text(m, y, c["greeting"], s) + s * 0.4
    for para in c["paragraphs"]:
        y = p.wrap(m, y, para, s, p.w - 2 * m) + s * 0.5
        if y > p.h - 6 * s: break
    y = p.text(m, y + s, c["closing"], s)
    p.text(m, y + s * 2, c["sender"], s)
    return pdf_raster.rasterise(p.pdf(), rng.uniform(95, 150))


def form(rng, c):
    p = Page(rng, paper(rng)); m = rng.uniform(40, 70); s = rng.uniform(10, 12); t = rng.randint(0, 2)
    y = p.text(m if t != 1 else p.w / 2, m, c["title"], s * 1.8, bold=True, align="left" if t != 1 else "center")
    if c["form_id"]: y = p.text(m, y + 4, c["id_label"] + " " + c["form_id"], s)
    y += s
    label_w = rng.uniform(130, 170)
    for kind, v in c["rows"]:
        if kind == "check":
            for k, (opt, ticked) in enumerate(v):
                x = m + k * 120
                p.rect(x, y, 10, 10)
                if ticked: p.line(x + 2, y + 5, x + 4, y + 9, 1.5); p.line(x + 4, y + 9, x + 9, y + 1, 1.5)
                p.text(x + 16, y - 1, opt, s)
            y += s * 2.4
        elif t == 0:
            p.text(m, y + 3, v, s); p.rect(m + label_w, y - 2, p.w - 2 * m - label_w, s * 1.7); y += s * 2.6
        elif t == 1:
            p.text(m, y, v + ":", s); p.line(m + label_w, y + s, p.w - m, y + s, 0.6, dash=([1, 2], 0)); y += s * 2.4
        else:
            p.rect(m, y - 2, p.w - 2 * m, s * 2.6, fill=tint(rng, .92) if rng.random() < .3 else None)
            p.text(m + 3, y, v, s * 0.7); y += s * 2.6
        if y > p.h - 4 * s: break
    return pdf_raster.rasterise(p.pdf(), rng.uniform(95, 150))


def draw(rng, doc_type, c, clean=False):
    if doc_type == "id_card":
        return id_card(rng, c, clean)
    return {"invoice": invoice, "receipt": receipt, "letter": letter, "form": form}[doc_type](rng, c)
