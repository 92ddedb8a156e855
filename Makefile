# boardemu — see README.md. `make setup` once on a fresh machine, then `make test`.
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT_PACKAGES := gcc libc6-dev gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi \
                firmware-microbit-micropython qemu-system-arm gdb-multiarch make
JOBS ?= 2

.PHONY: setup apt python firmware test bench lint clean

setup: apt python firmware

apt:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES)

python:
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e '.[dev]'
	$(PYTHON) -m boardemu.emulator.native

firmware:
	$(MAKE) -C firmware

test: firmware
	$(PYTHON) -m pytest -q -n $(JOBS) tests

bench: firmware
	$(PYTHON) bench/run.py

lint:
	$(PYTHON) -m ruff check emulator peripherals boards boardemu scenarios tests bench

clean:
	$(MAKE) -C firmware clean
