# Bulwark — top-level entry points. See README.md.
PRESET ?= debug
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: deps configure build test test-unit test-tpm demo bench asan fuzz clean

deps:
	bash scripts/deps.sh

configure:
	cmake --preset $(PRESET) -B $(BUILD_DIR) >/dev/null

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	@mkdir -p build/bin

test:
	$(MAKE) deps
	$(MAKE) build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-tpm: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L tpm

bench: deps
	$(MAKE) build PRESET=release BUILD_DIR=build-release
	./scripts/bench.sh build-release

asan: deps
	$(MAKE) build PRESET=asan BUILD_DIR=build-asan
	cd build-asan && ctest --output-on-failure -j $(JOBS) -L 'unit|fuzz'

demo:
	$(MAKE) deps
	$(MAKE) build
	if [ -x scripts/demo.sh ]; then ./scripts/demo.sh $(BUILD_DIR); else ./scripts/demo-quote.sh $(BUILD_DIR); fi

clean:
	rm -rf build build-asan build-release
