#!/usr/bin/python3
"""Trains and exports the sample document-layout classifier that infermesh serves out of the box.

It renders synthetic pages of five layouts (invoice, receipt, id_card, letter, form) with OpenCV, trains a
small CNN on them with python3-torch, and writes a TorchScript module whose output is class probabilities
(softmax is part of the module), its label list, and held-out sample images (samples/layouts/). Deterministic by --seed.

    /usr/bin/python3 training/make_sample_classifier.py --out model-repository/sample-classifier

The preprocessing the module expects is node_input.py's with INPUT (the runtime tests' config): decode to RGB,
resize to 128x128 (bilinear), scale to [0,1], normalise with ImageNet mean/std, NCHW float32. The net is
convnet.ConvNet with LAYOUT_WIDTHS.
"""
import argparse
import os
import random
import time

import cv2
import numpy as np
import torch

import convnet
import node_input

LABELS = ["invoice", "receipt", "id_card", "letter", "form"]
SIZE = 128
INPUT = node_input.square(SIZE)  # as tests/support/node_process.cpp feeds the sample classifier
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


def dataset(seed, per_class):
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(per_class * len(LABELS)):
        y = i % len(LABELS)
        xs.append(node_input.normalise(render(rng, LABELS[y]), INPUT)); ys.append(y)
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(convnet.MODEL_REPOSITORY, "sample-classifier"))
    ap.add_argument("--samples-out", default=os.path.join(convnet.REPO, "samples", "layouts"),
                    help="where the held-out sample pages go (the runtime tests' inputs)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=8)
    a = ap.parse_args()
    torch.manual_seed(a.seed); torch.set_num_threads(2)
    started = time.time()
    x, y = dataset(a.seed, a.per_class)
    xt, yt = dataset(a.seed + 1000, 40)
    net = convnet.ConvNet(convnet.LAYOUT_WIDTHS, len(LABELS))

    def held_out_accuracy(net):
        with torch.no_grad():
            return (net(xt).argmax(1) == yt).float().mean().item()
    acc = convnet.fit(net, x, y, a.epochs, lambda batch: batch, held_out_accuracy, "held-out accuracy", started,
                      optimiser=lambda net, steps: (torch.optim.Adam(net.parameters(), lr=3e-3), None))
    convnet.export(net, a.out, SIZE, LABELS, {"labels": LABELS, "seed": a.seed, "train_per_class": a.per_class,
                                              "epochs": a.epochs, "held_out_accuracy": acc,
                                              "input": [3, SIZE, SIZE]}, started)
    rng = random.Random(a.seed + 2000)
    os.makedirs(a.samples_out, exist_ok=True)
    for label in LABELS:  # JPEG keeps the samples small; one PNG so both decoders are exercised
        img = render(rng, label)
        cv2.imwrite(os.path.join(a.samples_out, label + ".jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if label == "receipt":
            cv2.imwrite(os.path.join(a.samples_out, label + ".png"), img)
    print("wrote", a.out, "and", a.samples_out)


if __name__ == "__main__":
    main()
