#!/usr/bin/env bash
# The PPO benchmarks on a GPU machine, in one command from the repository root:
#
#   benchmarks/cuda_ppo.sh
#
# It builds drats against the machine's own torch (no network needed: scikit-build-core,
# pybind11, cmake and ninja must be installed there), then runs benchmarks/bench_ppo.py on the
# GPU: the MT10 PPO minibatch step against the float32 (TF32 off) matmul peak of the same GPU,
# and, where metaworld is importable, one full MT10 PPO iteration (100,000 env steps on 10
# worker processes plus the 16 x 32 minibatch update) timed by drats train's own time split.
# Results go to $OUT (or .benchmarks/) as ppo.md and iteration.txt.
set -euo pipefail
out="${OUT:-.benchmarks}"
mkdir -p "$out"
site="$(mktemp -d)/site"
python3 -m pip install -q --no-build-isolation --no-deps --target "$site" .
export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
DRATS_BENCH_DEVICE=cuda python3 -m pytest benchmarks/bench_ppo.py -p no:cacheprovider -q \
  -k "not collection" -o addopts="" -W default
cp .benchmarks/ppo.md "$out/ppo.md" 2>/dev/null || true
if python3 -c "import metaworld" 2>/dev/null; then
  python3 -m drats.cli train --suite mt10 --device cuda --steps 100000 --eval-every 0 \
    --checkpoint-every 0 --backend process --workers 10 --threads 4 --no-progress \
    --out "$(mktemp -d)/mt10" | tee "$out/iteration.txt"
else
  echo "metaworld is not installed here: the full iteration was skipped" | tee "$out/iteration.txt"
fi
