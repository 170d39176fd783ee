#!/usr/bin/python3
"""Prints python3-torch's class probabilities for images, preprocessed as a node config says.

The reference a node is checked against (tests/integration/reference_scores_test.cpp): same file, same
preprocessing (node_input.py: OpenCV decode, colour order, resize, normalisation, NCHW layout), same
TorchScript module.

    /usr/bin/python3 training/reference_scores.py --config cluster-config/single-node.yaml IMAGE...

Output: one line per image, `SCORES <path> <json {label: probability}>`.
"""
import argparse
import json
import os

import torch
import yaml

import node_input


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
            with open(path, "rb") as f:
                x = node_input.preprocess(f.read(), spec)
            probs = module(torch.from_numpy(x[None]))[0].tolist()
            print("SCORES", path, json.dumps(dict(zip(labels, probs))), flush=True)


if __name__ == "__main__":
    main()
