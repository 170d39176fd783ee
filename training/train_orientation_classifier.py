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

Several renderers (issue 15): --docs DIR... adds the pages of directories written by render_documents.py, each
turned upright by its truth and then seen in all four orientations (half of them cropped, as above);
--heldout-docs DIR measures every epoch on another renderer's pages as they were sent (their truth's turn);
--init starts from a bundled model's weights. training/leave_one_renderer_out.sh --model orientation runs it.
"""
import argparse
import json
import os
import random
import time

import cv2
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


TURN_CCW = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
UNDO_CCW = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def node_uint8(bgr, spec):
    """A decoded BGR page as the model's uint8 CHW input before mean/std: the node's colour order and resize."""
    img = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (spec["width"], spec["height"]),
                     interpolation=node_input.INTERPOLATION[spec.get("resize", "linear")])
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def from_docs(dirs, spec, seed, crop_share, all_turns):
    """The pages of render_documents.py directories as uint8 images and labels. all_turns: each page upright
    (its truth's turn undone), cropped with probability crop_share, then in all four orientations; else each
    page as it was sent, labelled by its truth."""
    rng = random.Random(seed)
    xs, ys = [], []
    for d in dirs:
        with open(os.path.join(d, "truth.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        for r in rows:
            with open(os.path.join(d, r["file"]), "rb") as f:
                bgr = node_input.decode(f.read(), spec)
            if not all_turns:
                xs.append(node_uint8(bgr, spec))
                ys.append(LABELS.index(str((360 - r["rotation"]) % 360)))
                continue
            if r["rotation"]:
                bgr = cv2.rotate(bgr, UNDO_CCW[r["rotation"]])
            if rng.random() < crop_share:
                h, w = bgr.shape[:2]
                ch, cw = int(h * rng.uniform(0.45, 0.9)), int(w * rng.uniform(0.45, 0.9))
                y0, x0 = rng.randint(0, h - ch), rng.randint(0, w - cw)
                bgr = bgr[y0:y0 + ch, x0:x0 + cw]
            for ccw in (0, 90, 180, 270):
                xs.append(node_uint8(cv2.rotate(bgr, TURN_CCW[ccw]) if ccw else bgr, spec))
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
    ap.add_argument("--docs", nargs="*", default=[], help="render_documents.py directories to train on as well")
    ap.add_argument("--heldout-docs", help="a held-out renderer's directory: its accuracy is printed per epoch")
    ap.add_argument("--init", help="a TorchScript model.pt of this architecture to start from")
    a = ap.parse_args()
    spec = node_input.square(a.size, decode="fast")  # as cluster-config/single-node.yaml feeds doc-orientation
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    started = time.time()
    x, y = dataset(a.seed, a.pages, "train", 0.5, spec)
    if a.docs:
        xd, yd = from_docs(a.docs, spec, a.seed + 2, 0.5, all_turns=True)
        x, y = torch.cat([x, xd]), torch.cat([y, yd])
    xt, yt = dataset(a.seed + 1, a.heldout_pages, "heldout", 0.0, spec)
    xh, yh = from_docs([a.heldout_docs], spec, 0, 0.0, all_turns=False) if a.heldout_docs else (None, None)
    print("rendered %d training and %d held-out images in %.0f s" % (len(x), len(xt), time.time() - started),
          flush=True)
    net = convnet.ConvNet(convnet.DOCUMENT_WIDTHS, len(LABELS), dropout=0.2)
    if a.init:
        net.load_state_dict(torch.jit.load(a.init).state_dict())
    renderer_acc = []

    def held_out_accuracy(net):
        if xh is not None:
            renderer_acc.append(accuracy(net, xh, yh))
            print("  held-out renderer (%s) pages as sent: accuracy %.4f" % (a.heldout_docs, renderer_acc[-1]), flush=True)
        return accuracy(net, xt, yt)
    acc = convnet.fit(net, x, y, a.epochs, normalise, held_out_accuracy,
                      "held-out (unseen fonts, 4 orientations) accuracy", started)
    card = {"labels": LABELS, "meaning": "degrees the page as sent is turned clockwise", "input": [3, a.size, a.size],
            "seed": a.seed, "train_pages": a.pages, "train_images": len(x), "crop_share": 0.5,
            "train_fonts": len(sd.list_fonts("train")), "heldout_fonts": len(sd.list_fonts("heldout")),
            "epochs": a.epochs, "heldout_accuracy_4way": round(acc, 4), "heldout_images": len(xt),
            "rendered_docs": [os.path.basename(d.rstrip("/")) for d in a.docs],
            "init": a.init and os.path.relpath(a.init, convnet.REPO)}
    if renderer_acc:
        card["heldout_renderer_docs"] = os.path.basename(a.heldout_docs.rstrip("/"))
        card["heldout_renderer_accuracy_as_sent"] = round(renderer_acc[-1], 4)
    convnet.export(net, a.out, a.size, LABELS, card, started)


if __name__ == "__main__":
    main()
