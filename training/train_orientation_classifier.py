#!/usr/bin/python3
"""Trains the page-orientation classifier infermesh runs before classification and OCR: how far the page as
sent is turned clockwise (0, 90, 180 or 270 degrees: the wire's `rotation.degrees`), from pages rendered by synthetic_documents.py
in the training fonts. Exports TorchScript + labels + a model card.

    /usr/bin/python3 training/train_orientation_classifier.py --out model-repository/orientation-classifier

A page rendered upright and then turned counter-clockwise by C degrees is turned clockwise by (360 - C) % 360.
Every rendered page is seen in all four orientations. Half of the training pages are cropped to a random
part of the page first, so the net learns the direction and shape of text lines rather than where a given
generator puts its header. Preprocessing is the node's (node_input.py); the net is the document classifier's
(convnet.ConvNet with DOCUMENT_WIDTHS).
"""
import argparse
import os
import random
import time

import numpy as np
import torch

import convnet
import node_input
import synthetic_documents as sd

LABELS = ["0", "90", "180", "270"]
MEAN = torch.tensor(node_input.MEAN).view(1, 3, 1, 1)
STD = torch.tensor(node_input.STD).view(1, 3, 1, 1)


def crop(rng, img):
    w, h = img.size
    cw, ch = int(w * rng.uniform(0.45, 0.9)), int(h * rng.uniform(0.45, 0.9))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


def dataset(seed, pages, fonts_split, crop_share, spec):
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
            x = node_input.preprocess(sd.encode_jpeg(rng, turned, False), spec)
            xs.append(np.clip(np.round((x * node_input.STD[:, None, None] + node_input.MEAN[:, None, None]) * 255), 0, 255)
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
    ap.add_argument("--out", default=os.path.join(convnet.MODEL_REPOSITORY, "orientation-classifier"))
    ap.add_argument("--seed", type=int, default=3026)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--pages", type=int, default=1500)
    ap.add_argument("--heldout-pages", type=int, default=250)
    ap.add_argument("--epochs", type=int, default=14)
    a = ap.parse_args()
    spec = node_input.square(a.size, decode="fast")  # as cluster-config/single-node.yaml feeds doc-orientation
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    started = time.time()
    x, y = dataset(a.seed, a.pages, "train", 0.5, spec)
    xt, yt = dataset(a.seed + 1, a.heldout_pages, "heldout", 0.0, spec)
    print("rendered %d training and %d held-out images in %.0f s" % (len(x), len(xt), time.time() - started),
          flush=True)
    net = convnet.ConvNet(convnet.DOCUMENT_WIDTHS, len(LABELS), dropout=0.2)
    acc = convnet.fit(net, x, y, a.epochs, normalise, lambda net: accuracy(net, xt, yt),
                  "held-out (unseen fonts, 4 orientations) accuracy", started)
    card = {"labels": LABELS, "meaning": "degrees the page as sent is turned clockwise", "input": [3, a.size, a.size],
            "seed": a.seed, "train_pages": a.pages, "train_images": len(x), "crop_share": 0.5,
            "train_fonts": len(sd.list_fonts("train")), "heldout_fonts": len(sd.list_fonts("heldout")),
            "epochs": a.epochs, "heldout_accuracy_4way": round(acc, 4), "heldout_images": len(xt)}
    convnet.export(net, a.out, a.size, LABELS, card, started)


if __name__ == "__main__":
    main()
