#!/usr/bin/env bash
# The zoo's CNNs on Keras' JAX backend, on the GPU where JAX sees one (issue 28, deliver 3), from the source tree.
#
#   bash benchmarks/gpu_cnn.sh                      # cnn_bn and cnn_nin on the 8x8 digits, 3 folds, 10 epochs
#   KERAS_BACKEND=torch EPOCHS=20 bash benchmarks/gpu_cnn.sh
#   PYTHON=/path/to/python DATA=mnist FOLDS=5 JOBS=2 bash benchmarks/gpu_cnn.sh
#
# Needs no TensorFlow: numpy, pandas, pyarrow, scipy, scikit-learn, threadpoolctl, typer, rich, joblib,
# keras and the backend (jax, or torch). Where some are missing and the machine has no network,
# WHEELS=folder installs them from wheels copied there. It prints the Python, the backend's devices, the
# device the CNNs train on and the seconds of every fold, then scores the written files with `blend score`
# (the blender reads them). Runs on a CPU too, the same way (the CNNs then follow the CPU plan).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
MODELS=${MODELS:-cnn_bn cnn_nin}
DATA=${DATA:-digits}
FOLDS=${FOLDS:-3}
EPOCHS=${EPOCHS:-10}
JOBS=${JOBS:-1}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

needed="numpy pandas pyarrow scipy sklearn threadpoolctl typer rich joblib keras $KERAS_BACKEND"
missing=$("$PYTHON" -c "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))" $needed)
if [ -n "$missing" ] && [ -n "${WHEELS:-}" ]; then
    packages=$(echo "$missing" | sed 's/sklearn/scikit-learn/')
    "$PYTHON" -m pip install --quiet --no-index --find-links "$WHEELS" $packages
    missing=$("$PYTHON" -c "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))" $needed)
fi
if [ -n "$missing" ]; then
    echo "gpu_cnn.sh: $PYTHON lacks: $missing (pip install them, or give WHEELS=folder of their wheels)" >&2
    exit 1
fi

"$PYTHON" - <<'EOF'
import os
import sys

print(f"python {sys.version.split()[0]}; KERAS_BACKEND={os.environ['KERAS_BACKEND']}")
backend = os.environ["KERAS_BACKEND"]
if backend == "jax":
    import jax

    print(f"jax {jax.__version__}: default backend {jax.default_backend()}, devices {jax.devices()}")
elif backend == "torch":
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}: CUDA {torch.cuda.is_available()}, GPU {gpu}")
import keras

print(f"keras {keras.__version__} on {keras.backend.backend()}")
EOF

echo "python -m models oof --models \"$MODELS\" --data $DATA --folds $FOLDS --epochs $EPOCHS --jobs $JOBS --root $OUT"
start=$(date +%s)
"$PYTHON" -m models oof --models "$MODELS" --data "$DATA" --folds "$FOLDS" --epochs "$EPOCHS" --jobs "$JOBS" \
    --root "$OUT" 2>&1 | tee "$OUT/oof.log"
echo "oof: $(( $(date +%s) - start )) s in all; seconds per fold:"
grep -E '^\[cnn_[a-z]+\] fold' "$OUT/oof.log" | sed -E 's/^\[([a-z_]+)\] fold ([0-9]+)\/[0-9]+ .*\(([0-9.]+) s\)$/  \1 fold \2: \3 s/'

files=()
for name in $MODELS; do files+=("$OUT/submissions/$name.csv"); done
(cd "$OUT" && "$PYTHON" -m blender score "${files[@]}" --oof-dir submissions/oof --truth data/train_labels.csv \
    2>&1 | tail -n 20)
echo "files in $OUT"
