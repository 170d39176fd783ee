#!/usr/bin/python3
"""Trains the page-orientation classifier infermesh runs before classification and OCR: how far the page as
sent is turned clockwise (0, 90, 180 or 270 degrees: the wire's `rotation.degrees`), from pages rendered by synthetic_documents.py
in the training fonts. Exports TorchScript + labels + a model card.

    /usr/bin/python3 training/train_orientation_classifier.py --out model-repository/orientation-classifier

A page rendered upright and then turned counter-clockwise by C degrees is turned clockwise by (360 - C) % 360.
Every rendered page is seen in all four orientations. Half of the training pages are cropped to a random
part of the page first, so the net learns the direction and shape of text lines rather than where a given
generator puts its header. Preprocessing is the node's (see train_document_classifier.node_preprocess).
"""
import argparse
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_documents as sd  # noqa: E402
import train_document_classifier as tdc  # noqa: E402

REPO = tdc.REPO

LABELS = ["0", "90", "180", "270"]
MEAN = torch.tensor(tdc.MEAN).view(1, 3, 1, 1)
STD = torch.tensor(tdc.STD).view(1, 3, 1, 1)


def crop(rng, img):
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.45, 0.9)), int(h * rng.uniform(0.45, 0.9))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


def dataset(seed, pages, fonts_split, crop_share):
    """uint8 NCHW images (normalised per batch, to keep 4 x pages images in memory) and labels."""
    rng = random.Random(seed)
    fonts = sd.list_fonts(fonts_split)
    xs, ys = [], []
    for i in range(pages):
        doc_type = sd.DOC_TYPES[i % len(sd.DOC_TYPES)]
        img, _ = sd.render(rng, doc_type, rng.choice(fonts), 0, clean=False)
        if rng.random() < crop_share:
            img = crop(rng, img)
        for ccw in (0, 90, 180, 270):
            turned = img.rotate(ccw, expand=True) if ccw else img
            x = tdc.node_preprocess(sd.encode_jpeg(rng, turned, False))
            xs.append(np.clip(np.round((x * tdc.STD[:, None, None] + tdc.MEAN[:, None, None]) * 255), 0, 255)
                      .astype(np.uint8))
            ys.append(LABELS.index(str((360 - ccw) % 360)))
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def normalise(x):
    return (x.float() / 255.0 - MEAN) / STD


def accuracy(net, x, y):
    net.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(x), 256):
            right += (net(normalise(x[i:i + 256])).argmax(1) == y[i:i + 256]).sum().item()
    return right / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "model-repository", "orientation-classifier"))
    ap.add_argument("--seed", type=int, default=3026)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--pages", type=int, default=1500)
    ap.add_argument("--heldout-pages", type=int, default=250)
    ap.add_argument("--epochs", type=int, default=14)
    a = ap.parse_args()
    tdc.SIZE = a.size
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    started = time.time()
    x, y = dataset(a.seed, a.pages, "train", 0.5)
    xt, yt = dataset(a.seed + 1, a.heldout_pages, "heldout", 0.0)
    print("rendered %d training and %d held-out images in %.0f s" % (len(x), len(xt), time.time() - started),
          flush=True)
    net = tdc.DocNet(len(LABELS))
    acc = tdc.fit(net, x, y, a.epochs, normalise, lambda net: accuracy(net, xt, yt),
                  "held-out (unseen fonts, 4 orientations) accuracy", started)
    card = {"labels": LABELS, "meaning": "degrees the page as sent is turned clockwise", "input": [3, a.size, a.size],
            "seed": a.seed, "train_pages": a.pages, "train_images": len(x), "crop_share": 0.5,
            "train_fonts": len(sd.list_fonts("train")), "heldout_fonts": len(sd.list_fonts("heldout")),
            "epochs": a.epochs, "heldout_accuracy_4way": round(acc, 4), "heldout_images": len(xt)}
    tdc.export(net, a.out, a.size, LABELS, card, started)


if __name__ == "__main__":
    main()
