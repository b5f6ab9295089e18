#!/usr/bin/env bash
# The CUDA check (issue #14): parity of every sample's bundle under ONNX Runtime's CUDA provider,
# ONNX Runtime speed on CUDA with and without I/O binding, and the host serving on CUDA under load.
#
#   tools/gpu-check.sh prepare        on this (CPU) machine: publish the CLI, make the bundles and the
#                                     benchmark model under artifacts/gpu-check/, stage them in .device/
#                                     (tools/stage-cuda.sh) and print the commands to send
#   tools/gpu-check.sh run [cpu]      the checks, from the folder that holds artifacts/gpu-check: on
#                                     the GPU machine as the last staged command,
#                                       bash .device/run.sh bash artifacts/gpu-check/run.sh run
#                                     or here after prepare, on the CPU provider, to try the script:
#                                       tools/gpu-check.sh run cpu
#
# The GPU machine needs an NVIDIA GPU with CUDA 13 and cuDNN 9, and nothing else: staging brings
# .NET, the CLI and ONNX Runtime's CUDA provider. The run takes about 5 minutes (staging ~30 s).
# Pass/fail: parity with TF32 off must hold at float32's tolerance (1e-5 + 1e-5·|ref|); TF32 on and
# every timing are reported, not judged. The output also goes to artifacts/gpu-check/report.txt, and
# to $OUT/gpu-check-report.txt where the device runner sets $OUT (only $OUT comes back from there).
set -euo pipefail
mode=${1:?usage: tools/gpu-check.sh prepare | run [cpu]}

if [ "$mode" = prepare ]; then
  cd "$(dirname "$0")/.."
  work=artifacts/gpu-check
  rm -rf "$work" && mkdir -p "$work/bundles" "$work/models"
  dotnet publish src/OnnxBridge.Cli -c Release -o artifacts/gpu-check-cli --nologo -v quiet
  cli="dotnet artifacts/gpu-check-cli/onnxbridge.dll"
  scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
  # Every sample's parity bundles: quickstart, the builder example, the chapter, the digits networks.
  $cli quickstart --artifacts "$scratch/quickstart" --epochs 2 >/dev/null
  dotnet run -c Release --project samples/BuilderApi -- "$scratch/builder-api" >/dev/null
  dotnet run -c Release --project samples/DeepLearningComputation -- "$scratch/chapter" >/dev/null
  dotnet run -c Release --project samples/Digits -- "$scratch/digits" >/dev/null
  n=0
  while IFS= read -r model; do
    folder=$(dirname "$model")
    [ -d "$folder/test_data_set_0" ] || continue
    name=$(echo "${folder#"$scratch"/}" | tr '/' '_'); cp -r "$folder" "$work/bundles/$name"; n=$((n + 1))
  done < <(find "$scratch" -name model.onnx | sort)
  # The benchmark model (GUIDE §3's H100 figures are for this MLP).
  $cli export --model samples/architectures/mlp-784-1024-1024-10.json --input 'input:float32[batch,784]' --out "$work/models/mlp-784-1024-1024-10.onnx" >/dev/null
  cp tools/gpu-check.sh "$work/run.sh"
  echo "prepared $n parity bundles and the benchmark model in $work"
  tools/stage-cuda.sh artifacts/gpu-check-cli "$work"
  echo "the last command: bash .device/run.sh bash artifacts/gpu-check/run.sh run"
  exit 0
fi

[ "$mode" = run ] || { echo "usage: tools/gpu-check.sh prepare | run [cpu]" >&2; exit 2; }
# Run from the folder that holds artifacts/gpu-check: the staging folder there, the repository here.
ep=${2:-cuda}
here=$(pwd)
# Staged: the CLI is under app/ beside artifacts/; tried locally: the published CLI of prepare.
if [ -f app/onnxbridge.dll ]; then cli="dotnet app/onnxbridge.dll"; else cli="dotnet $here/artifacts/gpu-check-cli/onnxbridge.dll"; fi
work=artifacts/gpu-check
report="$work/report.txt"
set +e
(
  status=0
  echo "== OnnxBridge GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), provider $ep"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "(no nvidia-smi)"
  echo "== 1. parity, TF32 off: every bundle must pass at float32's tolerance"
  $cli verify "$work"/bundles/* --ep "$ep" --brief || status=1
  if [ "$ep" = cuda ]; then
    echo "== 2. parity, TF32 on: reported, not judged"
    $cli verify "$work"/bundles/* --ep cuda --tf32 --brief || true
  fi
  echo "== 3. ONNX Runtime speed, MLP 784-1024-1024-10: raw, wrapper, bound, bound with outputs on the device"
  $cli bench-ort "$work/models/mlp-784-1024-1024-10.onnx" --ep "$ep" --batch 1 1024 8192 --seconds 1 || status=1
  if [ "$ep" = cuda ]; then
    echo "== 3b. the same with TF32 on"
    $cli bench-ort "$work/models/mlp-784-1024-1024-10.onnx" --ep cuda --tf32 --batch 1 1024 8192 --seconds 1 || status=1
  fi
  echo "== 4. the host serving the MLP on $ep under load (REST JSON, REST binary, gRPC; batching off and on)"
  $cli bench-serve --model "$work/models/mlp-784-1024-1024-10.onnx" --ep "$ep" --intra-op-threads 2 --clients 1 16 64 --requests 4000 --seconds 5 --warmup 1 || status=1
  echo "== result: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
  exit $status
) 2>&1 | tee "$report"
status=${PIPESTATUS[0]}
# On the lent GPU machine only what lands under $OUT comes back.
if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then cp "$report" "$OUT/gpu-check-report.txt"; fi
exit "$status"
