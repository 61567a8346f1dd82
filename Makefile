# Hands-On CNNs: the two commands of the README, and the ones behind them.
#   make book     install what is needed, then build the HTML book into _build/html
#   make test     install what is needed, then run every test (pytest)
#   make outputs  re-run every notebook at full settings (stored outputs) and at
#                 quick settings, and rewrite the README's runtime table
#   make quick    run every notebook at the quick (workshop) settings into results/quick/

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DATA    = /usr/share/datasets/fashion-mnist

.PHONY: book test outputs quick install data clean

book: install data
	$(BIN)/jupyter-book build . --warningiserror --keep-going

test: install data
	$(BIN)/python -m pytest

outputs: install data
	$(BIN)/python scripts/run_notebooks.py --full --quick --update-readme

quick: install data
	$(BIN)/python scripts/run_notebooks.py --quick

install: $(STAMP)

# Re-installs whenever the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3"
	touch $(STAMP)

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
	rm -rf _build results/quick
