#!/usr/bin/python3
"""Trains the document classifier (invoice, receipt, id_card, letter, form) that infermesh serves, on pages
rendered by synthetic_documents.py in the training fonts, and exports TorchScript + labels + a model card.

    /usr/bin/python3 training/train_document_classifier.py --out model-repository/document-classifier

Preprocessing is exactly the node's (node_input.py with the model's `input:` entry): JPEG bytes -> OpenCV decode
(with `decode: fast`) -> RGB -> bilinear resize to SIZE x SIZE -> /255 -> ImageNet mean/std -> NCHW float32.
The net is convnet.ConvNet with DOCUMENT_WIDTHS.
Pages are upright (the node corrects orientation before classifying) with the generator's skew and noise.
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

SIZE = 160
LABELS = sd.DOC_TYPES
INPUT = node_input.square(SIZE, decode="fast")  # as cluster-config/single-node.yaml feeds doc-classifier


def dataset(seed, per_class, fonts_split):
    rng = random.Random(seed)
    fonts = sd.list_fonts(fonts_split)
    xs, ys = [], []
    for i in range(per_class * len(LABELS)):
        y = i % len(LABELS)
        img, _ = sd.render(rng, LABELS[y], rng.choice(fonts), 0, clean=False)
        xs.append(node_input.preprocess(sd.encode_jpeg(rng, img, False), INPUT))
        ys.append(y)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(convnet.MODEL_REPOSITORY, "document-classifier"))
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--per-class", type=int, default=500)
    ap.add_argument("--heldout-per-class", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=12)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    started = time.time()
    x, y = dataset(a.seed, a.per_class, "train")
    xt, yt = dataset(a.seed + 1, a.heldout_per_class, "heldout")
    print("rendered %d training and %d held-out pages in %.0f s" % (len(x), len(xt), time.time() - started), flush=True)
    net = convnet.ConvNet(convnet.DOCUMENT_WIDTHS, len(LABELS), dropout=0.2)

    def held_out_accuracy(net):
        with torch.no_grad():
            return (net(xt).argmax(1) == yt).float().mean().item()
    acc = convnet.fit(net, x, y, a.epochs, lambda batch: batch, held_out_accuracy, "held-out (unseen fonts) accuracy", started)
    card = {"labels": LABELS, "input": [3, SIZE, SIZE], "seed": a.seed, "train_pages": len(x),
            "train_fonts": len(sd.list_fonts("train")), "heldout_fonts": len(sd.list_fonts("heldout")),
            "epochs": a.epochs, "heldout_accuracy_upright": round(acc, 4)}
    convnet.export(net, a.out, SIZE, LABELS, card, started)


if __name__ == "__main__":
    main()
