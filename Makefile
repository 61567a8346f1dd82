# Hands-On CNNs: the two commands of the README, and the ones behind them.
#   make book     install what is needed, then build the HTML book into _build/html
#   make test     install what is needed, then run every test (pytest): what CI runs
#   make test-fast  the unit and hygiene tests only (a few minutes): no virtualenv
#                 build, no book build, no notebook or browser run, no network;
#                 leaves out the tests marked slow or integration (pyproject.toml)
#   make studies  run the reproduction study that chapters 8 and 9 read (hours;
#                 resumable: a run already in a study file is not repeated)
#   make outputs  re-run every notebook at full settings (stored outputs) and at
#                 quick settings, and rewrite the README's runtime table
#   make quick    run every notebook at the quick (workshop) settings into results/quick/
#   make student  write the student notebooks (solutions replaced by "Your turn" cells,
#                 quick settings in the parameters cells) into student/ and
#                 student-notebooks.zip, and their Colab links into book/workshop.md
#   make lab      open the notebooks in JupyterLab
#   make screenshots  build the book and read every page in Chromium, offline
#                 (the browser test), keeping a full-page screenshot of each
#                 in _build/screenshots
#   make colab-check  run every chapter outside the repository, as on Colab, with
#                 the oldest and the newest library versions the package supports
#   make lock     re-pin every indirect dependency in requirements.lock after a
#                 change to requirements.txt

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
MATHJAX = _vendor/mathjax/tex-chtml.js
DATA    = /usr/share/datasets/fashion-mnist

.PHONY: book test test-fast studies outputs quick student lab screenshots colab-check install lock data clean

book: install data
	$(BIN)/jupyter-book build . --warningiserror --keep-going

test: install data
	$(BIN)/python -m pytest

# tests/ alone, without nbval (whose options addopts would pass) and without
# the tests marked slow or integration. Tests that read the real data skip
# where it is not installed (`make data`).
test-fast: install
	$(BIN)/python -m pytest -p no:nbval -o addopts="-p no:cacheprovider --durations=10" \
		-m "not slow and not integration" tests

studies: install data
	$(BIN)/python scripts/run_studies.py --full
	$(BIN)/python scripts/sync_book_results.py

outputs: install data
	$(BIN)/python scripts/run_notebooks.py --full --quick --update-readme
	$(BIN)/python scripts/sync_book_results.py

quick: install data
	$(BIN)/python scripts/run_notebooks.py --quick

# Nothing is executed: the notebooks are copied, their solutions cut out. The
# students open them on Colab from the repository's `student` branch.
student: install
	$(BIN)/python scripts/make_student.py --update-page

lab: install data
	$(BIN)/jupyter lab notebooks/

# Needs Debian's chromium (apt-get install chromium); the test skips without it.
screenshots: install
	SITE_SCREENSHOTS=_build/screenshots $(BIN)/python -m pytest tests/test_site_in_browser.py -p no:randomly -s

# Not part of `make test`: a new release must not block a landing. Each end
# builds a fresh virtualenv (a few minutes) and runs all twelve chapters; then
# every student notebook runs at its quick setting (`make test` checks them
# without running them).
colab-check: install data
	RUN_STUDENT_NOTEBOOKS=1 $(BIN)/python -m pytest tests/test_student.py -p no:randomly
	STANDALONE_STACK=oldest $(BIN)/python -m pytest tests/test_standalone.py -p no:randomly -s
	STANDALONE_STACK=latest $(BIN)/python -m pytest tests/test_standalone.py -p no:randomly -s \
		> $(VENV)/colab-check-latest.log; status=$$?; cat $(VENV)/colab-check-latest.log; exit $$status
	$(BIN)/python scripts/run_notebooks.py --standalone-times $(VENV)/colab-check-latest.log --update-readme

install: $(STAMP) $(MATHJAX)

# Re-installs whenever the pins or the package metadata change. The lock holds
# every indirect dependency to the version the book was last built with.
$(STAMP): requirements.txt requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	touch $(STAMP)

# MathJax for the website, copied from its pinned PyPI package into _vendor/
# (ignored by git), which _config.yml serves: pages render maths offline.
$(MATHJAX): $(STAMP) scripts/vendor_mathjax.py
	$(BIN)/python scripts/vendor_mathjax.py
	touch $(MATHJAX)

# requirements.lock: every package of the book build and the tests, pinned,
# for Python 3.11 on Linux x86-64 (where CI runs); uv resolves for
# that platform from any machine, and keeps the lock's other pins wherever
# requirements.txt still allows them. Not `install` first: that would install
# with the stale lock this target replaces.
UV          = uv==0.13.9
LOCK_TARGET = --python-version 3.11 --python-platform x86_64-unknown-linux-gnu

lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(UV)
	$(BIN)/uv pip compile requirements.txt $(LOCK_TARGET) --quiet --no-header --output-file requirements.lock
	printf '%s\n' \
		'# Every package of the book build and the tests, pinned: Python 3.11 on Linux x86-64.' \
		'# Generated from requirements.txt by uv pip compile. Refresh it with:  make lock' \
		'# make install uses it as constraints: pip install -r requirements.txt -c requirements.lock' \
		| cat - requirements.lock > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock

# Fashion-MNIST from Debian's package when apt is at hand; otherwise the
# loader lets Keras download it on first use (or set FASHION_MNIST_DIR).
data:
	@if [ -n "$$FASHION_MNIST_DIR" ] || [ -f $(DATA)/t10k-labels-idx1-ubyte.gz ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then \
		sudo apt-get update -qq && sudo apt-get install -y -qq dataset-fashion-mnist || \
		echo "Could not install dataset-fashion-mnist; Keras will download the data on first use."; \
	else \
		echo "No apt-get here: Keras will download Fashion-MNIST on first use (or set FASHION_MNIST_DIR)."; \
	fi

clean:
	rm -rf _build results/quick student student-notebooks.zip
