#!/usr/bin/python3
"""Labelled documents from several rendering programs, one CLI for all of them:

    /usr/bin/python3 training/render_documents.py --renderer reportlab --out DIR --count 1000 --seed 1 [--rotate] [--clean]

renderers (one file each under training/renderers/):
  pil        synthetic_documents.py's PIL pages (Debian TrueType fonts, one template per type)
  reportlab  ReportLab's PDF canvas and base-14 fonts, three templates per type, rasterised by pdftoppm
  groff      troff/tbl source typeset by groff -Tpdf (URW base-35 fonts), three templates per type, pdftoppm
Every renderer draws the five types (invoice, receipt, id_card, letter, form; reportlab and groff with English,
Portuguese or German labels from renderers/content.py) and puts each page through renderers/degrade.py:
phone-photo perspective, shadows and uneven light, fold lines, stamps, pen marks, crops, low resolution, blur,
noise, JPEG; ID cards are photographed small on a background at an angle. --rotate turns three quarters of the
pages by 90/180/270 degrees; --clean keeps only mild damage (for measuring the extraction rules alone).
Writes DIR/000000.jpg ... and DIR/truth.jsonl ({"file", "doc_type", "fields", "rotation", "renderer",
"template" font or language}), what `infermesh-evaluate --docs DIR` reads. Deterministic by seed.
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "renderers"))
sys.path.insert(0, HERE)

import content  # noqa: E402
import degrade  # noqa: E402
import synthetic_documents as sd  # noqa: E402

RENDERERS = ["pil", "reportlab", "groff"]


def render(rng, renderer, doc_type, clean=False, fonts=None):
    """(RGB numpy page, fields, language or font) of one document, before rotation and JPEG."""
    if renderer == "pil":
        import pil_docs
        font_list = fonts or sd.list_fonts("all")
        img, fields = pil_docs.draw(rng, doc_type, font_list, clean)
        note = "pil"
    else:
        module = __import__(renderer + "_docs")
        c = content.content(rng, doc_type)
        img, fields, note = module.draw(rng, doc_type, c, clean), c["fields"], c["lang"]
    return degrade.degrade(rng, img, doc_type, clean), fields, note


def document(rng, renderer, doc_type, rotate=False, clean=False, fonts=None):
    """JPEG bytes, fields, ccw rotation and a note (language) of one document."""
    rotation = rng.choice([90, 180, 270]) if rotate and rng.random() < 0.75 else 0
    img, fields, note = render(rng, renderer, doc_type, clean, fonts)
    return degrade.encode_jpeg(rng, degrade.rotate(img, rotation), clean), fields, rotation, note


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--renderer", choices=RENDERERS, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rotate", action="store_true", help="turn three quarters of the pages by 90, 180 or 270 degrees")
    ap.add_argument("--clean", action="store_true", help="only mild damage")
    a = ap.parse_args()
    rng = random.Random("%s/%d" % (a.renderer, a.seed))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "truth.jsonl"), "w") as truth:
        for i in range(a.count):
            doc_type = sd.DOC_TYPES[i % len(sd.DOC_TYPES)]
            jpeg, fields, rotation, note = document(rng, a.renderer, doc_type, a.rotate, a.clean)
            name = "%06d.jpg" % i
            with open(os.path.join(a.out, name), "wb") as f:
                f.write(jpeg)
            truth.write(json.dumps({"file": name, "doc_type": doc_type, "fields": fields, "rotation": rotation,
                                    "renderer": a.renderer, "lang": note}) + "\n")
    print("wrote %d %s documents to %s" % (a.count, a.renderer, a.out))


if __name__ == "__main__":
    main()
