#!/usr/bin/python3
"""Trains and exports the sample document-layout classifier that infermesh serves out of the box.

It renders synthetic pages of five layouts (invoice, receipt, id_card, letter, form) with OpenCV, trains a
small CNN on them with python3-torch, and writes a TorchScript module whose output is class probabilities
(softmax is part of the module), its label list, and held-out sample images (samples/layouts/). Deterministic by --seed.

    /usr/bin/python3 training/make_sample_classifier.py --out model-repository/sample-classifier

The preprocessing the module expects is the one in cluster-config/single-node.yaml: decode to RGB, resize to
128x128 (bilinear), scale to [0,1], normalise with ImageNet mean/std, NCHW float32.
"""
import argparse
import json
import os
import random

import cv2
import numpy as np
import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LABELS = ["invoice", "receipt", "id_card", "letter", "form"]
SIZE = 128
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
FONTS = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
         cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN]
WORDS = ("total date amount name address invoice number qty price tax item shop thank you dear sir "
         "regards form check yes no signature birth card id street city").split()


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def text(img, rng, s, x, y, scale, thick=1):
    ink = rng.randint(0, 90)
    cv2.putText(img, s, (int(x), int(y)), rng.choice(FONTS), scale, (ink, ink, ink), thick, cv2.LINE_AA)


def page(rng, w, h):
    paper = rng.randint(215, 255)
    return np.full((h, w, 3), paper, dtype=np.uint8)


def invoice(rng):
    w = rng.randint(600, 900); h = int(w * rng.uniform(1.3, 1.45)); img = page(rng, w, h); m = rng.randint(30, 70)
    text(img, rng, rng.choice(["INVOICE", "FATURA", "RECHNUNG"]), m, m + 40, rng.uniform(1.2, 1.8), 2)
    for i in range(4):
        text(img, rng, words(rng, 3), m, m + 90 + 22 * i, 0.5)
        text(img, rng, words(rng, 3), w // 2 + 20, m + 90 + 22 * i, 0.5)
    top = m + 200; rows = rng.randint(4, 12); rh = rng.randint(24, 34)
    cv2.rectangle(img, (m, top), (w - m, top + rh * (rows + 1)), (40, 40, 40), 1)
    for r in range(rows + 1):
        cv2.line(img, (m, top + rh * r), (w - m, top + rh * r), (60, 60, 60), 1)
        text(img, rng, words(rng, 2), m + 8, top + rh * r + rh - 8, 0.45)
        text(img, rng, "%d.%02d" % (rng.randint(1, 999), rng.randint(0, 99)), w - m - 90, top + rh * r + rh - 8, 0.45)
    for x in (w // 2, w - m - 110):
        cv2.line(img, (x, top), (x, top + rh * (rows + 1)), (60, 60, 60), 1)
    text(img, rng, "TOTAL %d.%02d" % (rng.randint(10, 9999), rng.randint(0, 99)), w - m - 250, top + rh * (rows + 2) + 20, 0.8, 2)
    return img


def receipt(rng):
    w = rng.randint(260, 380); h = int(w * rng.uniform(2.2, 3.6)); img = page(rng, w, h); m = rng.randint(12, 30)
    text(img, rng, words(rng, 2).upper(), m, m + 30, 0.7, 2)
    y = m + 70
    while y < h - 120:
        text(img, rng, words(rng, 1), m, y, 0.45)
        text(img, rng, "%d.%02d" % (rng.randint(1, 99), rng.randint(0, 99)), w - m - 60, y, 0.45)
        y += rng.randint(18, 26)
    cv2.line(img, (m, y), (w - m, y), (50, 50, 50), 1)
    text(img, rng, "TOTAL", m, y + 30, 0.7, 2)
    text(img, rng, "2024-%02d-%02d 12:%02d" % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 59)), m, y + 60, 0.45)
    return img


