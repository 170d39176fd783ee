#!/usr/bin/python3
"""Synthetic labelled documents: invoice, receipt, id_card, letter, form, rendered with PIL and the TrueType
fonts of Debian's font packages, with ground truth (type, fields, rotation) beside each image.

    /usr/bin/python3 training/synthetic_documents.py --out DIR --count 100 --seed 1 [--fonts train|heldout|all]

writes DIR/000000.jpg ... and DIR/truth.jsonl ({"file", "doc_type", "fields", "rotation", "font"} per line).
Deterministic by seed (and the installed fonts). Fonts are split by family into a training and a held-out set,
so an evaluation can use fonts the classifier never saw.
"""
import argparse
import datetime
import glob
import io
import json
import os
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

DOC_TYPES = ["invoice", "receipt", "id_card", "letter", "form"]
FONT_ROOT = "/usr/share/fonts/truetype"
# Whole families held out of training: evaluation on them measures generalisation to unseen type.
HELDOUT_FAMILIES = ("FreeSerif", "LiberationMono", "NotoSerif-", "DejaVuSansCondensed")
LATIN_FONT_PREFIXES = ("DejaVuSans", "DejaVuSerif", "Liberation", "Free", "NotoSans-", "NotoSerif-", "NotoSansMono-")

FIRST = "Ana Bruno Carla Diego Elisa Felipe Gabriela Hugo Isabel Joao Karina Lucas Marina Nuno Olivia Paulo " \
        "Rafaela Sergio Tatiana Vitor Wanda Yara Zeca Maria Pedro Julia Miguel Sofia Arthur Laura".split()
LAST = "Silva Santos Oliveira Souza Lima Pereira Costa Rodrigues Almeida Nascimento Carvalho Gomes Martins " \
       "Rocha Ribeiro Alves Monteiro Mendes Barros Freitas Barbosa Pinto Moura Cavalcanti Dias Castro".split()
COMPANIES = "Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Soylent Tyrell Cyberdyne Aperture " \
            "Wonka Gringotts Oscorp Nakatomi Pied-Piper Dunder Prestige Massive".split()
SUFFIX = ["Ltda", "S.A.", "GmbH", "Inc.", "Ltd", "LLC", "AG"]
STREETS = "Rua Augusta|Avenida Paulista|Main Street|Hauptstrasse|Rue de Rivoli|Baker Street|Elm Road|" \
          "Calle Mayor|Via Roma|Oak Avenue".split("|")
CITIES = "Sao Paulo|Berlin|Lisbon|London|Paris|Madrid|Rome|Porto|Munich|Boston".split("|")
ITEMS = "Widget|Gadget|Cable|Adapter|Paper A4|Toner|Coffee|Sandwich|Water|Keyboard|Mouse|Monitor|Chair|" \
        "Notebook|Pencil|Stapler|Consulting hours|Shipping|Licence|Support plan".split("|")
SHOPS = "MERCADO BOM PRECO|CAFE CENTRAL|SUPERMARKET 24|PADARIA REAL|FARMACIA VIDA|CORNER SHOP|BIO MARKT".split("|")
WORDS = ("the of and to in for is on that by this with you it not or be are from at as your all have new more an was "
         "we will home can us about if page my has search free but our one other do no information time they site "
         "he up may what which their news out use any there see only so his when contact here business who web "
         "also now help get pm view online first am been would how were me services some these click its like "
         "service than find price date back top people had list name just over state year day into email two "
         "health world next used go work last most products music buy data make them should product system post "
         "her city add policy number such please available copyright support message after best software then "
         "jan good video well where info rights public books high school through each links she review years "
         "order very privacy book items company read group need many user said does set under general research").split()
