#!/usr/bin/python3
"""Forward-pass time of two TorchScript models of one input size on one image, interleaved in one process (the
machine is shared and noisy: only the ratio means something). Prints each mean and new/old.

    /usr/bin/python3 training/compare_forward.py OLD.pt NEW.pt samples/invoice-upright.jpg 224 [--passes 600]
"""
import argparse
import time

import torch

import node_input


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("image")
    ap.add_argument("size", type=int)
    ap.add_argument("--passes", type=int, default=600)
    a = ap.parse_args()
    torch.set_num_threads(1)
    models = {"old": torch.jit.load(a.old).eval(), "new": torch.jit.load(a.new).eval()}
    with open(a.image, "rb") as f:
        x = torch.from_numpy(node_input.preprocess(f.read(), node_input.square(a.size, decode="fast"))).unsqueeze(0)
    spent = {"old": 0.0, "new": 0.0}
    with torch.no_grad():
        for m in models.values():
            for _ in range(20):
                m(x)
        for i in range(a.passes):
            for name in ("old", "new") if i % 2 else ("new", "old"):
                t0 = time.perf_counter()
                models[name](x)
                spent[name] += time.perf_counter() - t0
    print("batch 1, 1 thread, %d interleaved passes each: old %.2f ms, new %.2f ms, new/old %.3f"
          % (a.passes, spent["old"] / a.passes * 1e3, spent["new"] / a.passes * 1e3, spent["new"] / spent["old"]))


if __name__ == "__main__":
    main()
