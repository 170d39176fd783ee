#!/usr/bin/python3
"""Trains the document classifier (invoice, receipt, id_card, letter, form) that infermesh serves, on pages
rendered by synthetic_documents.py in the training fonts, and exports TorchScript + labels + a model card.

    /usr/bin/python3 training/train_document_classifier.py --out model-repository/document-classifier

Preprocessing is exactly the node's (node_input.py with the model's `input:` entry): JPEG bytes -> OpenCV decode
(with `decode: fast`) -> RGB -> bilinear resize to SIZE x SIZE -> /255 -> ImageNet mean/std -> NCHW float32.
The net is convnet.ConvNet with DOCUMENT_WIDTHS.
Pages are upright (the node corrects orientation before classifying) with the generator's skew and noise.

Several renderers (issue 15): --docs DIR... adds the pages of directories written by render_documents.py
(turned upright by their truth's rotation), --heldout-docs DIR measures on another renderer's pages, --init
starts from a bundled model's weights. The leave-one-renderer-out command is in training/README.md.
"""
import argparse
import json
import os
import random
import time

import numpy as np
import torch

import cv2

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


def from_docs(dirs, limit=None):
    """The pages of render_documents.py directories, turned upright by their truth, as the node sees them."""
    xs, ys = [], []
    for d in dirs:
        with open(os.path.join(d, "truth.jsonl")) as f:
            rows = [json.loads(line) for line in f][:limit]
        for r in rows:
            with open(os.path.join(d, r["file"]), "rb") as f:
                bgr = node_input.decode(f.read(), INPUT)
            turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
            if r["rotation"]:
                bgr = cv2.rotate(bgr, turn[r["rotation"]])
            xs.append(node_input.normalise(bgr, INPUT))
            ys.append(LABELS.index(r["doc_type"]))
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(convnet.MODEL_REPOSITORY, "document-classifier"))
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--per-class", type=int, default=500)
    ap.add_argument("--heldout-per-class", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--docs", nargs="*", default=[], help="render_documents.py directories to train on as well")
    ap.add_argument("--heldout-docs", help="a held-out renderer's directory: its accuracy is printed per epoch")
    ap.add_argument("--init", help="a TorchScript model.pt of this architecture to start from")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    started = time.time()
    x, y = dataset(a.seed, a.per_class, "train")
    if a.docs:
        xd, yd = from_docs(a.docs)
        x, y = torch.cat([x, xd]), torch.cat([y, yd])
    xt, yt = dataset(a.seed + 1, a.heldout_per_class, "heldout")
    xh, yh = from_docs([a.heldout_docs]) if a.heldout_docs else (None, None)
    print("rendered %d training and %d held-out pages in %.0f s" % (len(x), len(xt), time.time() - started), flush=True)
    net = convnet.ConvNet(convnet.DOCUMENT_WIDTHS, len(LABELS), dropout=0.2)
    if a.init:
        net.load_state_dict(torch.jit.load(a.init).state_dict())
    renderer_acc = []

    def accuracy(net, xs, ys):
        with torch.no_grad():
            return sum((net(xs[i:i + 256]).argmax(1) == ys[i:i + 256]).sum().item() for i in range(0, len(xs), 256)) / len(xs)

    def held_out_accuracy(net):
        if xh is not None:
            renderer_acc.append(accuracy(net, xh, yh))
            print("  held-out renderer (%s) accuracy %.4f" % (a.heldout_docs, renderer_acc[-1]), flush=True)
        return accuracy(net, xt, yt)
    acc = convnet.fit(net, x, y, a.epochs, lambda batch: batch, held_out_accuracy, "held-out (unseen fonts) accuracy", started)
    card = {"labels": LABELS, "input": [3, SIZE, SIZE], "seed": a.seed, "train_pages": len(x),
            "train_fonts": len(sd.list_fonts("train")), "heldout_fonts": len(sd.list_fonts("heldout")),
            "epochs": a.epochs, "heldout_accuracy_upright": round(acc, 4),
            "rendered_docs": [os.path.basename(d.rstrip("/")) for d in a.docs], "init": a.init and os.path.relpath(a.init, convnet.REPO)}
    if renderer_acc:
        card["heldout_renderer_docs"] = os.path.basename(a.heldout_docs.rstrip("/"))
        card["heldout_renderer_accuracy_upright"] = round(renderer_acc[-1], 4)
    convnet.export(net, a.out, SIZE, LABELS, card, started)


if __name__ == "__main__":
    main()
