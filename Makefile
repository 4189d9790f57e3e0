# Set-up, the main job and the tests. Every target installs what it needs on a fresh machine:
# the virtualenv (.venv) with the package, and the cross toolchain through apt-get.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
APT_PACKAGES := gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm dataset-fashion-mnist
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup toolchain demo test lint bench clean

setup: $(STAMP) toolchain

# arm-none-eabi-gcc with picolibc builds the firmware; qemu-system-arm is the second, independent
# emulator the tests compare instruction counts against; dataset-fashion-mnist is a data set.
toolchain:
	@if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null && \
	    test -f "$$(arm-none-eabi-gcc -print-file-name=picolibc.specs)" && \
	    test -f $(FASHION_MNIST); then :; else \
	  echo "installing $(APT_PACKAGES) with apt-get"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES); \
	fi

# torch==2.13.0 is the CPU build on this machine's disk; any other spec downloads a CUDA build.
$(STAMP): pyproject.toml setup.py sim/_blockhook.c
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[ml,dev]'
	touch $(STAMP)

# The main job: build the demo firmware for the Curie-class target and run it in 15 KiB of SRAM.
demo: setup
	$(VENV)/bin/ebnn-sim build examples/demo/binary_dot.c -o out/demo.elf --target curie
	$(VENV)/bin/ebnn-sim run out/demo.elf --sram 15k --json out/demo.json

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) -m bench

clean:
	rm -rf out build *.egg-info .pytest_cache .ruff_cache
