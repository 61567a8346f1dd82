"""requirements.txt pins the book's direct dependencies; requirements.lock pins
everything they pull in as well (`make install` uses it as constraints). A pin
changed in one must change in the other, by `make lock`: otherwise pip would
refuse the conflicting pair, or install what the book was never built with."""

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

REQUIREMENTS = ROOT / "requirements.txt"
LOCK = ROOT / "requirements.lock"


def pinned_versions(path):
    """{canonical name: version} of every `name==version` line of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        if exact:
            pins[canonicalize_name(requirement.name)] = exact[0]
    return pins


def test_every_pin_of_requirements_has_the_same_version_in_the_lock():
    wanted, locked = pinned_versions(REQUIREMENTS), pinned_versions(LOCK)
    assert wanted, "requirements.txt pins nothing"
    drifted = {name: (version, locked.get(name)) for name, version in wanted.items()
               if locked.get(name) != version}
    assert not drifted, f"(requirements.txt, requirements.lock) differ, run `make lock`: {drifted}"


def test_the_lock_pins_every_package_and_says_how_to_refresh_it():
    lines = LOCK.read_text().splitlines()
    packages = [line for line in lines if line and not line.lstrip().startswith("#")]
    assert packages and all("==" in line for line in packages), [p for p in packages if "==" not in p]
    header = "\n".join(line for line in lines[:5] if line.startswith("#"))
    assert "Python 3.11 on Linux x86-64" in header and "make lock" in header