def id_card(rng):
    w = rng.randint(500, 800); h = int(w / 1.586); img = page(rng, w, h)
    tint = np.array([rng.randint(150, 255) for _ in range(3)], dtype=np.uint8); img[:] = tint
    cv2.rectangle(img, (4, 4), (w - 5, h - 5), (30, 30, 30), 2)
    px, py, pw = int(w * 0.06), int(h * 0.25), int(w * 0.25)
    cv2.rectangle(img, (px, py), (px + pw, py + int(pw * 1.25)), (90, 90, 90), -1)
    cv2.circle(img, (px + pw // 2, py + int(pw * 0.45)), pw // 4, (200, 180, 160), -1)
    text(img, rng, words(rng, 3).upper(), px, int(h * 0.15), 0.8, 2)
    for i in range(4):
        text(img, rng, words(rng, 2), px + pw + 30, py + 20 + 40 * i, 0.6)
    text(img, rng, "%03d.%03d.%03d-%02d" % (tuple(rng.randint(0, 999) for _ in range(3)) + (rng.randint(0, 99),)),
         px + pw + 30, py + 200, 0.6)
    return img


def letter(rng):
    w = rng.randint(600, 900); h = int(w * rng.uniform(1.3, 1.45)); img = page(rng, w, h); m = rng.randint(50, 90)
    for i in range(3):
        text(img, rng, words(rng, 3), m, m + 22 * i, 0.5)
    text(img, rng, "%d %s 2024" % (rng.randint(1, 28), rng.choice(["May", "June", "July"])), w - m - 160, m + 100, 0.5)
    text(img, rng, "Dear " + words(rng, 1) + ",", m, m + 160, 0.55)
    y = m + 200
    for _ in range(rng.randint(10, 28)):
        text(img, rng, words(rng, rng.randint(6, 10)), m, y, 0.5); y += rng.randint(22, 28)
        if y > h - 120: break
    text(img, rng, "Regards,", m, y + 30, 0.55)
    return img


def form(rng):
    w = rng.randint(600, 900); h = int(w * rng.uniform(1.3, 1.45)); img = page(rng, w, h); m = rng.randint(30, 60)
    text(img, rng, words(rng, 2).upper() + " FORM", m, m + 30, 0.9, 2)
    y = m + 70
    while y < h - 80:
        if rng.random() < 0.35:
            for k in range(rng.randint(2, 4)):
                x = m + k * 150
                cv2.rectangle(img, (x, y), (x + 18, y + 18), (40, 40, 40), 2)
                if rng.random() < 0.5:
                    cv2.line(img, (x + 3, y + 9), (x + 8, y + 15), (20, 20, 20), 2)
                    cv2.line(img, (x + 8, y + 15), (x + 16, y + 2), (20, 20, 20), 2)
                text(img, rng, words(rng, 1), x + 26, y + 15, 0.45)
            y += 40
        else:
            text(img, rng, words(rng, 2), m, y + 14, 0.45)
            bw = rng.randint(200, w - 2 * m - 120)
            cv2.rectangle(img, (m + 120, y - 6), (m + 120 + bw, y + 24), (40, 40, 40), 1)
            y += rng.randint(38, 50)
    return img


RENDER = {"invoice": invoice, "receipt": receipt, "id_card": id_card, "letter": letter, "form": form}


def degrade(rng, img):
    h, w = img.shape[:2]
    angle = rng.uniform(-3, 3)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    img = cv2.warpAffine(img, rot, (w, h), borderValue=(rng.randint(200, 255),) * 3)
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 1.2))
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(0, 8), img.shape)
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 95)])
        img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img


def render(rng, label):
    return degrade(rng, RENDER[label](rng))


def preprocess_bgr(bgr):
    """Exactly what infermesh's node does: BGR->RGB, bilinear resize, /255, normalise, HWC->CHW."""
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    small = cv2.resize(rgb, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
    x = (small.astype(np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))


class LayoutNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
        self.features = nn.Sequential(block(3, 16), block(16, 32), block(32, 64), block(64, 64), block(64, 96))
        self.head = nn.Linear(96, classes)

    def forward(self, x):
        x = self.features(x).mean(dim=(2, 3))
        return torch.softmax(self.head(x), dim=1)


def dataset(seed, per_class):
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(per_class * len(LABELS)):
        y = i % len(LABELS)
        xs.append(preprocess_bgr(render(rng, LABELS[y]))); ys.append(y)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "model-repository", "sample-classifier"))
    ap.add_argument("--samples-out", default=os.path.join(REPO, "samples", "layouts"),
                    help="where the held-out sample pages go (the runtime tests' inputs)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=8)
    a = ap.parse_args()
    torch.manual_seed(a.seed); torch.set_num_threads(2)
    x, y = dataset(a.seed, a.per_class)
    xt, yt = dataset(a.seed + 1000, 40)
    net = LayoutNet(len(LABELS))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    nll = nn.NLLLoss()
    for epoch in range(a.epochs):
        net.train(); perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            loss = nll(torch.log(net(x[idx]) + 1e-9), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xt).argmax(1) == yt).float().mean().item()
        print("epoch %d loss %.4f held-out accuracy %.3f" % (epoch, loss.item(), acc), flush=True)
    os.makedirs(a.out, exist_ok=True)
    net.eval()
    scripted = torch.jit.trace(net, torch.zeros(1, 3, SIZE, SIZE))
    scripted.save(os.path.join(a.out, "model.pt"))
    with open(os.path.join(a.out, "labels.txt"), "w") as f:
        f.write("\n".join(LABELS) + "\n")
    rng = random.Random(a.seed + 2000)
    os.makedirs(a.samples_out, exist_ok=True)
    for label in LABELS:  # JPEG keeps the samples small; one PNG so both decoders are exercised
        img = render(rng, label)
        cv2.imwrite(os.path.join(a.samples_out, label + ".jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if label == "receipt":
            cv2.imwrite(os.path.join(a.samples_out, label + ".png"), img)
    with open(os.path.join(a.out, "card.json"), "w") as f:
        json.dump({"labels": LABELS, "seed": a.seed, "train_per_class": a.per_class, "epochs": a.epochs,
                   "held_out_accuracy": acc, "input": [3, SIZE, SIZE]}, f, indent=2)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
