# pooltag — thin wrapper around CMake/CTest.
#   make demo     install deps, build, run the leak demo
#   make test     install deps, build, run every test (normal + ASan/UBSan + fuzz)
#   make install  PREFIX=/usr/local
#   make bench    the allocation benchmark, on a release build
#
# $(BUILD) is the development and test build: contracts on (PT_CONTRACTS,
# src/common/ptassert.h).  `install` and `bench` use $(RELEASE_BUILD), built
# without contracts, so that what is installed or measured is the release
# code.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
RELEASE_BUILD ?= build-release
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 3
# ctest runs one test more than there are cores: most tests spend their
# time waiting (child processes, sleeps paced by the clock, HTTP, gcore),
# so on 2 cores a third slot keeps both busy (CI: 1027 s with -j2, over
# its 15 minutes).  The heavy real-program tests hold one RESOURCE_LOCK
# (tests/real.cmake) and never run together.
CTEST_JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
CMAKE_FLAGS ?=

.PHONY: all deps build release test test-unit test-asan test-fuzz demo install bench lint clean

all: build

deps:
	bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DPT_CONTRACTS=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(RELEASE_BUILD)/CMakeCache.txt:
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DPT_CONTRACTS=OFF \
	  -DBUILD_TESTING=OFF $(CMAKE_FLAGS)

release: deps $(RELEASE_BUILD)/CMakeCache.txt
	cmake --build $(RELEASE_BUILD) -j$(JOBS)

test-unit: build
	cmake -S . -B $(BUILD) -DPT_CONTRACTS=ON >/dev/null  # (a cache made before the option)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(CTEST_JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(ASAN_BUILD) -DPT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(CTEST_JOBS) -LE nosan

$(FUZZ_BUILD)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DPT_FUZZ=ON -DBUILD_TESTING=OFF

# fuzz/run.sh builds the fuzz targets alone (they link their own
# instrumented copies of the reader and ptlib): the rest of the tree, which
# the fuzz build would otherwise compile a third time, is not needed.
test-fuzz: deps $(FUZZ_BUILD)/CMakeCache.txt
	PT_FUZZ_BUILD=$(abspath $(FUZZ_BUILD)) PT_FUZZ_JOBS=$(JOBS) bash fuzz/run.sh $(FUZZ_SECONDS)

test: test-unit test-asan test-fuzz lint

demo: build
	POOLTAG=$(BUILD)/src/cli/pooltag NOTMYFAULT=$(BUILD)/demo/notmyfault bash demo/run-demo.sh

install: release
	cmake --install $(RELEASE_BUILD) --prefix $(PREFIX)

bench: release
	$(RELEASE_BUILD)/bench/alloc_bench

# .clang-format is the editor setting for new code; existing files keep their
# hand-aligned comment columns, so lint does not enforce it.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --suppress=missingIncludeSystem -Iinclude -Isrc/common src

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(RELEASE_BUILD)
