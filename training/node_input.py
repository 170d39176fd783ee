"""A node's input preprocessing in numpy: what models/image_preprocess.cpp does to an image before a model sees
it, driven by a model's `input:` entry of a node config (cluster-config/README.md: width, height, color,
resize, mean, std, decode). The training scripts feed their nets through it and reference_scores.py checks a
node against it, so a net is trained on exactly what a node will give it.
"""
import cv2
import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # ImageNet: the node's default `input.mean`
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)   # and `input.std`
INTERPOLATION = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST,
                 "cubic": cv2.INTER_CUBIC}


def square(size, decode="full"):
    """An `input:` entry for a size x size RGB model with the defaults (bilinear, ImageNet mean/std)."""
    return {"width": size, "height": size, "decode": decode}


def decode(encoded, spec):
    """Encoded bytes -> BGR, as the node decodes: with `decode: fast`, a JPEG is decoded at 1/8, 1/4 or 1/2 scale
    when that still covers the input size."""
    data = np.frombuffer(encoded, dtype=np.uint8)
    full = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if spec.get("decode", "full") != "fast" or data[:3].tobytes() != b"\xff\xd8\xff":
        return full
    h, w = full.shape[:2]
    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if w // factor >= spec.get("width", 224) and h // factor >= spec.get("height", 224):
            return cv2.imdecode(data, flag)
    return full


def normalise(bgr, spec):
    """A decoded BGR image -> the model's CHW float32 input: colour order, resize, /255, (x - mean) / std."""
    img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if spec.get("color", "rgb") == "rgb" else bgr
    img = cv2.resize(img, (spec.get("width", 224), spec.get("height", 224)),
                     interpolation=INTERPOLATION[spec.get("resize", "linear")])
    mean = np.array(spec.get("mean", MEAN), dtype=np.float32)
    std = np.array(spec.get("std", STD), dtype=np.float32)
    x = (img.astype(np.float32) / np.float32(255.0) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def preprocess(encoded, spec):
    """Encoded image bytes -> the model's CHW float32 input, exactly as the node computes it."""
    return normalise(decode(encoded, spec), spec)
