#!/usr/bin/python3
"""Prints python3-torch's class probabilities for images, preprocessed as a node config says.

The reference a node is checked against (tests/integration/reference_scores_test.cpp): same file, same
preprocessing (OpenCV decode, colour order, resize, normalisation, NCHW layout), same TorchScript module.

    /usr/bin/python3 training/reference_scores.py --config cluster-config/single-node.yaml IMAGE...

Output: one line per image, `SCORES <path> <json {label: probability}>`.
"""
import argparse
import json
import os

import cv2
import numpy as np
import torch
import yaml

INTERPOLATION = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST,
                 "cubic": cv2.INTER_CUBIC}


def load_model_entry(config_path, name):
    with open(config_path) as f:
        config = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(config_path))
    models = config["models"]
    entry = next(m for m in models if name is None or m["name"] == name)
    resolve = lambda p: p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))
    if "labels" in entry:
        labels = entry["labels"]
    else:
        with open(resolve(entry["labels_file"])) as f:
            labels = [line.strip() for line in f if line.strip()]
    return resolve(entry["path"]), labels, entry.get("input", {})


def decode(path, spec):
    """cv2.imdecode as the node does it: with `decode: fast`, a JPEG is decoded at 1/8, 1/4 or 1/2 scale when
    that still covers the input size."""
    data = np.fromfile(path, dtype=np.uint8)
    full = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if spec.get("decode", "full") != "fast" or data[:3].tobytes() != b"\xff\xd8\xff":
        return full
    h, w = full.shape[:2]
    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if w // factor >= spec.get("width", 224) and h // factor >= spec.get("height", 224):
            return cv2.imdecode(data, flag)
    return full


def preprocess(path, spec):
    bgr = decode(path, spec)
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if spec.get("color", "rgb") == "rgb" else bgr
    img = cv2.resize(img, (spec.get("width", 224), spec.get("height", 224)),
                     interpolation=INTERPOLATION[spec.get("resize", "linear")])
    mean = np.array(spec.get("mean", [0.485, 0.456, 0.406]), dtype=np.float32)
    std = np.array(spec.get("std", [0.229, 0.224, 0.225]), dtype=np.float32)
    x = (img.astype(np.float32) / np.float32(255.0) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--model", default=None, help="model name (default: the first)")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    model_path, labels, spec = load_model_entry(a.config, a.model)
    module = torch.jit.load(model_path)
    module.eval()
    with torch.no_grad():
        for path in a.images:
            probs = module(torch.from_numpy(preprocess(path, spec)[None]))[0].tolist()
            print("SCORES", path, json.dumps(dict(zip(labels, probs))), flush=True)


if __name__ == "__main__":
    main()
