#!/usr/bin/env python3
"""report_check.py -- what test_report.sh asks of a `heapkit report` page and its picture.

  report_check.py page FILE [--rows N] [--traces N] [--maps N] [--sites] [--verdict TEXT]
                            [--max-bytes N] [--json REPLAY.json]
  report_check.py png FILE

Prints one line per check, "PASS what" or "FAIL what: why"; test_report.sh counts them.
page: the HTML nests (every end tag closes the element open, void elements aside, nothing
left open), every <svg> parses as XML on its own, nothing points outside the page (the
only http(s):// text allowed is the SVG namespace name, which is never fetched; no src,
no href but #anchors, no url(), no @import), and the expected parts are there. With
--json (the output of `heapkit replay --json` on the same trace and options), the
table's footprint and utilization of every lab policy but libc equal replay's.
png: decodes the screenshot (zlib and the PNG row filters) and checks it is a picture:
many colours, and neither blank nor all one colour.
"""
import argparse
import collections
import html.parser
import json
import re
import struct
import sys
import xml.dom.minidom
import zlib

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


def report(ok, what, why=""):
    print(("PASS " + what) if ok else ("FAIL %s: %s" % (what, why)))


class Nesting(html.parser.HTMLParser):
    """Checks that elements nest; collects the rows tables' cells."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.tables, self.in_rows, self.row, self.cell = [], False, None, None

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append((tag, self.getpos()))
        a = dict(attrs)
        if tag == "table" and a.get("class") == "rows":
            self.in_rows = True
            self.tables.append([])
        elif self.in_rows and tag == "tr":
            self.row = []
        elif self.in_rows and tag in ("td", "th") and self.row is not None:
            self.cell = [a.get("data-v"), ""]

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            open_tag = self.stack[-1] if self.stack else ("nothing", (0, 0))
            self.errors.append("line %d: </%s> closes <%s> of line %d"
                               % (self.getpos()[0], tag, open_tag[0], open_tag[1][0]))
            return
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[-1].append(self.row)
            self.row = None
        elif tag == "table":
            self.in_rows = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def check_nesting(text):
    p = Nesting()
    p.feed(text)
    p.close()
    report(not p.errors, "elements nest", "; ".join(p.errors[:3]))
    report(not p.stack, "nothing left open", " ".join(t for t, _ in p.stack[-5:]))
    return p.tables


def check_svgs(text):
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    bad = []
    for i, s in enumerate(svgs):
        try:
            xml.dom.minidom.parseString(s)
        except Exception as e:  # any parse error is the finding
            bad.append("svg %d: %s" % (i + 1, e))
    report(svgs and not bad, "every <svg> is well-formed XML (%d)" % len(svgs),
           "; ".join(bad[:3]) or "no svg")
    return len(svgs)


def check_self_contained(text):
    rest = text.replace(SVG_NS, "")
    found = re.findall(r".{0,40}https?://.{0,40}", rest)
    report(not found, "no http(s):// but the SVG namespace", "; ".join(found[:3]))
    found = re.findall(r"<[^>]*\bsrc\s*=[^>]*>", text)
    report(not found, "no src attribute", "; ".join(found[:3]))
    found = [h for h in re.findall(r"\bhref\s*=\s*\"([^\"]*)\"", text) if not h.startswith("#")]
    report(not found, "every href is an anchor of the page", "; ".join(found[:3]))
    found = re.findall(r"url\(|@import|<link\b", text)
    report(not found, "no url(), @import or <link>", "; ".join(found[:3]))


def check_against_replay(tables, path):
    """The rows tables are in the order of the traces; replay's results are grouped the same."""
    results, order = json.load(open(path))["results"], []
    for r in results:
        if r["trace"] not in order:
            order.append(r["trace"])
    if len(order) != len(tables):
        report(False, "as many tables as replay's traces", "%d, %d" % (len(tables), len(order)))
        return
    for trace, table in zip(order, tables):
        rows = {row[0][0]: row for row in table[1:]}
        for r in results:
            if r["trace"] != trace or r["policy"] == "libc" or not r["ok"]:
                continue
            row = rows.get(r["policy"])
            got = (int(row[3][0]), float(row[5][0])) if row else None
            want = (r["peak_footprint"], 100 * r["utilization"])
            report(got and got[0] == want[0] and abs(got[1] - want[1]) < 1e-3,
                   "%s on %s: footprint and utilization as replay's" % (r["policy"], trace),
                   "page %s, replay %s" % (got, want))


