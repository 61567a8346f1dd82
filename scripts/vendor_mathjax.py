#!/usr/bin/env python3
"""Copy MathJax 3 into _vendor/mathjax/, from which the website serves it.

    python scripts/vendor_mathjax.py      # `make install` runs it

The book's pages render their maths with MathJax. Sphinx loads it from a CDN
unless told otherwise, and a page read offline (a workshop room without
Wi-Fi, or `_build/html` opened from disk) would then show raw LaTeX.
_config.yml instead serves the copy in _vendor/ (`html_static_path`) and
points `mathjax_path` at it. MathJax comes from PyPI, pinned in
requirements.txt: the `django-static-mathjax` distribution holds the official
build of MathJax 3.2.2 (its `es5/` folder) and nothing else that Python
imports at run time, so `make install` needs no npm.

The copy holds the one combined component the pages load (`tex-chtml.js`)
and every folder it loads from on demand (fonts, TeX extensions, the menu's
accessibility and renderer options); the other combined components are left
out. _vendor/ is ignored by git.
"""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "django-static-mathjax"
ES5 = "mathjax/static/mathjax/es5"  # inside the distribution
TARGET = ROOT / "_vendor" / "mathjax"
BUNDLE = "tex-chtml.js"  # _config.yml's mathjax_path: mathjax/tex-chtml.js


def source() -> Path:
    """The es5/ folder of the installed MathJax distribution."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise SystemExit(f"{DISTRIBUTION} is not installed: run `make install` "
                         "(it installs requirements.txt, then copies MathJax).") from None
    es5 = Path(dist.locate_file(ES5))
    if not (es5 / BUNDLE).is_file():
        raise SystemExit(f"{DISTRIBUTION} {dist.version} has no {ES5}/{BUNDLE}.")
    return es5


def vendor(es5: Path, target: Path = TARGET) -> Path:
    """Make `target` hold the bundle and every subfolder of `es5`; return the bundle's path."""
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for entry in sorted(es5.iterdir()):
        if entry.is_dir():
            shutil.copytree(entry, staging / entry.name)
    shutil.copy2(es5 / BUNDLE, staging / BUNDLE)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # never a half-copied folder under the final name
    return target / BUNDLE


if __name__ == "__main__":
    bundle = vendor(source())
    size = sum(p.stat().st_size for p in TARGET.rglob("*") if p.is_file())
    print(f"MathJax from {DISTRIBUTION} {metadata.version(DISTRIBUTION)}: "
          f"{bundle.relative_to(ROOT)} and its folders ({size / 1e6:.1f} MB)")
    sys.exit(0)
