"""Two fixes to the HTML pages, so that the site works offline and without
errors in the browser's console (tests/test_site_in_browser.py checks both).

- Sphinx 7.4 lists an inline script twice when an extension adds it after the
  builder has started, as sphinx-thebe does with `const THEBE_JS_URL = ...`:
  the second copy is a SyntaxError on every page. Each page keeps the first
  of identical scripts.
- Matplotlib's animations (`to_jshtml`, chapter 2) link Font Awesome 4.4 from
  a CDN for their buttons' icons. The theme already serves Font Awesome
  itself, which draws those icons (fa-play, fa-pause, ...), so the pages drop
  the link; the notebooks keep it (on Colab it loads as usual).
"""

import re

CDN_FONT_AWESOME = re.compile(
    r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[\d.]+/css/'
    r'font-awesome\.min\.css">\s*')


def _script_key(script):
    attributes = getattr(script, "attributes", {})
    return (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))


def fix_page(app, pagename, templatename, context, doctree):
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts
    if "body" in context:
        context["body"] = CDN_FONT_AWESOME.sub("", context["body"])


def setup(app):
    app.connect("html-page-context", fix_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
