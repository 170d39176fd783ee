"""Renders the bundled sample documents (samples/) and their truth.json, deterministically.

    /usr/bin/python3 training/make_samples.py
"""
import json, os, random, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_documents as sd
out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples")
fonts = sd.list_fonts("train")
truth = []
for name, doc_type, rotation, seed in [("invoice-upright", "invoice", 0, 11), ("id-card-rotated-90", "id_card", 90, 12),
                                       ("letter-rotated-180", "letter", 180, 13), ("receipt-upright", "receipt", 0, 14),
                                       ("form-rotated-270", "form", 270, 15)]:
    rng = random.Random(seed)
    font = [f for f in fonts if "DejaVuSans.ttf" in f or "LiberationSans-Regular" in f][seed % 2]
    img, fields = sd.render(rng, doc_type, font, rotation, clean=True)
    img.save("%s/%s.jpg" % (out, name), quality=90)
    truth.append({"file": name + ".jpg", "doc_type": doc_type, "fields": fields, "rotation": rotation, "font": font.split("/")[-1]})
with open(out + "/truth.json", "w") as f:
    json.dump(truth, f, indent=1)
print(json.dumps(truth, indent=1))

# A two-page PDF (as a scanner makes them: one image per page, 200 dpi): an invoice, then its cover letter
# turned upside down. `infermesh request process samples/invoice-and-letter.pdf` reads both.
pages, pdf_truth = [], []
for doc_type, rotation, seed in [("invoice", 0, 21), ("letter", 180, 22)]:
    rng = random.Random(seed)
    img, fields = sd.render(rng, doc_type, [f for f in fonts if "LiberationSerif-Regular" in f][0], rotation, clean=True)
    pages.append(img.convert("RGB"))
    pdf_truth.append({"doc_type": doc_type, "fields": fields, "rotation": rotation})
pages[0].save(out + "/invoice-and-letter.pdf", save_all=True, append_images=pages[1:], resolution=200.0)
truth.append({"file": "invoice-and-letter.pdf", "pages": pdf_truth})
with open(out + "/truth.json", "w") as f:
    json.dump(truth, f, indent=1)
