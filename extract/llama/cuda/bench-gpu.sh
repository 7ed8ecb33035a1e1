#!/usr/bin/env bash
# The GPU benchmark of issue 7, as run on a lent H100: builds ggml's CUDA
# backend from the pinned ollama sources, generates the random-weight
# Gemma-3-27B-shaped Q4_K model and the 270M-shaped draft, and runs
# `medscribe bench llm` on the GPU. The machine has no network, so
# everything comes from the folder given as $1 (default build/gpu):
#   medscribe   the binary, built here with: make build ISA=x86-64-v3 BIN=build/gpu/medscribe
#   ggml/       $(go list -m -f '{{.Dir}}' github.com/ollama/ollama)/ml/backend/ggml/ggml
#   tokenizer/  $(go list -m -f '{{.Dir}}' github.com/ollama/ollama)/tokenizer/testdata
# Results go to $OUT (or ./gpu-out). Stages: build (CUDA backend and
# models, into build/gpu-work) and bench; default both.
set -euo pipefail
stage=${1:-all}
in=${2:-build/gpu}
out=${OUT:-gpu-out}
work=build/gpu-work
mkdir -p "$out" "$work"
libs=$PWD/$work/cuda/lib/ollama
export MEDSCRIBE_CACHE=$PWD/$work/cache
if [ "$stage" = build ] || [ "$stage" = all ]; then
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$out/gpu.txt"
nvcc --version | tail -2 | tee -a "$out/gpu.txt"
lscpu | grep -E 'Model name|^CPU\(s\)' | tee -a "$out/gpu.txt"

start=$(date +%s)
cmake -S extract/llama/cuda -B "$work/cuda" -DGGML_SRC="$(readlink -f "$in/ggml")" \
	-DCMAKE_CUDA_ARCHITECTURES=90-real -G Ninja >"$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cmake --build "$work/cuda" -j "$(nproc)" >>"$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cudalib=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")/lib64
cp -P "$cudalib"/libcudart.so* "$cudalib"/libcublas.so* "$cudalib"/libcublasLt.so* "$libs"/
echo "cuda backend built in $(( $(date +%s) - start )) s" | tee -a "$out/gpu.txt"
ls -la "$libs" | tee -a "$out/gpu.txt"

start=$(date +%s)
"$in/medscribe" testmodels --only gemma3-27b-q4_k,gemma3-270m-q8_0 --tokenizer "$in/tokenizer" | tee -a "$out/gpu.txt"
echo "models generated in $(( $(date +%s) - start )) s" | tee -a "$out/gpu.txt"
fi
[ "$stage" = build ] && exit 0

"$in/medscribe" version | tee -a "$out/gpu.txt"
MEDSCRIBE_LLAMA_KEEP_CONTEXTS=1 "$in/medscribe" bench llm --model gemma3-27b-q4_k --draft gemma3-270m-q8_0 --k 4 --gpu-libs "$libs" \
	--threads 8 --prompt 512 --decode 200 --tokenizer "$in/tokenizer" --log-level info \
	>"$out/bench-27b.json" 2>"$out/bench-27b.log" || { tail -40 "$out/bench-27b.log"; exit 1; }
cat "$out/bench-27b.json"
tail -5 "$out/bench-27b.log"
