"""Every public function and class of `helpers` serves a learner: a chapter's
code calls it by its module and name (or a page runs its module's main, as the
setup check), directly or through another helper that is used. Tests,
scripts and prose do not count. What only maintainers run belongs in
`bookkit` or `scripts`."""

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


def notebook_references(source: str) -> set:
    """The helpers a chapter's code cell names, as "module.name": attributes of
    a name (`data.load_fashion_mnist`, `helpers.quiet_tensorflow`) and names
    imported from a module (`from helpers.speed import throughput`). IPython's
    magics (`%pip`, `!ls`) are left out."""
    code = "\n".join(line[:len(line) - len(line.lstrip())] + "pass"  # keeps an if-block valid
                     if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found.add(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers."):
            found |= {f"{node.module.split('.')[1]}.{alias.name}" for alias in node.names}
    # A cell that writes a helper out in full says "# saved as helpers.<module>.<name>"
    # (tests/test_cells_match_helpers.py holds the two equal).
    found |= {f"{module}.{name}" for module, name in re.findall(r"# saved as helpers\.(\w+)\.(\w+)", source)}
    return found


def learner_references() -> set:
    """What learners call: the helpers that the chapters' code cells name, and
    the main() of every module that a page runs with `python -m helpers.<module>`
    (the setup check)."""
    found = set()
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                found |= notebook_references("".join(cell["source"]))
    for page in (ROOT / "book").rglob("*.md"):
        found |= {f"{module}.main" for module in re.findall(r"python -m helpers\.(\w+)", page.read_text())}
    return found


def used_names(defined, module_level, references):
    """The definitions that learners call (`references`, as "module.name";
    "helpers.name" for what the package itself exports), and those reachable
    from them or from module-level code through the definitions' own
    references."""
    by_bare_name = {}
    for name in defined:
        by_bare_name.setdefault(name.split(".")[1], []).append(name)
    used = {name for name in defined if name in references
            or f"helpers.{name.split('.')[1]}" in references}
    frontier = list(used) + [None]
    module_references = set().union(*module_level.values())
    while frontier:
        name = frontier.pop()
        for bare in (module_references if name is None else defined[name]):
            for target in by_bare_name.get(bare, []):
                if target not in used:
                    used.add(target)
                    frontier.append(target)
    return used


def test_a_cells_references_are_qualified_names_not_words():
    cell = ("%pip install something\nfrom helpers.speed import throughput\n"
            "x = data.load_fashion_mnist()  # train the model\nprint('shift')\n"
            "# saved as helpers.conv.conv2d_loops\ndef conv2d_loops(): pass")
    assert notebook_references(cell) == {"speed.throughput", "data.load_fashion_mnist",
                                         "conv.conv2d_loops"}


def test_every_public_helper_is_used_by_a_chapter_or_page():
    defined, module_level = definitions()
    public = {name for name in defined if not name.split(".")[1].startswith("_")}
    used = used_names(defined, module_level, learner_references())
    unused = sorted(public - used - set(PENDING))
    assert not unused, f"helpers that no chapter or page uses (move them to bookkit or scripts): {unused}"
    now_used = sorted(set(PENDING) & used)
    assert not now_used, f"these are used now: take them off PENDING: {now_used}"
    assert set(PENDING) <= public, set(PENDING) - public
