#!/usr/bin/env python3
"""Every relative link of the built guide resolves: the page exists and, when the link names an
anchor, the page has an element with that id. Reads the HTML mdbook wrote (docs/book by
default), so anchors are checked as the reader's browser sees them. Exit 1 listing each broken
link with the page it is on."""
import html.parser
import os
import sys
import urllib.parse

BOOK = sys.argv[1] if len(sys.argv) > 1 else "docs/book"
# mdbook's own pages: the print view repeats every page's links, the 404 page is a template.
SKIP = {"print.html", "404.html", "toc.html"}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])


pages = {}
for root, _, files in os.walk(BOOK):
    for f in files:
        if f.endswith(".html"):
            path = os.path.relpath(os.path.join(root, f), BOOK)
            p = Page()
            with open(os.path.join(root, f), encoding="utf-8") as fh:
                p.feed(fh.read())
            pages[path] = p

if not pages:
    sys.exit(f"error: no HTML under {BOOK}; build the guide first (mdbook build docs)")

broken = []
checked = 0
for path, page in sorted(pages.items()):
    if os.path.basename(path) in SKIP:
        continue
    for href in page.links:
        url = urllib.parse.urlsplit(href)
        if url.scheme or url.netloc or href.startswith("mailto:"):
            continue
        checked += 1
        target = path
        if url.path:
            target = os.path.normpath(os.path.join(os.path.dirname(path), urllib.parse.unquote(url.path)))
            if target.endswith("/") or os.path.isdir(os.path.join(BOOK, target)):
                target = os.path.join(target, "index.html")
        if target not in pages:
            if not os.path.exists(os.path.join(BOOK, target)):
                broken.append(f"{path}: `{href}`: no file {target}")
            continue
        frag = urllib.parse.unquote(url.fragment)
        if frag and frag not in pages[target].ids:
            broken.append(f"{path}: `{href}`: {target} has no anchor #{frag}")

for b in broken:
    print(f"error: broken link in the guide: {b}", file=sys.stderr)
if broken:
    print("hint: fix the link in docs/src (anchors are the heading's text, lower-case, spaces as `-`, punctuation dropped)", file=sys.stderr)
    sys.exit(1)
print(f"guide links: {checked} relative links in {len(pages)} pages resolve")
