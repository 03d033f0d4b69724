#!/usr/bin/env bash
# The GPU check for the torch backend, in one call on a CUDA machine. Installs nothing: it
# needs a Python with torch (CUDA build), numpy and, for the tests, pytest already there.
#   1. the card and the software, 2. the CUDA tests (CUDA graphs against eager steps),
#   3. bench/torch_train.py on cuda (784-16-16-10 epochs, the wide net, the matmul rate).
#   4. bench/race.py on cuda: the Why GPUs page's race (NumPy, torch cpu, torch cuda by width).
# Everything is printed, and also written to $OUT/gpu_check.txt when $OUT is set (the device
# machine's returned folder), for bench/RESULTS.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-}
if [ -z "$PY" ]; then
    PY=python3
    if [ -x .venv/bin/python ] && .venv/bin/python -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
        PY=.venv/bin/python
    fi
fi
LOG=/dev/null
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    LOG="$OUT/gpu_check.txt"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0
{
    echo "== gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) with $PY"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    "$PY" -c "
import sys
try:
    import torch
except ImportError:
    sys.exit('torch is not installed for ' + sys.executable)
if not torch.cuda.is_available():
    sys.exit('no CUDA device visible to torch ' + torch.__version__)
print('torch', torch.__version__, 'cuda', torch.version.cuda, '-', torch.cuda.get_device_name())
" || exit 1
    echo "== CUDA tests"
    if "$PY" -m pytest --version >/dev/null 2>&1; then
        "$PY" -m pytest -q -p no:cacheprovider tests/test_torch_backend.py \
            -k "cuda or graphs or twenty or phases" || status=1
    else
        echo "pytest is not installed here: CUDA tests skipped"
    fi
    echo "== benchmark"
    "$PY" bench/torch_train.py --device cuda --repeats 5 || status=1
    echo "== race"
    "$PY" bench/race.py --device cuda --calls 5 || status=1
    exit $status
} 2>&1 | tee "$LOG"
exit "${PIPESTATUS[0]}"
