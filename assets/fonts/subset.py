#!/usr/bin/env python3
"""Rebuilds kapok's embedded chart font (a maintainer's tool; builds and tests never run it).

Needs Debian's fonts-noto-cjk and fontTools (`pip install fonttools`). Run from the repository
root:  python3 assets/fonts/subset.py
"""
import glob
import subprocess
import sys

from fontTools.ttLib import TTCollection

TTC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FACE = 2  # Noto Sans CJK SC (Simplified Chinese)
OUT = "assets/fonts/NotoSansSC-kapok-subset.otf"

chars = set()
# GB2312: every character the encoding can express (rows 0xA1-0xF7, cells 0xA1-0xFE).
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
# Latin, Latin-1, general punctuation, arrows, maths and shapes used in charts.
ranges = [(0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F), (0x2190, 0x21FF),
          (0x2212, 0x2212), (0x25A0, 0x25FF), (0x3000, 0x303F), (0xFF00, 0xFFEF)]
for a, b in ranges:
    chars.update(chr(c) for c in range(a, b + 1))
# Every character of the sample data's names and frameworks (street names such as 茶滘 东漖
# 石碁 are outside GB2312), and of kapok's own chart labels.
sources = (glob.glob("data/reference/*.csv") + glob.glob("data/*.csv")
           + glob.glob("indicators/*.toml") + glob.glob("data/tiles-*.csv")
           + glob.glob("src/chart/*.rs"))
for path in sources:
    with open(path, encoding="utf-8") as f:
        chars.update(c for c in f.read() if ord(c) >= 0x80)

face = TTCollection(TTC).fonts[FACE]
face.save("/tmp/NotoSansCJKsc-Regular.otf")
text = "".join(sorted(chars))
with open("/tmp/kapok-font-chars.txt", "w", encoding="utf-8") as f:
    f.write(text)
subprocess.run([
    sys.executable, "-m", "fontTools.subset", "/tmp/NotoSansCJKsc-Regular.otf",
    "--text-file=/tmp/kapok-font-chars.txt", "--output-file=" + OUT,
    "--layout-features=", "--no-hinting", "--desubroutinize",
    "--name-IDs=*", "--name-languages=*", "--notdef-outline",
], check=True)
print(OUT, len(text), "characters requested")
