#!/usr/bin/python3
"""Trains the document classifier (invoice, receipt, id_card, letter, form) that infermesh serves, on pages
rendered by synthetic_documents.py in the training fonts, and exports TorchScript + labels + a model card.

    /usr/bin/python3 training/train_document_classifier.py --out model-repository/document-classifier

Preprocessing is exactly the node's (`input` of the model's config entry): JPEG bytes -> OpenCV decode (with
`decode: fast`) -> RGB -> bilinear resize to SIZE x SIZE -> /255 -> ImageNet mean/std -> NCHW float32.
Pages are upright (the node corrects orientation before classifying) with the generator's skew and noise.
"""
import argparse
import io
import json
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_documents as sd  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SIZE = 160
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
LABELS = sd.DOC_TYPES


def node_preprocess(jpeg):
    """The node's preprocessing with `decode: fast` (see models/image_preprocess.cpp)."""
    data = np.frombuffer(jpeg, dtype=np.uint8)
    full = cv2.imdecode(data, cv2.IMREAD_COLOR)
    h, w = full.shape[:2]
    bgr = full
    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if w // factor >= SIZE and h // factor >= SIZE:
            bgr = cv2.imdecode(data, flag)
            break
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    small = cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    x = (small.astype(np.float32) / np.float32(255.0) - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


class DocNet(nn.Module):
    """Six stride-2 conv blocks and a linear head: small enough for a CPU node, enough for page layout."""

    def __init__(self, classes):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
        self.features = nn.Sequential(block(3, 24), block(24, 48), block(48, 64), block(64, 96), block(96, 128),
                                      block(128, 128))
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(128, classes))

    def forward(self, x):
        x = self.features(x).mean(dim=(2, 3))
        return torch.softmax(self.head(x), dim=1)


def dataset(seed, per_class, fonts_split):
    rng = random.Random(seed)
    fonts = sd.list_fonts(fonts_split)
    xs, ys = [], []
    for i in range(per_class * len(LABELS)):
        y = i % len(LABELS)
        img, _ = sd.render(rng, LABELS[y], rng.choice(fonts), 0, clean=False)
        xs.append(node_preprocess(sd.encode_jpeg(rng, img, False)))
        ys.append(y)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "model-repository", "document-classifier"))
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
    net = DocNet(len(LABELS))

    def held_out_accuracy(net):
        with torch.no_grad():
            return (net(xt).argmax(1) == yt).float().mean().item()
    acc = fit(net, x, y, a.epochs, lambda batch: batch, held_out_accuracy, "held-out (unseen fonts) accuracy", started)
    card = {"labels": LABELS, "input": [3, SIZE, SIZE], "seed": a.seed, "train_pages": len(x),
            "train_fonts": len(sd.list_fonts("train")), "heldout_fonts": len(sd.list_fonts("heldout")),
            "epochs": a.epochs, "heldout_accuracy_upright": round(acc, 4)}
    export(net, a.out, SIZE, LABELS, card, started)


def fit(net, x, y, epochs, prepare, evaluate, measure, started):
    """AdamW with a one-cycle schedule, batches of 64 of prepare(x[batch]); prints evaluate(net) per epoch and
    returns the last value."""
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(x) + 63) // 64))
    nll = nn.NLLLoss()
    score = 0.0
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            loss = nll(torch.log(net(prepare(x[idx])) + 1e-9), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        score = evaluate(net)
        print("epoch %d loss %.4f %s %.4f (%.0f s)" % (epoch, loss.item(), measure, score, time.time() - started),
              flush=True)
    return score


def export(net, out, size, labels, card, started):
    """Writes out/model.pt (traced TorchScript), out/labels.txt and out/card.json (`card` plus size, parameter
    count, CPU latency at batch 1 and training time), and prints the card."""
    os.makedirs(out, exist_ok=True)
    net.eval()
    example = torch.zeros(1, 3, size, size)
    scripted = torch.jit.trace(net, example)
    path = os.path.join(out, "model.pt")
    scripted.save(path)
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")
    with torch.no_grad():
        t0 = time.time()
        for _ in range(20):
            scripted(example)
        latency_ms = (time.time() - t0) / 20 * 1000
    card = dict(card, parameters=sum(p.numel() for p in net.parameters()), size_bytes=os.path.getsize(path),
                cpu_latency_ms_batch1_2threads=round(latency_ms, 2), train_seconds=round(time.time() - started))
    with open(os.path.join(out, "card.json"), "w") as f:
        json.dump(card, f, indent=2)
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
