# Set-up, the main job and the tests. Every target installs what it needs on a fresh machine:
# the virtualenv (.venv) with the package, and the cross toolchain through apt-get.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EBNN   := $(VENV)/bin/ebnn
SIM    := $(VENV)/bin/ebnn-sim
APT_PACKAGES := gcc-arm-none-eabi picolibc-arm-none-eabi qemu-system-arm dataset-fashion-mnist clang \
                chromium
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup toolchain demo examples test lint bench fuzz clean

setup: $(STAMP) toolchain

# arm-none-eabi-gcc with picolibc builds the firmware; qemu-system-arm is the second, independent
# emulator the tests compare instruction counts against; dataset-fashion-mnist is a data set;
# clang builds the exported C library natively beside the host's gcc (tests/test_export_c.py);
# headless chromium renders the HTML profile the way a person sees it (tests/test_profile.py).
toolchain:
	@if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null && \
	    command -v clang >/dev/null && command -v chromium >/dev/null && \
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
	$(PY) -m compileall -q sim toolchain ebnn >/dev/null  # as a wheel install would
	touch $(STAMP)

# The main job: train a fresh MNIST eBNN on the bundled 5,000 images, export it, build it for the
# Curie-class target, run it in 2 KiB of SRAM and verify it bit for bit against the reference.
demo: setup
	$(EBNN) train examples/mnist/mnist.toml -o out/mnist.pt
	$(EBNN) export out/mnist.pt -o out/mnist.ebnn
	$(EBNN) eval out/mnist.ebnn --pt out/mnist.pt
	$(EBNN) build out/mnist.ebnn --target curie --sram 2k -o out/mnist.elf
	$(SIM) run out/mnist.elf --sram 2k --json out/mnist-run.json
	$(SIM) verify out/mnist.elf --model out/mnist.ebnn --json out/mnist-verify.json

# The example models trained on built-in data sets (examples/NAME, data set NAME): each is
# trained again from its config into out/examples/, exported, and compared byte for byte with
# the shipped artifact (training is deterministic for a config and seed on one CPU; another CPU
# rounds differently and trains other weights, so there the comparison fails: docs/config.md).
DATASET_EXAMPLES := digits mnist1d basicmotions

examples: setup
	@for name in $(DATASET_EXAMPLES); do \
	  out=out/examples/$$name/$$name.ebnn; shipped=examples/$$name/$$name.ebnn; \
	  $(EBNN) train examples/$$name/$$name.toml --dataset $$name -o out/examples/$$name/$$name.pt && \
	  $(EBNN) export out/examples/$$name/$$name.pt -o $$out || exit 1; \
	  cmp -s out/examples/$$name/$$name.ebnn examples/$$name/$$name.ebnn; \
	  case $$? in \
	    0) echo "$$name: $$out = $$shipped" ;; \
	    1) echo "$$name: $$out differs from $$shipped: expected on a CPU other than the one that" \
	         "trained it" "(docs/config.md, [train]), a regression on that one" >&2; exit 1 ;; \
	    *) cmp $$out $$shipped; exit 1 ;; \
	  esac; \
	done

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -n auto --dist loadfile --durations=25  # one worker per core (a file's tests share a worker); the 25 slowest listed to keep the suite within its 15 min

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m bench

# The fuzzing campaign: Atheris on every parser of untrusted files, up to 100,000 inputs (or
# 30 minutes) per entry point; counts go to bench/results/fuzz.json and docs/results.md.
fuzz: setup
	$(PY) -m bench.fuzz
	$(PY) -m bench report

clean:
	rm -rf out build *.egg-info .pytest_cache .ruff_cache .mypy_cache
