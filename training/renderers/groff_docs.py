"""The groff renderer: each document written as troff source (tbl for tables, filled and justified paragraphs
with groff's own hyphenation for letters) and typeset by `groff -K utf-8 -t -Tpdf` (gropdf and the URW base-35
fonts: Palatino, New Century Schoolbook, Bookman, Avant Garde, Helvetica Narrow, Times, Courier), rasterised
by pdftoppm, all through pipes. Three templates per type. ID cards are typeset at card size and, in part,
photographed on a background.

draw(rng, doc_type, c) -> RGB numpy page, for the contents c of content.py.
"""
import subprocess

import degrade
import pdf_raster

FAMILIES = [("PR", "PB"), ("NR", "NB"), ("BMR", "BMB"), ("AR", "AB"), ("HNR", "HNB"), ("TR", "TB"), ("CR", "CB"),
            ("PI", "PBI")]
PAPERS = {"a4": (21.0, 29.7), "letter": (21.59, 27.94)}  # width, length in cm


def esc(s):
    """Text safe on a troff line: backslashes doubled, a leading control character neutralised."""
    return "\\&" + s.replace("\\", "\\e")


class Doc:
    """troff source built line by line; positions in points from the page's top-left corner."""

    def __init__(self, rng, width_cm, length_cm, margin_pt):
        self.rng, self.width, self.length = rng, width_cm, length_cm
        self.regular, self.bold = rng.choice(FAMILIES)
        ink = rng.uniform(0, 0.25)
        self.lines = [".pl %.2fc" % length_cm, ".po %dp" % margin_pt, ".ll %.1fp" % (width_cm / 2.54 * 72 - 2 * margin_pt),
                      ".defcolor ink rgb %.2f %.2f %.2f" % (ink, ink, ink), ".gcolor ink", ".nh", ".nf", ".ft " + self.regular]
        self.margin = margin_pt

    def raw(self, *lines):
        self.lines.extend(lines)

    def size(self, pt):
        self.raw(".ps %.1f" % pt, ".vs %.1f" % (pt * 1.3))

    def at(self, y, pieces, pt, bold=False):
        """One output line with its baseline ~y points down: pieces of (x from the margin, text, align)."""
        self.size(pt)
        self.raw(".ft " + (self.bold if bold else self.regular), ".sp |%.1fp" % max(0.0, y - pt * 0.3))
        out = ""
        for x, text, align in pieces:
            t = esc(text)
            if align == "right": out += "\\h'|%.1fp-\\w'%s'u'%s" % (x, t, t)
            elif align == "center": out += "\\h'|%.1fp-(\\w'%s'u/2u)'%s" % (x, t, t)
            else: out += "\\h'|%.1fp'%s" % (x, t)
        self.raw(out)
        return y + pt * 1.35

    def colour(self, name, rgb):
        self.raw(".defcolor %s rgb %.2f %.2f %.2f" % ((name,) + tuple(rgb)))

    def box(self, y, x, w, h, fill=None):
        """A rectangle (filled with colour `fill`, else outlined) whose top-left corner is at (x, y)."""
        self.raw(".sp |%.1fp" % y)
        path = "%.1fp 0 0 %.1fp -%.1fp 0" % (w, h, w)
        draw = ("\\M[%s]\\D'P %s'\\M[]" % (fill, path)) if fill else ("\\D'p %s'" % path)
        self.raw("\\v'-1v'\\h'|%.1fp'%s" % (x, draw))

    def table(self, spec, rows, pt, options="tab(@)"):
        self.size(pt)
        self.raw(".TS", options + ";", *spec, *["@".join(esc(c) for c in r) for r in rows], ".TE")

    def pdf(self):
        source = "\n".join(self.lines) + "\n"
        return subprocess.run(["groff", "-K", "utf-8", "-t", "-Tpdf", "-P-p%.2fc,%.2fc" % (self.length, self.width)],
                              input=source.encode(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              check=True).stdout


def page(rng, margin):
    w, l = PAPERS[rng.choice(list(PAPERS))]
    return Doc(rng, w, l, margin)


def invoice(rng, c):
    d = page(rng, rng.randint(45, 70)); s = rng.uniform(9.5, 12); t = rng.randint(0, 2); lw = d.width / 2.54 * 72 - 2 * d.margin
    if t == 0:
        y = d.at(d.margin, [(0, c["title"], "left")], s * 2.2, bold=True) + s
        for k in range(3):
            y = d.at(y, [(0, c["seller"][k], "left"), (lw * 0.55, (c["to"] + ": " if k == 0 else "") + c["buyer"][k], "left")], s)
        y = d.at(y + s, [(0, c["number_label"] + " " + c["number"], "left")], s)
        y = d.at(y, [(0, c["date_label"] + " " + c["date"], "left")], s)
    elif t == 1:
        y = d.at(d.margin, [(lw, c["title"], "right")], s * 2.4, bold=True)
        for line in c["seller"]: y = d.at(y, [(0, line, "left")], s)
        y = d.at(y + s, [(0, c["to"], "left")], s, bold=True)
        for line in c["buyer"]: y = d.at(y, [(0, line, "left")], s)
        d.raw(".sp 1")
        d.table(["l l.", ], [[c["number_label"], c["number"]], [c["date_label"], c["date"]]], s, "tab(@) box")
    else:
        d.colour("band", (rng.uniform(.75, .95), rng.uniform(.75, .95), rng.uniform(.75, .95)))
        d.box(d.margin - s, -d.margin, lw + 2 * d.margin, s * 4, fill="band")
        y = d.at(d.margin + s * 0.5, [(lw / 2, c["title"] + "  " + c["number"], "center")], s * 1.8, bold=True) + s * 2
        y = d.at(y, [(0, c["seller"][0], "left"), (lw, c["date_label"] + " " + c["date"], "right")], s)
        for line in c["seller"][1:]: y = d.at(y, [(0, line, "left")], s)
        y = d.at(y + s, [(0, c["to"] + ": " + ", ".join(c["buyer"]), "left")], s)
        y = d.at(y, [(0, c["number_label"] + " " + c["number"], "left")], s)
    d.raw(".sp 2")
    style = rng.choice(["box", "allbox", "doublebox", ""])
    d.table(["cb lb rb", "c l r."],
            [[c["qty"], c["desc"], c["amount"]]] + [list(i) for i in c["items"]], s, "tab(@) expand " + style)
    d.raw(".sp 1", ".ft " + d.bold, ".ps %.1f" % (s * 1.3), "\\h'|%.1fp-\\w'%s'u'%s" % (
        lw, esc(c["total_label"] + "  " + c["total"]), esc(c["total_label"] + "  " + c["total"])))
    d.raw(".sp 2", ".ft " + d.regular, ".ps %.1f" % (s * 0.85), esc(c["due"]))
    return pdf_raster.rasterise(d.pdf(), rng.uniform(95, 150))


def receipt(rng, c):
    width = rng.choice([5.8, 7.2, 8.0]); s = rng.uniform(7, 9)
    length = ((len(c["items"]) + 14) * s * 1.45 + 30) / 72 * 2.54
    d = Doc(rng, width, length, 8)
    if rng.random() < 0.6: d.regular, d.bold = "CR", "CB"
    lw = width / 2.54 * 72 - 16; t = rng.randint(0, 2)
    if t == 0:
        y = d.at(10, [(lw / 2, c["shop"], "center")], s * 1.4, bold=True)
        for line in c["address"]: y = d.at(y, [(lw / 2, line, "center")], s * 0.9)
    else:
        y = d.at(10, [(0, c["shop"], "left")], s * 1.3, bold=True)
        for line in c["address"]: y = d.at(y, [(0, line, "left")], s * 0.9)
    if t == 2: y = d.at(y, [(0, c["when"], "left")], s)
    y = d.at(y, [(0, ("-" if t else "=") * int(lw / (s * 0.6)), "left")], s)
    for item, amount in c["items"]: y = d.at(y, [(0, item, "left"), (lw, amount, "right")], s)
    y = d.at(y, [(0, "-" * int(lw / (s * 0.6)), "left")], s)
    y = d.at(y, [(0, c["total_label"], "left"), (lw, c["total"], "right")], s * 1.3, bold=True)
    if t != 2: y = d.at(y + s * 0.5, [(0, c["when"], "left")], s)
    d.at(y + s * 0.5, [(lw / 2 if t == 0 else 0, c["thanks"], "center" if t == 0 else "left")], s)
    return pdf_raster.rasterise(d.pdf(), rng.uniform(150, 220))


def id_card(rng, c, clean):
    d = Doc(rng, 8.56, 5.4, 6); s = rng.uniform(6, 7.5); t = rng.randint(0, 2); w, h = 8.56 / 2.54 * 72, 5.4 / 2.54 * 72
    d.colour("card", tuple(rng.uniform(.65, 1) for _ in range(3))); d.colour("photo", (.55, .55, .6))
    d.colour("face", (.85, .72, .62)); d.colour("band", (rng.uniform(0, .3), rng.uniform(.2, .5), rng.uniform(.2, .5)))
    d.box(0, -6, w, h, fill="card")
    if t == 1:
        d.box(0, -6, w, 14, fill="band")
        d.raw(".defcolor white rgb 1 1 1", ".gcolor white")
        d.at(3, [((w - 12) / 2, c["title"], "center")], s, bold=True)
        d.raw(".gcolor ink")
    else:
        d.at(5, [(0, c["title"], "left")], s * 1.1, bold=True)
    px = 2 if t != 1 else w - 12 - 50
    d.box(20, px, 48, 60, fill="photo")
    d.raw(".sp |%.1fp" % 45, "\\h'|%.1fp'\\M[face]\\D'C 26p'\\M[]" % (px + 11))
    x = px + 56 if t != 1 else 2
    y = 22
    y = d.at(y, [(x, c["name_label"], "left")], s * 0.75); y = d.at(y, [(x, c["name"], "left")], s, bold=True) + 2
    y = d.at(y, [(x, c["birth_label"], "left")], s * 0.75); y = d.at(y, [(x, c["birth"], "left")], s) + 2
    y = d.at(y, [(x, c["number_label"], "left")], s * 0.75); d.at(y, [(x, c["number"], "left")], s, bold=True)
    img = pdf_raster.rasterise(d.pdf(), rng.uniform(180, 260))
    return degrade.card_photo(rng, img) if rng.random() < (0.3 if clean else 0.7) else img


def letter(rng, c):
    d = page(rng, rng.randint(55, 85)); s = rng.uniform(10, 12); t = rng.randint(0, 2); lw = d.width / 2.54 * 72 - 2 * d.margin
    if t == 0:
        y = d.margin
        for line in [c["sender"]] + c["sender_address"]: y = d.at(y, [(0, line, "left")], s)
        y += s
        for line in c["recipient"]: y = d.at(y, [(0, line, "left")], s)
        y = d.at(y + s, [(lw, c["date"], "right")], s)
    elif t == 1:
        y = d.at(d.margin, [(lw / 2, c["sender"], "center")], s * 1.6, bold=True)
        y = d.at(y, [(lw / 2, " | ".join(c["sender_address"]), "center")], s * 0.85)
        d.raw("\\D'l %.1fp 0'" % lw)
        y = d.at(y + s * 2, [(0, c["date"], "left")], s) + s
        for line in c["recipient"]: y = d.at(y, [(0, line, "left")], s)
    else:
        y = d.margin
        for line in [c["sender"]] + c["sender_address"]: y = d.at(y, [(lw, line, "right")], s * 0.9)
        y = d.at(y + s * 2, [(0, c["sender"] + ", " + ", ".join(c["sender_address"]), "left")], s * 0.6)
        for line in c["recipient"]: y = d.at(y, [(0, line, "left")], s)
        y = d.at(y + s, [(lw, c["city_date"] if "city_date" in c else c["date"], "right")], s)
    d.size(s)
    d.raw(".sp 1", ".ft " + d.bold, esc(c["subject"]), ".ft " + d.regular, ".sp 1", esc(c["greeting"]), ".sp 0.5",
          ".fi", ".ad " + rng.choice(["b", "l"]), ".hy 1" if c["lang"] == "en" else ".nh")
    for para in c["paragraphs"]:
        d.raw(esc(para), ".sp 0.6")
    d.raw(".nf", ".sp 1", esc(c["closing"]), ".sp 2", esc(c["sender"]))
    return pdf_raster.rasterise(d.pdf(), rng.uniform(95, 150))


def form(rng, c):
    d = page(rng, rng.randint(45, 70)); s = rng.uniform(10, 12); t = rng.randint(0, 2); lw = d.width / 2.54 * 72 - 2 * d.margin
    y = d.at(d.margin, [(0 if t != 1 else lw / 2, c["title"], "left" if t != 1 else "center")], s * 1.8, bold=True)
    if c["form_id"]: d.at(y + 4, [(0 if t != 2 else lw, c["id_label"] + " " + c["form_id"], "left" if t != 2 else "right")], s)
    d.raw(".sp 2")
    rows = []
    for kind, v in c["rows"]:
        if kind == "check":
            rows.append([" ".join(("[X] " if ticked else "[  ] ") + opt + "      " for opt, ticked in v), ""])
        else:
            rows.append([v, ""])
    if t == 0:
        d.table(["l lw(%.0fp)." % (lw * 0.6)], rows, s, "tab(@) allbox expand")
    elif t == 1:
        d.size(s)
        for label, _ in rows:
            d.raw(esc(label) + ("\\h'|%.0fp'\\l'%.0fp.'" % (lw * 0.38, lw * 0.6) if "[" not in label else ""), ".sp 1")
    else:
        d.table(["l."], [[label + ("" if "[" in label else ":")] for label, _ in rows], s,
                "tab(@) box expand")
        d.raw(".sp 1", "\\D'l %.0fp 0'" % lw)
    return pdf_raster.rasterise(d.pdf(), rng.uniform(95, 150))


def draw(rng, doc_type, c, clean=False):
    if doc_type == "id_card":
        return id_card(rng, c, clean)
    return {"invoice": invoice, "receipt": receipt, "letter": letter, "form": form}[doc_type](rng, c)
