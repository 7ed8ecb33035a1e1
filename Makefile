# medscribe — one Go binary with whisper.cpp and llama.cpp linked in.
#
#   make run     build, generate test models if no real ones are configured, start the server
#   make test    the whole test suite (installs what it needs on Debian)
#   make build   bin/medscribe
#
# Native code: llama.cpp comes with github.com/ollama/ollama/llama (compiled by cgo);
# whisper.cpp comes from the whisper.rn npm tarball, whose ggml symbols are prefixed
# wsp_ so both ggml copies live in one binary. Both are built for ISA (default: this
# host's CPU; ISA=x86-64-v3 for a portable AVX2 build).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO      ?= go
ISA     ?= native
JOBS    ?= $(shell nproc)
ROOT    := $(abspath .)
# Native objects of other ISAs build beside the default ones.
NATIVE  := $(ROOT)/build/native$(if $(filter native,$(ISA)),,-$(ISA))
BIN     ?= bin/medscribe

WHISPER_RN_VERSION := 0.7.4
WHISPER_RN_SHA256  := 268af5c2279fff64db016759b35386177386eca5990b71fd515e9d138dd54f1c
LLAMA_RN_VERSION   := 0.12.9
LLAMA_RN_SHA256    := 7069fbf1db95f07cfd9bfbbd0d160be5c0d329c5985868e00c3248338598bca5

OPT := -O3 -march=$(ISA)

export GOFLAGS      := -buildvcs=false -tags=sqlite_fts5
export CGO_ENABLED  := 1
# whisper's headers go last on the search path (-idirafter) so they never shadow
# ollama's ggml.h; llama.cpp's missing vendor headers come from llama.rn.
export CGO_CFLAGS   := $(OPT) -idirafter $(NATIVE)/whisper/include
export CGO_CXXFLAGS := $(OPT)
export CGO_CPPFLAGS := -I$(NATIVE)/llama-vendor
export CGO_LDFLAGS  := -L$(NATIVE)/lib

# Serialize native compiles across concurrent make/go invocations on a small machine.
LOCK := flock /tmp/medscribe-cgo.lock

# ---------------------------------------------------------------------------
# native: fetch the two npm tarballs, verify, patch, build libwhisper.a

DL := $(NATIVE)/dl
WSRC := $(NATIVE)/whisper/src
WOBJ := $(NATIVE)/whisper/obj

WHISPER_C := ggml.c ggml-alloc.c ggml-quants.c ggml-cpu/ggml-cpu.c ggml-cpu/quants.c \
	ggml-cpu/arch/x86/quants.c
WHISPER_CXX := whisper.cpp ggml.cpp ggml-backend.cpp ggml-backend-meta.cpp ggml-backend-reg.cpp \
	ggml-backend-dl.cpp ggml-opt.cpp ggml-threading.cpp gguf.cpp \
	ggml-cpu/ggml-cpu.cpp ggml-cpu/traits.cpp ggml-cpu/repack.cpp ggml-cpu/unary-ops.cpp \
	ggml-cpu/binary-ops.cpp ggml-cpu/vec.cpp ggml-cpu/ops.cpp ggml-cpu/amx/amx.cpp \
	ggml-cpu/amx/mmq.cpp ggml-cpu/arch/x86/repack.cpp
# ggml.c and ggml.cpp (and ggml-cpu.c/.cpp) share a stem: objects keep the extension.
WHISPER_OBJ := $(addprefix $(WOBJ)/,$(WHISPER_C:=.o) $(WHISPER_CXX:=.o))
WDEFS := -DWSP_GGML_USE_CPU -DWSP_GGML_USE_CPU_REPACK -D_GNU_SOURCE -DNDEBUG \
	-I$(WSRC) -I$(WSRC)/ggml-cpu -fPIC -pthread $(OPT)

$(DL)/whisper.rn-$(WHISPER_RN_VERSION).tgz:
	@mkdir -p $(DL)
	cd $(DL) && npm pack --silent whisper.rn@$(WHISPER_RN_VERSION) >/dev/null

$(DL)/llama.rn-$(LLAMA_RN_VERSION).tgz:
	@mkdir -p $(DL)
	cd $(DL) && npm pack --silent llama.rn@$(LLAMA_RN_VERSION) >/dev/null

$(DL)/verified: $(DL)/whisper.rn-$(WHISPER_RN_VERSION).tgz $(DL)/llama.rn-$(LLAMA_RN_VERSION).tgz
	cd $(DL) && printf '%s  %s\n%s  %s\n' \
		$(WHISPER_RN_SHA256) whisper.rn-$(WHISPER_RN_VERSION).tgz \
		$(LLAMA_RN_SHA256) llama.rn-$(LLAMA_RN_VERSION).tgz | sha256sum --quiet -c -
	touch $@

