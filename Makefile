# vigil: top-level entry points. Every target installs what it needs first.
#   make demo   build, start vigil on :8080 with live data, print what to open
#   make test   build twice (normal, ASan+UBSan) and run every test in both
#   make bench  ingest throughput against VictoriaMetrics, printed as a ratio
#   make fuzz   libFuzzer targets for the decoders (not part of CI)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
CMAKE_COMMON = -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build build-asan test test-normal test-asan demo bench fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_COMMON) >/dev/null
	ninja -C $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_DIR) $(CMAKE_COMMON) -DVIGIL_SANITIZE=ON -DVIGIL_BENCH=OFF >/dev/null
	ninja -C $(ASAN_DIR) -j $(JOBS)

test-normal: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

test: test-normal test-asan

demo: build
	bash scripts/demo.sh $(BUILD_DIR)/src/cli/vigil

bench: build
	@bash scripts/install-deps.sh --bench
	bash bench/run.sh $(BUILD_DIR)

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) $(CMAKE_COMMON) -DVIGIL_FUZZ=ON >/dev/null
	ninja -C $(FUZZ_DIR) -j $(JOBS)
	bash scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
