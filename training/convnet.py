"""The one net definition the bundled models share, and how it is trained and exported.

Every bundled model is a ConvNet: stride-2 conv blocks (3x3 conv, BatchNorm, ReLU), global average pool, a
linear head, softmax inside the module (a node's model must output probabilities). Only the block widths and
the head's dropout differ:
  document classifier and orientation model: DOCUMENT_WIDTHS, dropout 0.2 (0.35 M parameters, 1.4 MB)
  sample layout classifier (a test fixture):  LAYOUT_WIDTHS, no dropout (0.1 M parameters, 500 KB)
"""
import json
import os
import time

import torch
import torch.nn as nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_REPOSITORY = os.path.join(REPO, "model-repository")  # what nodes load: one folder per model

DOCUMENT_WIDTHS = (24, 48, 64, 96, 128, 128)
LAYOUT_WIDTHS = (16, 32, 64, 64, 96)


class ConvNet(nn.Module):
    """len(widths) stride-2 conv blocks and a linear head: small enough for a CPU node, enough for page layout."""

    def __init__(self, widths, classes, dropout=0.0):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
        self.features = nn.Sequential(*(block(i, o) for i, o in zip((3,) + tuple(widths[:-1]), widths)))
        linear = nn.Linear(widths[-1], classes)
        self.head = nn.Sequential(nn.Dropout(dropout), linear) if dropout else linear

    def forward(self, x):
        x = self.features(x).mean(dim=(2, 3))
        return torch.softmax(self.head(x), dim=1)


def one_cycle_adamw(net, steps):
    """The document models' optimiser: AdamW with a one-cycle schedule peaking at 3e-3."""
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)


def fit(net, x, y, epochs, prepare, evaluate, measure, started, optimiser=one_cycle_adamw):
    """Batches of 64 of prepare(x[batch]), NLL on the net's probabilities; optimiser(net, steps) gives the
    optimiser and its schedule (or None). Prints evaluate(net) per epoch and returns the last value."""
    opt, sched = optimiser(net, epochs * ((len(x) + 63) // 64))
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
            if sched is not None:
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
