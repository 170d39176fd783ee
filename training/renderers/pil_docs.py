"""The PIL renderer: synthetic_documents.py's pages (PIL and Debian's TrueType fonts, one template per type, its
own English-leaning labels), put through the same damage as the other renderers' pages. Its contents are its
own (content.py's are not used), its truth the same fields.

draw(rng, doc_type, fonts) -> (RGB numpy page, fields).
"""
import numpy as np

import degrade
import synthetic_documents as sd


def draw(rng, doc_type, fonts, clean=False):
    img, fields = sd.RENDER[doc_type](rng, rng.choice(fonts))
    img = np.asarray(img.convert("RGB"))
    if doc_type == "id_card" and (not clean or rng.random() < 0.5):
        img = degrade.card_photo(rng, img)
    return img, fields
