#!/usr/bin/python3
"""Writes the seed corpora and dictionaries of the fuzz targets (fuzz/corpus/<target>/, fuzz/dict/<target>.dict).

A few valid and near-valid inputs per target, each a few KB at most, made here so that they are reproducible:
    /usr/bin/python3 scripts/fuzz-seeds.py        # Debian's python3 (python3-pil), from the repository root
Re-running rewrites the same files (the images are drawn from fixed numbers, no randomness).
"""
import base64, io, json, os, re, struct, zlib
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "fuzz")


def write(target, name, data):
    folder = os.path.join(FUZZ, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def write_dict(target, tokens):
    os.makedirs(os.path.join(FUZZ, "dict"), exist_ok=True)
    with open(os.path.join(FUZZ, "dict", target + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary for fuzz_%s, written by scripts/fuzz-seeds.py\n" % target)
        for i, t in enumerate(tokens):
            b = t if isinstance(t, bytes) else t.encode()
            f.write('t%d="%s"\n' % (i, "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else "\\x%02x" % c for c in b)))


# --- images: a page-like picture (text lines, a frame), small ------------------------------------------------
def page(w=48, h=64, mode="RGB"):
    im = Image.new("RGB", (w, h), (250, 250, 245))
    d = ImageDraw.Draw(im)
    d.rectangle([2, 2, w - 3, h - 3], outline=(20, 20, 20))
    for y in range(8, h - 8, 7):
        d.line([6, y, w - 6 - (y * 3) % 17, y], fill=(30, 30, 90), width=2)
    return im.convert(mode)


def encoded(im, fmt, **kw):
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def pgm(w=16, h=12):
    return b"P5\n# a page\n%d %d\n255\n" % (w, h) + bytes((x * 16 + y * 5) % 256 for y in range(h) for x in range(w))


def png_claiming(w, h):
    """A PNG signature and IHDR that claim w x h pixels, with one tiny IDAT: refused or cut short, never decoded."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def images():
    return {
        "rgb.png": encoded(page(), "PNG"),
        "grey.png": encoded(page(mode="L"), "PNG"),
        "rgba.png": encoded(page(mode="RGBA"), "PNG"),
        "palette.png": encoded(page(mode="P"), "PNG"),
        "baseline.jpg": encoded(page(), "JPEG", quality=60),
        "progressive.jpg": encoded(page(64, 80), "JPEG", quality=60, progressive=True),
        "grey.jpg": encoded(page(mode="L"), "JPEG", quality=60),
        "large-for-fast-decode.jpg": encoded(page(456, 456, "L"), "JPEG", quality=5),
        "page.pgm": pgm(),
        "claims-50000x50000.png": png_claiming(50000, 50000),
        "truncated.png": encoded(page(), "PNG")[:40],
        "truncated.jpg": encoded(page(), "JPEG", quality=60)[:200],
    }


# --- PDF: hand-written, with a correct xref -----------------------------------------------------------------
def pdf(pages, extra_content=b""):
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for i, (w, h) in enumerate(pages):
        content = b"BT /F1 12 Tf 20 %d Td (Page %d of a fuzz seed) Tj ET 10 10 m 100 10 l S " % (h - 40, i + 1) + extra_content
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_id = len(objs)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (w, h, content_id, len(pages) * 2 + 3))
        kids.append(b"%d 0 R" % len(objs))
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(pages)
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def pdf_of(objs):
    """A PDF of `objs` (object 1 the catalog), numbered from 1, with a correct xref."""
    out = b"%PDF-1.5\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def stream(dictionary, data):
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_with_xobjects():
    """One page drawing a Form XObject that draws another Form and a Flate-compressed 8x8 grey image: the
    structures poppler's renderer recurses into (issue 14's nested-forms bomb is this, deeper)."""
    pixels = zlib.compress(bytes((x * 32 + y * 8) % 256 for y in range(8) for x in range(8)))
    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Contents 4 0 R "
        b"/Resources << /XObject << /F1 5 0 R >> >> >>",
        stream(b"", b"q 1 0 0 1 0 0 cm /F1 Do Q"),
        stream(b"/Type /XObject /Subtype /Form /BBox [0 0 72 72] /Resources << /XObject << /F2 6 0 R /I1 7 0 R >> >>",
               b"/F2 Do q 36 0 0 36 18 18 cm /I1 Do Q"),
        stream(b"/Type /XObject /Subtype /Form /BBox [0 0 72 72]", b"0 0 m 72 72 l S 10 10 50 50 re f"),
        stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 "
               b"/Filter /FlateDecode", pixels),
    ])


def nested_forms_pdf(depth, fan_out):
    """Findings, not seeds: one page whose Form XObject draws the next `fan_out` times, `depth` levels down
    (fan_out ** depth leaf drawings from ~100 bytes per level; issue 14 §3's class)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /XObject << /X 5 0 R >> >> >>", stream(b"", b"/X Do")]
    for level in range(depth):
        at = len(objs) + 1
        if level + 1 < depth:
            body = b" ".join(b"q 1 0 0 1 %d 0 cm /X Do Q" % i for i in range(fan_out))
            objs.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /X %d 0 R >> >>"
                               % (at + 1), body))
        else:
            objs.append(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792]", b"0 0 612 792 re f"))
    return pdf_of(objs)


def tiff_pages_sharing_one_strip(pages, w, h):
    """Findings, not seeds: `pages` bilevel CCITT G4 pages of w x h, every page's strip the same all-white bytes
    (one V0 code per row), so the file is ~120 bytes a page whatever the pixels (issue 14 §1's class)."""
    strip = b"\xff" * (h // 8) + (bytes([(0xFF << (8 - h % 8)) & 0xFF]) if h % 8 else b"") + b"\x00\x10\x01"  # EOFB
    strip += b"\x00" * (len(strip) & 1)
    ifd_at = 8 + len(strip)
    tags = [(256, 4, w), (257, 4, h), (258, 3, 1), (259, 3, 4), (262, 3, 0), (273, 4, 8), (277, 3, 1), (278, 4, h),
            (279, 4, len(strip))]
    ifd_size = 2 + 12 * len(tags) + 4
    out = b"II*\x00" + struct.pack("<I", ifd_at) + strip
    for p in range(pages):
        out += struct.pack("<H", len(tags))
        for tag, kind, v in tags:
            out += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", v, 0) if kind == 3 else struct.pack("<I", v))
        out += struct.pack("<I", ifd_at + (p + 1) * ifd_size if p + 1 < pages else 0)
    return out


def write_finding(target, name, data, kind="findings"):
    folder = os.path.join(FUZZ, kind, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def tiff(frames, **kw):
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:], **kw)
    return out.getvalue()


def documents():
    small = [(72, 96)]  # points: 1 x 1.33 inch, 300 x 400 pixels at 300 dpi
    return {
        "one-page.pdf": pdf(small),
        "two-pages.pdf": pdf([(72, 96), (96, 72)]),
        "no-xref.pdf": pdf(small).split(b"xref\n")[0] + b"%%EOF\n",  # poppler reconstructs it
        "one-page.tif": tiff([page(mode="L")]),
        "three-pages.tif": tiff([page(mode="L"), page(40, 30, "RGB"), page(mode="1")]),
        "lzw.tif": tiff([page(mode="RGB")], compression="tiff_lzw"),
        "packbits.tif": tiff([page(mode="L")], compression="packbits"),
        "deflate.tif": tiff([page(mode="L")], compression="tiff_adobe_deflate"),
        "xobjects.pdf": pdf_with_xobjects(),
        "ten-pages-g4.tif": tiff([page(300, 400, "1") for _ in range(10)], compression="group4"),
        "page.png": encoded(page(), "PNG"),
        "page.jpg": encoded(page(), "JPEG", quality=60),
    }


# --- requests: msgpack (a small encoder) and JSON -------------------------------------------------------------
def mp(v):
    if v is None: return b"\xc0"
    if v is True: return b"\xc3"
    if v is False: return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128: return bytes([v])
        if -32 <= v < 0: return struct.pack("b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xA0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, bytes): return b"\xc5" + struct.pack(">H", len(v)) + v
    if isinstance(v, list): return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict): return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


def requests():
    img = encoded(page(16, 16, "L"), "PNG")
    full = {"id": "req-1", "image": img, "doc_type": "invoice", "auto_rotate": False, "max_pages": 3,
            "deadline_ms": 5000, "priority": -2, "reply_to": "_INBOX.x", "rotation": 90, "page_rotations": [0, 270],
            "hops": 1}
    as_json = lambda d: json.dumps({k: (base64.b64encode(v).decode() if isinstance(v, bytes) else v) for k, v in d.items()})
    return {
        "minimal.msgpack": mp({"image": img}),
        "full.msgpack": mp(full),
        "image-path.msgpack": mp({"id": "p", "image_path": "/data/a.png"}),
        "image-as-str.msgpack": mp({"image": "\x89PNG-as-a-string"}),
        "wrong-type.msgpack": mp({"image": img, "max_pages": "three"}),
        "both-images.msgpack": mp({"image": img, "image_path": "x"}),
        "minimal.json": as_json({"image": img}),
        "full.json": as_json(full),
        "bom-and-space.json": b"\xef\xbb\xbf \n" + as_json({"id": "b", "image_path": "a.png"}).encode(),
        "nested.json": '{"image_path":"a","x":[[[[{"y":[1,2.5,-3e9,null,true]}]]]],"id":"\\u00e9\\ud83d\\ude00"}',
        "not-a-map.json": "[1,2,3]",
    }


def main():
    for name, data in requests().items(): write("decode_request", name, data)
    write_dict("decode_request", ['"id"', '"image"', '"image_path"', '"doc_type"', '"auto_rotate"', '"max_pages"',
                                  '"deadline_ms"', '"priority"', '"reply_to"', '"rotation"', '"page_rotations"',
                                  '"hops"', "true", "false", "null", "\\u0000", "\\ud800", "\xef\xbb\xbf", "1e400",
                                  b"\xa2id", b"\xa5image", b"\xaaimage_path", b"\xc4", b"\xc5", b"\xc6", b"\xd9",
                                  b"\xda", b"\xdb", b"\xdc", b"\xdd", b"\xde", b"\xdf", b"\xcf", b"\xd3", b"\xcb",
                                  b"\xc1", b"\xd4", b"\xc7", b"\xc9"])

    configs = os.path.join(ROOT, "cluster-config")
    for name in sorted(os.listdir(configs)):
        if name.endswith(".yaml"):
            with open(os.path.join(configs, name), "rb") as f: write("parse_config", name, f.read())
    write("parse_config", "minimal-node.yaml", "node: {name: n1}\nmodels:\n  - name: s\n    backend: synthetic\n"
          "    serves: [classify]\n    labels: [a, b]\n")
    write("parse_config", "unknown-key.yaml", "node: {name: n1, colour: blue}\n")
    with open(os.path.join(ROOT, "runtime", "config.cpp")) as f:
        keys = sorted(set(re.findall(r'"([a-z_][a-z0-9_]*)"', f.read())))
    write_dict("parse_config", [k + ":" for k in keys] + ["- ", "[", "]", "{", "}", "&a", "*a", "!!str", "<<: ",
                                                          "---", "...", "|\n", ">-\n", "~", "0x", "1e9", "-1"])

    for name, data in images().items():
        write("preprocess_image", name, data)
        write("probe_image", name, data)
    write_dict("preprocess_image", [b"\x89PNG\r\n\x1a\n", b"IHDR", b"IDAT", b"IEND", b"PLTE", b"tRNS", b"\xff\xd8\xff",
                                    b"\xff\xc0", b"\xff\xc2", b"\xff\xc4", b"\xff\xda", b"\xff\xdb", b"\xff\xd9",
                                    b"\xff\xdd", b"\xff\xe0", b"P5\n", b"255\n"])

    for name, data in documents().items(): write("split_pages", name, data)
    # Reproducers of issue 14's classes, crafted here (the fuzzer found none in its runs): see fuzz/README.md.
    write_finding("split_pages", "crafted-tiff-100-pages-of-36mp.tif", tiff_pages_sharing_one_strip(100, 6000, 6000),
                  "regressions")  # fixed: the per-request pixel budget
    write_finding("split_pages", "crafted-pdf-nested-forms.pdf", nested_forms_pdf(12, 4))
    write_dict("split_pages", ["%PDF-1.4", "obj", "endobj", "stream", "endstream", "xref", "trailer", "startxref",
                               "%%EOF", "/Type", "/Page", "/Pages", "/Kids", "/Count", "/MediaBox", "/Contents",
                               "/Resources", "/XObject", "/Form", "/Image", "/Filter", "/FlateDecode", "/DCTDecode",
                               "/JBIG2Decode", "/CCITTFaxDecode", "/Length", "/Width", "/Height", "/BitsPerComponent",
                               "/ObjStm", "/Encrypt", "/Rotate", " 0 R", "<<", ">>", "Do", "cm", "re f",
                               b"II*\x00", b"MM\x00*", b"\x00\x01\x03\x00", b"\x01\x01\x03\x00", b"\x42\x01\x03\x00",
                               b"\x43\x01\x03\x00"])


if __name__ == "__main__":
    main()