CURRENCIES = [("EUR", "EUR {}"), ("EUR", "{} EUR"), ("EUR", "\u20ac {}"), ("USD", "USD {}"), ("USD", "${}"),
              ("BRL", "R$ {}"), ("BRL", "BRL {}"), ("GBP", "\u00a3{}"), ("GBP", "GBP {}"), ("CHF", "CHF {}")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def list_fonts(which):
    fonts = []
    for path in sorted(glob.glob(os.path.join(FONT_ROOT, "**", "*.ttf"), recursive=True)):
        name = os.path.basename(path)
        if not name.startswith(LATIN_FONT_PREFIXES) or "Math" in name or "ExtraLight" in name:
            continue
        if name.startswith(("NotoSans-", "NotoSerif-", "NotoSansMono-")) and not any(
                w in name for w in ("-Regular", "-Bold.", "-Italic", "-Medium")):
            continue  # Noto ships many weights; a few per family are enough
        held = name.startswith(HELDOUT_FAMILIES)
        if which == "all" or (which == "heldout") == held:
            fonts.append(path)
    if not fonts:
        raise SystemExit("no fonts found under %s: install fonts-dejavu-core fonts-liberation2 fonts-freefont-ttf "
                         "fonts-noto-core" % FONT_ROOT)
    return fonts


class Pen:
    """Draws text with one font family at several sizes, ink colour varying slightly."""

    def __init__(self, rng, img, font_path):
        self.rng, self.img, self.draw, self.path = rng, img, ImageDraw.Draw(img), font_path
        self.cache = {}
        self.ink = rng.randint(0, 70)

    def font(self, size):
        size = max(8, int(size))
        if size not in self.cache:
            self.cache[size] = ImageFont.truetype(self.path, size)
        return self.cache[size]

    def text(self, xy, s, size, right=False):
        f = self.font(size)
        x, y = xy
        if right:
            x -= self.draw.textlength(s, font=f)
        self.draw.text((x, y), s, font=f, fill=(self.ink,) * 3)
        return y + int(size * 1.35)

    def width(self, s, size):
        return self.draw.textlength(s, font=self.font(size))


def rand_date(rng):
    start = datetime.date(2015, 1, 1)
    return start + datetime.timedelta(days=rng.randint(0, 365 * 11))


def show_date(rng, d):
    style = rng.randint(0, 4)
    if style == 0: return d.isoformat()
    if style == 1: return d.strftime("%d/%m/%Y")
    if style == 2: return d.strftime("%d.%m.%Y")
    if style == 3: return "%d %s %d" % (d.day, MONTHS[d.month - 1], d.year)
    return "%s %d, %d" % (MONTHS[d.month - 1], d.day, d.year)


def money(rng, lo, hi):
    cents = rng.randint(lo * 100, hi * 100)
    return "%d.%02d" % (cents // 100, cents % 100)


def show_money(rng, amount, currency_fmt):
    whole, cents = amount.split(".")
    if rng.random() < 0.5 and len(whole) > 3:
        whole = "{:,}".format(int(whole))
    return currency_fmt.format(whole + "." + cents)


def person(rng):
    return "%s %s %s" % (rng.choice(FIRST), rng.choice(LAST), rng.choice(LAST))


def company(rng):
    return "%s %s" % (rng.choice(COMPANIES), rng.choice(SUFFIX))


def address(rng):
    return ["%s %d" % (rng.choice(STREETS), rng.randint(1, 999)), "%05d %s" % (rng.randint(1000, 99999), rng.choice(CITIES))]


def sentence(rng, n):
    s = " ".join(rng.choice(WORDS) for _ in range(n))
    return s[0].upper() + s[1:] + "."


def cpf(rng, valid=True):
    digits = [rng.randint(0, 9) for _ in range(9)]
    for k in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(k, 1, -1)))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    if not valid:
        digits[10] = (digits[10] + rng.randint(1, 9)) % 10
    s = "".join(map(str, digits))
    return "%s.%s.%s-%s" % (s[0:3], s[3:6], s[6:9], s[9:11])


def page(rng, w, h):
    paper = rng.randint(232, 255)
    return Image.new("RGB", (w, h), (paper, paper, rng.randint(paper - 12, paper)))


