#!/usr/bin/env python3
"""Replaces the section NAME of FILE (between <!-- NAME:begin --> and <!-- NAME:end -->)
with stdin, adding it at the end when absent; the file is replaced atomically."""
import os, sys

name, path = sys.argv[1], sys.argv[2]
begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
section = f"{begin}\n{sys.stdin.read().rstrip()}\n{end}\n"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
if begin in text and end in text:
    text = text[:text.index(begin)] + section + text[text.index(end) + len(end) + 1:]
else:
    text = text.rstrip() + "\n\n" + section
with open(path + ".tmp", "w") as out:
    out.write(text)
os.replace(path + ".tmp", path)
