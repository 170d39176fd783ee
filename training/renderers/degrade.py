"""Real-world damage on a rendered page (an RGB uint8 numpy array), shared by every renderer: perspective as of a
phone photo, shadows and uneven light, fold lines, stamps, handwriting-like marks, crops, low resolution, blur,
noise; ID cards photographed small on a background at an angle. JPEG is the last step (encode_jpeg).
Every choice comes from the caller's random.Random, so a page is deterministic by seed.
"""
import math

import cv2
import numpy as np

STAMPS = ["PAID", "PAGO", "BEZAHLT", "RECEIVED", "RECEBIDO", "COPY", "KOPIE", "APPROVED", "CONFERIDO", "ORIGINAL"]


def _np_rng(rng):
    return np.random.default_rng(rng.randrange(2 ** 32))


def background(rng, h, w):
    """A table, desk or cloth behind a photographed document: a colour, a gradient and grain (computed at a
    quarter of the size and scaled up: the damage is smooth, and full-size float maps cost seconds a page)."""
    sh, sw = max(2, h // 4), max(2, w // 4)
    base = np.array([rng.randint(40, 200) for _ in range(3)], np.float32)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    grad = (np.cos(angle) * xx / sw + np.sin(angle) * yy / sh)[..., None] * rng.uniform(-50, 50)
    grain = _np_rng(rng).normal(0, rng.uniform(2, 12), (sh, sw, 1)).astype(np.float32)
    if rng.random() < 0.5:  # wood-like stripes
        grain = grain + 12 * np.sin(yy[..., None] / rng.uniform(1, 4) + 3 * np.sin(xx[..., None] / 20))
    small = np.clip(base + grad + grain, 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def perspective(rng, img, strength, fill=None):
    """The page as a phone sees it: corners moved by up to `strength` of the size, on a background margin."""
    h, w = img.shape[:2]
    pad = int(max(h, w) * (strength + 0.02))
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = lambda: rng.uniform(0, strength) * max(h, w)  # noqa: E731
    dst = np.float32([[pad + jitter() - pad * 0.5, pad + jitter() - pad * 0.5],
                      [pad + w - jitter() + pad * 0.5, pad + jitter() - pad * 0.5],
                      [pad + w - jitter() + pad * 0.5, pad + h - jitter() + pad * 0.5],
                      [pad + jitter() - pad * 0.5, pad + h - jitter() + pad * 0.5]])
    H, W = h + 2 * pad, w + 2 * pad
    m = cv2.getPerspectiveTransform(src, dst)
    bg = background(rng, H, W) if fill is None else np.full((H, W, 3), fill, np.uint8)
    return cv2.warpPerspective(img, m, (W, H), dst=bg, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)


def uneven_light(rng, img):
    """A shadow (a hand, a phone) across part of the page and a light falloff towards one corner."""
    H, W = img.shape[:2]
    h, w = max(2, H // 8), max(2, W // 8)  # a smooth light map, computed small and scaled up
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h
    falloff = 1 - rng.uniform(0.1, 0.35) * np.sqrt(((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2)
    light = falloff
    if rng.random() < 0.6:  # a soft-edged shadow beyond a random line
        a = rng.uniform(0, 2 * math.pi)
        d = (np.cos(a) * (xx - w / 2) + np.sin(a) * (yy - h / 2)) / max(h, w) - rng.uniform(-0.3, 0.3)
        light = light * (1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-d * rng.uniform(20, 80))))
    light = cv2.resize(light.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(img, cv2.merge([light] * 3), dtype=cv2.CV_8U)


def fold_lines(rng, img):
    """A letter folded in three or in half: a thin crease and a brightness step across it."""
    h, w = img.shape[:2]
    out = img.astype(np.float32)
    for k in range(rng.randint(1, 2)):
        if rng.random() < 0.7:
            y = int(h * rng.choice([1 / 3, 1 / 2, 2 / 3]) + rng.uniform(-0.02, 0.02) * h)
            out[y:] *= rng.uniform(0.93, 1.0)
            out[max(0, y - 1):y + 2] *= rng.uniform(0.6, 0.85)
        else:
            x = int(w * rng.uniform(0.45, 0.55))
            out[:, max(0, x - 1):x + 2] *= rng.uniform(0.65, 0.9)
    return np.clip(out, 0, 255).astype(np.uint8)


def stamp(rng, img):
    """A rubber stamp (ring or box around a word) in red, blue or violet ink, rotated, partly transparent."""
    h, w = img.shape[:2]
    size = int(min(h, w) * rng.uniform(0.15, 0.3))
    layer = np.zeros((size * 2, size * 2), np.uint8)
    word = rng.choice(STAMPS)
    thick = max(2, size // 30)
    if rng.random() < 0.5:
        cv2.circle(layer, (size, size), int(size * 0.9), 255, thick)
        cv2.circle(layer, (size, size), int(size * 0.75), 255, max(1, thick // 2))
    else:
        cv2.rectangle(layer, (int(size * 0.1), int(size * 0.6)), (int(size * 1.9), int(size * 1.4)), 255, thick)
    scale = size * 1.4 / max(1, cv2.getTextSize(word, cv2.FONT_HERSHEY_DUPLEX, 1, 2)[0][0])
    tw, th = cv2.getTextSize(word, cv2.FONT_HERSHEY_DUPLEX, scale, thick)[0]
    cv2.putText(layer, word, (size - tw // 2, size + th // 2), cv2.FONT_HERSHEY_DUPLEX, scale, 255, thick)
    rot = cv2.getRotationMatrix2D((size, size), rng.uniform(-35, 35), 1.0)
    layer = cv2.warpAffine(layer, rot, (size * 2, size * 2))
    x, y = rng.randint(0, max(0, w - 2 * size)), rng.randint(0, max(0, h - 2 * size))
    region = img[y:y + 2 * size, x:x + 2 * size].astype(np.float32)
    a = (layer[:region.shape[0], :region.shape[1]] / 255.0 * rng.uniform(0.4, 0.8))[..., None]
    ink = np.array(rng.choice([(200, 30, 40), (40, 60, 190), (120, 40, 150)]), np.float32)
    img = img.copy()
    img[y:y + 2 * size, x:x + 2 * size] = (region * (1 - a) + ink * a).astype(np.uint8)
    return img


def handwriting(rng, img):
    """Pen marks: a signature-like scribble, a tick, an underline or a circled word, in blue or black ink."""
    h, w = img.shape[:2]
    img = img.copy()
    ink = rng.choice([(30, 40, 140), (20, 20, 30), (20, 60, 170)])
    for _ in range(rng.randint(1, 3)):
        x0, y0 = rng.uniform(0.05, 0.7) * w, rng.uniform(0.1, 0.95) * h
        length, amp = rng.uniform(0.1, 0.3) * w, rng.uniform(0.005, 0.03) * h
        f1, f2, ph = rng.uniform(8, 25), rng.uniform(2, 6), rng.uniform(0, 6)
        t = np.linspace(0, 1, 120)
        pts = np.stack([x0 + t * length + amp * 0.6 * np.sin(t * f1 * 1.3 + ph),
                        y0 + amp * np.sin(t * f1 + ph) + amp * 0.5 * np.sin(t * f2)], 1).astype(np.int32)
        cv2.polylines(img, [pts], False, ink, max(1, int(w / rng.uniform(300, 600))), cv2.LINE_AA)
    return img


def crop(rng, img, most=0.07):
    h, w = img.shape[:2]
    t, b = int(h * rng.uniform(0, most)), int(h * rng.uniform(0, most))
    l, r = int(w * rng.uniform(0, most)), int(w * rng.uniform(0, most))
    return img[t:h - b, l:w - r]


def low_resolution(rng, img, lo=0.45):
    h, w = img.shape[:2]
    s = rng.uniform(lo, 0.9)
    small = cv2.resize(img, (max(8, int(w * s)), max(8, int(h * s))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.4:  # upscaled again, as a messenger app or a fax does
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return small


def noise_and_blur(rng, img):
    if rng.random() < 0.5:
        k = rng.choice([3, 5])
        img = cv2.GaussianBlur(img, (k, k), rng.uniform(0.4, 1.3))
    if rng.random() < 0.5:
        noise = np.empty(img.shape, np.int16)
        cv2.setRNGSeed(rng.randrange(2 ** 31))
        cv2.randn(noise, 0, rng.uniform(3, 10))
        img = cv2.add(img, noise, dtype=cv2.CV_8U)
    return img


def card_photo(rng, card):
    """An ID card photographed on a table: small in the frame, at an angle, in perspective, under uneven light."""
    h, w = card.shape[:2]
    angle = rng.uniform(-25, 25)
    frame_w = int(w / rng.uniform(0.45, 0.8))
    frame_h = int(frame_w * rng.choice([0.75, 1.0, 1.33]))
    frame_h = max(frame_h, int(h * 1.5))
    bg = background(rng, frame_h, frame_w)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[0, 2] += frame_w / 2 - w / 2 + rng.uniform(-0.1, 0.1) * frame_w
    m[1, 2] += frame_h / 2 - h / 2 + rng.uniform(-0.1, 0.1) * frame_h
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), m, (frame_w, frame_h))
    shadow = 1 - 0.45 / 255 * cv2.GaussianBlur(np.roll(np.roll(mask, 6, 0), 6, 1), (0, 0), 6).astype(np.float32)
    bg = cv2.multiply(bg, cv2.merge([shadow] * 3), dtype=cv2.CV_8U)
    bg = cv2.warpAffine(card, m, (frame_w, frame_h), dst=bg, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    out = perspective(rng, bg, rng.uniform(0.02, 0.08), fill=tuple(int(c) for c in bg[0, 0]))
    return uneven_light(rng, out)


def degrade(rng, img, doc_type, clean=False):
    """The damage of a scan or phone photo. clean: only a little low resolution and noise (the pages on which the
    extraction rules are measured alone); ID cards are photographed in either case when photo_cards says so."""
    if clean:
        return low_resolution(rng, img, lo=0.75) if rng.random() < 0.5 else img
    if rng.random() < 0.25: img = handwriting(rng, img)
    if rng.random() < 0.2: img = stamp(rng, img)
    if doc_type in ("letter", "invoice", "form") and rng.random() < 0.3: img = fold_lines(rng, img)
    if doc_type != "id_card" and rng.random() < 0.35:
        img = perspective(rng, img, rng.uniform(0.01, 0.06))
    if rng.random() < 0.4: img = uneven_light(rng, img)
    if rng.random() < 0.3: img = crop(rng, img)
    if rng.random() < 0.5: img = low_resolution(rng, img)
    return noise_and_blur(rng, img)


def encode_jpeg(rng, img, clean=False):
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 90 if clean else rng.randint(35, 92)])
    return buf.tobytes()


def rotate(img, ccw_degrees):
    """The truth's `rotation`: the page turned counter-clockwise by 90, 180 or 270 degrees."""
    codes = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    return cv2.rotate(img, codes[ccw_degrees]) if ccw_degrees else img