def invoice(rng, font):
    w = rng.randint(1100, 1300); h = int(w * 1.414); img = page(rng, w, h); pen = Pen(rng, img, font)
    m = rng.randint(60, 110); s = rng.randint(20, 26)
    title = rng.choice(["INVOICE", "FATURA", "RECHNUNG", "Invoice"])
    number = rng.choice(["INV-", "FT ", "RE-", "No. ", "#"]) + "%d-%05d" % (rng.randint(2018, 2026), rng.randint(1, 99999))
    d = rand_date(rng); cur, fmt = rng.choice(CURRENCIES)
    y = pen.text((m, m), title, s * 2.2)
    seller = [company(rng)] + address(rng); buyer = [company(rng)] + address(rng)
    yy = y + s
    for line in seller: yy = pen.text((m, yy), line, s)
    yy2 = y + s
    for line in buyer: yy2 = pen.text((w // 2 + 40, yy2), line, s)
    y = max(yy, yy2) + s
    y = pen.text((m, y), rng.choice(["Invoice number: ", "Invoice No: ", "Number: "]) + number, s)
    y = pen.text((m, y), rng.choice(["Date: ", "Invoice date: ", "Issued: "]) + show_date(rng, d), s) + s
    draw = pen.draw; total_cents = 0
    draw.line((m, y, w - m, y), fill=(60, 60, 60), width=2); y += 8
    y = pen.text((m, y), "Description", s) and pen.text((w - m, y), "Amount", s, right=True)
    for _ in range(rng.randint(3, 9)):
        amount = money(rng, 5, 900); total_cents += int(amount.replace(".", ""))
        pen.text((m, y), "%d x %s" % (rng.randint(1, 9), rng.choice(ITEMS)), s)
        y = pen.text((w - m, y), amount, s, right=True)
    draw.line((m, y + 4, w - m, y + 4), fill=(60, 60, 60), width=2); y += 16
    total = "%d.%02d" % (total_cents // 100, total_cents % 100)
    pen.text((w - m, y), "TOTAL " + show_money(rng, total, fmt), s * 1.3, right=True)
    return img, {"invoice_number": number, "date": d.isoformat(), "total": total, "currency": cur}


def receipt(rng, font):
    w = rng.randint(420, 560); h = rng.randint(1100, 1600); img = page(rng, w, h); pen = Pen(rng, img, font)
    m = rng.randint(20, 40); s = rng.randint(18, 22)
    d = rand_date(rng); cur, fmt = rng.choice(CURRENCIES)
    y = pen.text((m, m), rng.choice(SHOPS), s * 1.3)
    for line in address(rng): y = pen.text((m, y), line, s * 0.9)
    y += s; total_cents = 0
    for _ in range(rng.randint(3, 12)):
        amount = money(rng, 1, 60); total_cents += int(amount.replace(".", ""))
        pen.text((m, y), rng.choice(ITEMS), s)
        y = pen.text((w - m, y), amount, s, right=True)
        if y > h - 260: break
    pen.draw.line((m, y + 4, w - m, y + 4), fill=(60, 60, 60), width=2); y += 14
    total = "%d.%02d" % (total_cents // 100, total_cents % 100)
    pen.text((m, y), "TOTAL", s * 1.3)
    y = pen.text((w - m, y), show_money(rng, total, fmt), s * 1.3, right=True) + s
    y = pen.text((m, y), "%s %02d:%02d" % (show_date(rng, d), rng.randint(6, 23), rng.randint(0, 59)), s)
    pen.text((m, y + s), rng.choice(["THANK YOU", "Obrigado!", "Danke", "Come again"]), s)
    return img, {"date": d.isoformat(), "total": total, "currency": cur}


def id_card(rng, font):
    w = rng.randint(860, 1000); h = int(w / 1.586)
    tint = tuple(rng.randint(170, 245) for _ in range(3))
    img = Image.new("RGB", (w, h), tint); pen = Pen(rng, img, font); s = rng.randint(24, 30)
    pen.draw.rectangle((4, 4, w - 5, h - 5), outline=(40, 40, 40), width=3)
    pen.text((30, 24), rng.choice(["REPUBLICA FEDERATIVA DO BRASIL", "IDENTITY CARD", "CARTEIRA DE IDENTIDADE"]), s * 1.1)
    px, py, pw = 30, int(h * 0.25), int(w * 0.24)
    pen.draw.rectangle((px, py, px + pw, py + int(pw * 1.3)), fill=(120, 120, 130))
    pen.draw.ellipse((px + pw * 0.25, py + pw * 0.2, px + pw * 0.75, py + pw * 0.75), fill=(210, 180, 160))
    name = person(rng); birth = rand_date(rng); year = rng.randint(1940, 2006)
    birth = birth.replace(year=year, day=min(birth.day, 28) if birth.month == 2 else birth.day)  # no 29 Feb
    valid = rng.random() < 0.8
    number = cpf(rng, valid)
    x = px + pw + 40; y = py
    y = pen.text((x, y), rng.choice(["NOME / NAME", "Name"]), s * 0.7); y = pen.text((x, y), name.upper(), s)
    y = pen.text((x, y + 8), rng.choice(["DATA DE NASCIMENTO", "Date of birth"]), s * 0.7)
    y = pen.text((x, y), show_date(rng, birth), s)
    y = pen.text((x, y + 8), "CPF", s * 0.7); pen.text((x, y), number, s)
    return img, {"name": name.upper(), "birth_date": birth.isoformat(), "id_number": number, "cpf_valid": valid}


def letter(rng, font):
    w = rng.randint(1100, 1300); h = int(w * 1.414); img = page(rng, w, h); pen = Pen(rng, img, font)
    m = rng.randint(100, 150); s = rng.randint(20, 25)
    sender = person(rng); d = rand_date(rng)
    y = m
    for line in [sender] + address(rng): y = pen.text((m, y), line, s)
    y += s
    for line in [person(rng)] + address(rng): y = pen.text((m, y), line, s)
    y = pen.text((w - m, y + s), show_date(rng, d), s, right=True) + s
    y = pen.text((m, y), rng.choice(["Dear", "Prezado", "Sehr geehrte", "Dear Sir or Madam"]) + " " +
                 rng.choice(LAST) + ",", s) + s // 2
    for _ in range(rng.randint(2, 5)):
        para = sentence(rng, rng.randint(30, 70)); line = ""
        for word in para.split():
            if pen.width(line + " " + word, s) > w - 2 * m:
                y = pen.text((m, y), line, s); line = word
            else:
                line = (line + " " + word).strip()
        y = pen.text((m, y), line, s) + s // 2
        if y > h - 6 * s: break
    y = pen.text((m, y + s), rng.choice(["Sincerely,", "Kind regards,", "Atenciosamente,"]), s)
    pen.text((m, y + s), sender, s)
    return img, {"date": d.isoformat(), "sender": sender}


def form(rng, font):
    w = rng.randint(1100, 1300); h = int(w * 1.414); img = page(rng, w, h); pen = Pen(rng, img, font)
    m = rng.randint(60, 100); s = rng.randint(20, 24); draw = pen.draw
    y = pen.text((m, m), rng.choice(["APPLICATION FORM", "REGISTRATION FORM", "FORMULARIO", "ANTRAG"]), s * 1.6)
    fields = {}
    if rng.random() < 0.8:
        form_id = "%s-%04d" % (rng.choice(["F", "FORM", "AF", "RF"]), rng.randint(1, 9999))
        y = pen.text((m, y), "Form ID: " + form_id, s)
        fields["form_id"] = form_id
    y += s
    labels = ["Full name", "Address", "City", "Phone", "E-mail", "Date of birth", "Occupation", "Signature",
              "Employer", "Nationality", "Passport", "Reference"]
    rng.shuffle(labels)
    for label in labels[: rng.randint(6, 10)]:
        if rng.random() < 0.3:
            for k, opt in enumerate(rng.sample(["Yes", "No", "Maybe", "Other", "N/A"], 3)):
                x = m + k * 260
                draw.rectangle((x, y, x + 24, y + 24), outline=(40, 40, 40), width=2)
                if rng.random() < 0.4:
                    draw.line((x + 4, y + 12, x + 10, y + 20), fill=(20, 20, 20), width=3)
                    draw.line((x + 10, y + 20, x + 22, y + 3), fill=(20, 20, 20), width=3)
                pen.text((x + 34, y), opt, s)
            y += int(s * 2.4)
        else:
            pen.text((m, y + 4), label, s)
            draw.rectangle((m + 260, y - 4, w - m, y + int(s * 1.6)), outline=(40, 40, 40), width=2)
            y += int(s * 2.6)
        if y > h - 4 * s: break
    return img, fields


RENDER = {"invoice": invoice, "receipt": receipt, "id_card": id_card, "letter": letter, "form": form}


def degrade(rng, img, rotation, clean):
    if not clean:
        img = img.rotate(rng.uniform(-2.5, 2.5), resample=Image.BICUBIC, expand=True, fillcolor=(235, 235, 235))
        if rng.random() < 0.4:
            img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
        if rng.random() < 0.5:
            w, h = img.size; scale = rng.uniform(0.6, 1.0)
            img = img.resize((int(w * scale), int(h * scale)), Image.BILINEAR)
    if rotation:
        img = img.rotate(rotation, expand=True)  # counter-clockwise degrees
    return img


def render(rng, doc_type, font, rotation=0, clean=False):
    img, fields = RENDER[doc_type](rng, font)
    return degrade(rng, img, rotation, clean), fields


def encode_jpeg(rng, img, clean):
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=92 if clean else rng.randint(55, 92))
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fonts", choices=["train", "heldout", "all"], default="train")
    ap.add_argument("--rotate", action="store_true", help="rotate a quarter of the pages by 90, 180 or 270 degrees")
    ap.add_argument("--clean", action="store_true", help="no skew, blur or heavy JPEG")
    a = ap.parse_args()
    rng = random.Random(a.seed); fonts = list_fonts(a.fonts)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "truth.jsonl"), "w") as truth:
        for i in range(a.count):
            doc_type = DOC_TYPES[i % len(DOC_TYPES)]
            font = rng.choice(fonts)
            rotation = rng.choice([90, 180, 270]) if a.rotate and rng.random() < 0.75 else 0
            img, fields = render(rng, doc_type, font, rotation, a.clean)
            name = "%06d.jpg" % i
            with open(os.path.join(a.out, name), "wb") as f:
                f.write(encode_jpeg(rng, img, a.clean))
            truth.write(json.dumps({"file": name, "doc_type": doc_type, "fields": fields, "rotation": rotation,
                                    "font": os.path.basename(font)}) + "\n")
    print("wrote %d documents to %s (%d fonts)" % (a.count, a.out, len(fonts)))


if __name__ == "__main__":
    main()
