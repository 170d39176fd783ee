"""A PDF's first page as an RGB numpy array, rasterised by poppler's pdftoppm through pipes (no files)."""
import subprocess

import cv2
import numpy as np


def rasterise(pdf, dpi):
    """pdf: the bytes of a PDF; dpi: pdftoppm's -r. Raises if pdftoppm fails (poppler-utils missing, bad PDF)."""
    done = subprocess.run(["pdftoppm", "-r", str(int(dpi)), "-singlefile", "-f", "1", "-l", "1", "-"],
                          input=pdf, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    img = cv2.imdecode(np.frombuffer(done.stdout, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError("pdftoppm gave no image: " + done.stderr.decode(errors="replace"))
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
