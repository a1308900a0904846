# Every target builds its own virtual environment from pinned versions (constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench boot-bench clean venv image image-test fleet-test

$(STAMP): pyproject.toml constraints.txt scripts/ensure-system-deps
	scripts/ensure-system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/appliance demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The appliance disk image (image/README.md): root, ~2 minutes, outputs in image/out/.
image: $(STAMP)
	image/build

# Boot the image under QEMU and check the till comes up on tty1 (builds the image first).
image-test: image
	image/boot-test

# Boot-to-POS against the same image's bare boot, several pairs of QEMU boots (bench/boot_bench.py).
boot-bench: $(STAMP)
	test -e image/out/appliance.img || $(MAKE) image
	scripts/ensure-image-deps
	$(BIN)/python bench/boot_bench.py

# ansible/'s playbooks for real against the image booted under QEMU, over SSH
# (docs/operations.md, "Tests"). Reuses image/out/ when it is there, else builds it.
fleet-test: $(STAMP)
	test -e image/out/appliance.img || $(MAKE) image
	image/fleet-test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