def check_page(args):
    ap = argparse.ArgumentParser(prog="report_check.py page")
    ap.add_argument("file")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--traces", type=int)
    ap.add_argument("--maps", type=int)
    ap.add_argument("--map-of", action="append", default=[])
    ap.add_argument("--sites", action="store_true")
    ap.add_argument("--verdict")
    ap.add_argument("--max-bytes", type=int)
    ap.add_argument("--json")
    o = ap.parse_args(args)
    path = o.file
    data = open(path, "rb").read()
    text = data.decode("utf-8")
    report(text.startswith("<!DOCTYPE html>"), "doctype")
    report('<meta charset="utf-8">' in text, "charset")
    tables = check_nesting(text)
    nsvg = check_svgs(text)
    check_self_contained(text)
    report("<script>" in text and 'data-ready' in text, "the sorting script is there")
    if o.max_bytes is not None:
        report(len(data) <= o.max_bytes, "page at most %d bytes" % o.max_bytes,
               "%d bytes" % len(data))
    if o.traces is not None:
        n = o.traces
        report(len(tables) == n, "%d rows tables" % n, "found %d" % len(tables))
    if o.rows is not None:
        n = o.rows
        counts = [len(t) - 1 for t in tables]
        report(counts and all(c == n for c in counts), "%d rows per table" % n, "found %s" % counts)
        names = [r[0][0] for t in tables for r in t[1:]]
        report(all(names), "every row names its policy")
    if o.maps is not None:
        n = o.maps
        maps = len(re.findall(r"<figure><figcaption>", text))
        drawn = len(re.findall(r"<figure><figcaption>.*?</figcaption>\n<svg", text))
        report(drawn == n, "%d maps drawn" % n, "%d drawn of %d" % (drawn, maps))
    for name in o.map_of:
        found = re.search(r"<figure><figcaption>%s <.*?</figcaption>\n<svg" % re.escape(name), text)
        report(found, "a map of %s" % name)
    if o.verdict:
        v = o.verdict
        found = re.search(r'<div class="verdict">(.*?)</div>', text, re.S)
        report(found and v in found.group(1), "verdict says '%s'" % v,
               found.group(1)[:120] if found else "no verdict")
        report(found and "wastes least" in found.group(1) and "fastest" in found.group(1),
               "verdict names the least waste and the fastest")
        report(len(re.findall(r'<div class="role">', text)) >= 3, "verdict cards")
    if o.sites:
        report("<h3>Who allocates what</h3>" in text, "call-site section")
        sites = re.findall(r'<table class="sites">.*?</table>', text, re.S)
        counts = [len(re.findall(r"<tr>", s)) - 1 for s in sites]
        report(len(sites) == 2 and all(c >= 3 for c in counts), "two call-site tables of >= 3 rows",
               "found %s" % counts)
    if o.json:
        check_against_replay(tables, o.json)
    return nsvg


# ---- PNG ----

def png_pixels(path):
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(d):
        n, kind = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unexpected PNG kind: depth %d, colour type %d" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, at = zlib.decompress(idat), w * bpp, bytearray(w * bpp), 0
    for _ in range(h):
        f, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(0, stride, bpp * 4):  # every 4th pixel is plenty
            yield bytes(line[x:x + 3])
        prev = line


def check_png(args):
    try:
        pixels = list(png_pixels(args[0]))
    except Exception as e:
        report(False, "screenshot decodes", str(e))
        return
    counts = collections.Counter(pixels)
    white = counts.get(b"\xff\xff\xff", 0)
    report(len(counts) > 50, "screenshot has many colours", "%d colours" % len(counts))
    report(white < 0.97 * len(pixels), "screenshot is not blank",
           "%d of %d white" % (white, len(pixels)))
    top = counts.most_common(1)[0][1] if counts else 0
    report(top < 0.97 * len(pixels), "screenshot is not one colour")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("page", "png"):
        sys.exit(__doc__)
    (check_page if sys.argv[1] == "page" else check_png)(sys.argv[2:])
