"""Every public function and class of `helpers` serves a learner: a chapter
notebook or a teaching page calls it, directly or through another helper
that is used. What only maintainers run belongs in `bookkit` or `scripts`."""

import ast
import json
import re

from conftest import NOTEBOOKS, ROOT

# Public names written for a chapter that does not call them yet; each entry
# names the work that will. The test fails once a pending name is used, so
# that the list only shrinks.
PENDING = {
}


def referenced(node) -> set:
    """The identifiers a piece of code refers to (names and attributes; not
    the words of its docstrings or comments)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def definitions():
    """{"module.name": identifiers its body refers to} for every top-level
    function and class of the helpers package, private ones included (they
    pass the use on), and {"module": identifiers} of each module's code
    outside them (constants, registries), which runs on import."""
    defined, module_level = {}, {}
    for path in sorted((ROOT / "helpers").glob("*.py")):
        tree = ast.parse(path.read_text())
        outside = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined[f"{path.stem}.{node.name}"] = referenced(node) - {node.name}
            else:
                outside |= referenced(node)
        module_level[path.stem] = outside
    return defined, module_level


def learner_code():
    """The code cells of every chapter notebook and the text of every page."""
    cells = []
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text())
        cells += ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    pages = [path.read_text() for path in (ROOT / "book").rglob("*.md")]
    return "\n".join(cells + pages)


def used_names(defined, module_level, text):
    """The definitions that the learners' `text` names (by bare name), and
    those reachable from them or from module-level code through the
    definitions' own references."""
    by_bare_name = {}
    for name in defined:
        by_bare_name.setdefault(name.split(".")[1], []).append(name)
    used = {name for name in defined if re.search(rf"\b{name.split('.')[1]}\b", text)}
    # `python -m helpers.<module>` runs that module's main()
    used |= {name for name in defined if name.endswith(".main")
             and f"helpers.{name.split('.')[0]}" in text}
    frontier = list(used) + [None]
    references = set().union(*module_level.values())
    while frontier:
        name = frontier.pop()
        for bare in (references if name is None else defined[name]):
            for target in by_bare_name.get(bare, []):
                if target not in used:
                    used.add(target)
                    frontier.append(target)
    return used


def test_every_public_helper_is_used_by_a_chapter_or_page():
    defined, module_level = definitions()
    public = {name for name in defined if not name.split(".")[1].startswith("_")}
    used = used_names(defined, module_level, learner_code())
    unused = sorted(public - used - set(PENDING))
    assert not unused, f"helpers that no chapter or page uses (move them to bookkit or scripts): {unused}"
    now_used = sorted(set(PENDING) & used)
    assert not now_used, f"these are used now: take them off PENDING: {now_used}"
    assert set(PENDING) <= public, set(PENDING) - public