# Unpack whisper.cpp + ggml and rename the two things whisper.rn's wsp_ prefix
# missed (the C++ namespace ggml::cpu and the dl_* helpers), which would
# otherwise collide with ollama's ggml at link time; then apply our patches
# (speech/whisper/patches: why each is needed is written at its top).
WPATCHES := $(sort $(wildcard $(ROOT)/speech/whisper/patches/*.patch))
$(WSRC)/.patched: $(DL)/verified $(WPATCHES)
	rm -rf $(WSRC) && mkdir -p $(WSRC) $(NATIVE)/whisper/include
	tar xzf $(DL)/whisper.rn-$(WHISPER_RN_VERSION).tgz -C $(WSRC) --strip-components=2 package/cpp
	grep -rlE '\bggml::cpu\b|\bdl_(load_library|get_sym|error)\b' $(WSRC) --include='*.c' --include='*.cpp' --include='*.h' \
		| xargs sed -i -E 's/\bggml::cpu\b/wsp_ggml::cpu/g; s/\bdl_(load_library|get_sym|error)\b/wsp_dl_\1/g'
	for p in $(WPATCHES); do (cd $(WSRC) && git apply -p1 $$p); done
	cp $(WSRC)/whisper.h $(WSRC)/ggml.h $(WSRC)/ggml-cpu.h $(WSRC)/ggml-backend.h $(WSRC)/ggml-alloc.h \
		$(WSRC)/ggml-opt.h $(WSRC)/gguf.h $(NATIVE)/whisper/include/
	touch $@

$(NATIVE)/llama-vendor/.done: $(DL)/verified
	rm -rf $(NATIVE)/llama-vendor && mkdir -p $(NATIVE)/llama-vendor
	tar xzf $(DL)/llama.rn-$(LLAMA_RN_VERSION).tgz -C $(NATIVE)/llama-vendor --strip-components=2 \
		package/cpp/nlohmann
	tar xzf $(DL)/llama.rn-$(LLAMA_RN_VERSION).tgz -C $(NATIVE)/llama-vendor --strip-components=4 \
		package/cpp/tools/mtmd/miniaudio package/cpp/tools/mtmd/stb
	test -f $(NATIVE)/llama-vendor/nlohmann/json.hpp -a -f $(NATIVE)/llama-vendor/miniaudio/miniaudio.h \
		-a -f $(NATIVE)/llama-vendor/stb/stb_image.h
	touch $@

# The sources exist once the tarball is unpacked.
$(addprefix $(WSRC)/,$(WHISPER_C) $(WHISPER_CXX)): $(WSRC)/.patched ;

$(WOBJ)/%.c.o: $(WSRC)/%.c $(WSRC)/.patched
	@mkdir -p $(dir $@)
	@echo "cc  $*.c"
	@gcc -std=c11 $(WDEFS) -c $< -o $@

$(WOBJ)/%.cpp.o: $(WSRC)/%.cpp $(WSRC)/.patched
	@mkdir -p $(dir $@)
	@echo "c++ $*.cpp"
	@g++ -std=c++17 $(WDEFS) -c $< -o $@

# The Go bindings link -lwhisper -lggml -lggml-base -lggml-cpu: everything is in
# libwhisper.a, the other three are empty archives so the flags resolve.
$(NATIVE)/lib/libwhisper.a: $(WHISPER_OBJ)
	@mkdir -p $(NATIVE)/lib
	rm -f $@ && ar rcs $@ $^
	for l in ggml ggml-base ggml-cpu; do rm -f $(NATIVE)/lib/lib$$l.a; ar rcs $(NATIVE)/lib/lib$$l.a; done

# Recorded so that `version` can say what the binary was built for, and so that
# the binary refuses to start on a CPU without these features.
$(NATIVE)/isa-$(ISA).txt:
	@mkdir -p $(NATIVE)
	gcc -march=$(ISA) -dM -E - </dev/null | sed -nE 's/^#define __(AVX512F|AVX512BW|AVX512VL|AVX2|AVX|FMA|F16C|BMI2|SSE4_2|SSSE3)__ 1$$/\1/p' \
		| tr 'A-Z' 'a-z' | sort | paste -sd, > $@

.PHONY: native
native:
	@$(MAKE) --no-print-directory -j$(JOBS) $(NATIVE)/lib/libwhisper.a $(NATIVE)/llama-vendor/.done $(NATIVE)/isa-$(ISA).txt
	@printf 'export CGO_ENABLED=1\nexport GOFLAGS="%s"\nexport CGO_CFLAGS="%s"\nexport CGO_CXXFLAGS="%s"\nexport CGO_CPPFLAGS="%s"\nexport CGO_LDFLAGS="%s"\n' \
		"$(GOFLAGS)" "$(CGO_CFLAGS)" "$(CGO_CXXFLAGS)" "$(CGO_CPPFLAGS)" "$(CGO_LDFLAGS)" > $(NATIVE)/env.sh

# ---------------------------------------------------------------------------
# Go

PKG := github.com/medscribe/medscribe/cmd/medscribe/internal/buildinfo
LDFLAGS = -X '$(PKG).ISA=$(ISA)' \
	-X '$(PKG).Features=$(shell cat $(NATIVE)/isa-$(ISA).txt)' \
	-X '$(PKG).NativeHash=$(shell sha256sum $(NATIVE)/lib/libwhisper.a | cut -c1-16)' \
	-X '$(PKG).WhisperRN=$(WHISPER_RN_VERSION)' \
	-X '$(PKG).CFlags=$(OPT)'

.PHONY: build
build: native
	@mkdir -p $(dir $(BIN))
	$(LOCK) $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/medscribe

.PHONY: generate
generate:
	$(GO) tool templ generate -path web
	$(GO) generate ./fhir/...

.PHONY: testmodels
testmodels: build
	./$(BIN) testmodels

.PHONY: run
run: build
	./$(BIN) serve $(ARGS)

.PHONY: deps
deps:
	./.ci/deps

.PHONY: test
test: deps build
	$(GO) test -count=1 -timeout 40m ./...

# Every fuzz target for a short run (CI). Budgets are counts, not durations:
# Go 1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" when a -fuzztime duration ends while a worker is busy, and counts
# do the same work on every machine. The importers write SQLite on every run
# (about 50 a second), so they get fewer. Minimizing a new input is capped
# too: at its default of 60 s it ate the whole budget of the slow targets.
# For a long run: make fuzz-ci FUZZRUNS=10m FUZZSLOWRUNS=10m.
FUZZRUNS     ?= 50000x
FUZZSLOWRUNS ?= 400x
FUZZSLOW     := FuzzImportICD10CMCodes FuzzImportRxNormRRF
FUZZLOG      := $(ROOT)/build/fuzz.log
.PHONY: fuzz-ci
fuzz-ci: native
	@set -e; for f in $$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz'); do \
		dir=$$(dirname $$f); \
		for t in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]+)\(.*/\1/p' $$f); do \
			case " $(FUZZSLOW) " in *" $$t "*) n=$(FUZZSLOWRUNS);; *) n=$(FUZZRUNS);; esac; \
			echo "fuzz $$dir $$t ($$n)"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $$n -fuzzminimizetime 100x ./$$dir >$(FUZZLOG) 2>&1 \
				|| { tail -n 40 $(FUZZLOG); echo "failing input kept under $$dir/testdata/fuzz/$$t"; exit 1; }; \
		done; \
	done

.PHONY: test-race
test-race: native
	$(GO) test -race -count=1 ./fhir/... ./speech/ ./extract/ ./realtime/ ./db/...

.PHONY: lint
lint: native
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool templ generate -path web >/dev/null
	git diff --exit-code -- web || { echo "templ output is stale: run make generate and commit"; exit 1; }

.PHONY: models
models: build
	./$(BIN) models pull

# ggml's CUDA backend as loadable libraries for serve/bench --gpu-libs (on a
# machine with CUDA's nvcc and CMake). GGML_SRC defaults to the pinned ollama
# module's ggml sources.
CUDA_ARCH ?= 90-real
GGML_SRC  ?= $(shell $(GO) list -m -f '{{.Dir}}' github.com/ollama/ollama 2>/dev/null)/ml/backend/ggml/ggml
CUDA_OUT  := $(ROOT)/build/cuda
.PHONY: cuda
cuda:
	@command -v nvcc >/dev/null || { echo "make cuda: CUDA's nvcc is not on PATH" >&2; exit 1; }
	cmake -S extract/llama/cuda -B $(CUDA_OUT)/cmake -DGGML_SRC=$(GGML_SRC) -DCMAKE_CUDA_ARCHITECTURES=$(CUDA_ARCH) \
		$$(command -v ninja >/dev/null && echo -G Ninja)
	cmake --build $(CUDA_OUT)/cmake -j $(JOBS)
	cudalib=$$(dirname $$(dirname $$(readlink -f $$(command -v nvcc))))/lib64; \
		cp -P $$cudalib/libcudart.so* $$cudalib/libcublas.so* $$cudalib/libcublasLt.so* $(CUDA_OUT)/cmake/lib/ollama/
	@echo "GPU backend ready: --gpu-libs $(CUDA_OUT)/cmake/lib/ollama"

.PHONY: clean
clean:
	rm -rf bin build/native/whisper build/native/lib
