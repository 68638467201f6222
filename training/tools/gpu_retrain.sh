#!/usr/bin/env bash
# Retrain the catalog's styles at 256 px on a lent GPU machine, in one device call.
#
#   here:   python -m training.tools.bundle .bundle      # 22 MiB; .bundle is git-ignored, carry it
#   there:  bash training/tools/gpu_retrain.sh .bundle 8  # minutes of training
#
# Runs resume from .bundle/runs. The packed runs come back as runs-N.tar under $OUT: unpack
# them into .bundle/runs to carry on in a later call, or into data/runs and finish here with
#   python -m training.tools.ship --runs data/runs --recipe training/tools/gpu.toml \
#       --only starry_night,great_wave --ablation
# and the same without --ablation, --only the other styles.
set -euo pipefail
bundle=${1:?usage: gpu_retrain.sh BUNDLE [MINUTES]}
minutes=${2:-8}
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$bundle"/wheels/*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -m training.tools.batch --data "$bundle/data" --cache "$bundle/cache" --runs "$bundle/runs" \
    --recipe training/tools/gpu.toml --device cuda --minutes "$minutes" \
    --ablation starry_night,great_wave --out "${OUT:?OUT: where the packed runs go}"
