#!/usr/bin/env bash
# Packs a published .NET program, the .NET runtime and ONNX Runtime's CUDA provider into parts of
# at most 62 MB, so the program can run under the CUDA EP on a GPU machine (CUDA 13, cuDNN 9) that
# has no .NET and no ONNX Runtime CUDA build, and that accepts at most 64 MiB with each command.
#
#   tools/stage-cuda.sh APP_DIR [EXTRA_PATH ...]
#
# (tools/gpu-check.sh calls it; it came from the project's shared device notes and lives here so the
# repository stages its GPU check on its own.)
#
# APP_DIR     output of `dotnet publish -c Release` (framework-dependent) of the program to run;
#             it must reference Microsoft.ML.OnnxRuntime.Gpu (or .Gpu.Linux), so libonnxruntime.so is in it.
# EXTRA_PATH  files or folders the program needs there (models, parity bundles); they land in
#             the device's working folder under the same relative path.
#
# Writes .device/ at the repository root (added to .git/info/exclude) and prints the commands to send.
set -euo pipefail
app=${1:?usage: stage-cuda.sh APP_DIR [EXTRA_PATH ...]}; shift
top=$(git rev-parse --show-toplevel)
out="$top/.device"; cache="${XDG_CACHE_HOME:-$HOME/.cache}/onnxbridge-device"
mkdir -p "$out" "$cache"
grep -qx '/.device/' "$top/.git/info/exclude" 2>/dev/null || echo '/.device/' >> "$top/.git/info/exclude"
rm -f "$out"/part* "$out"/run.sh "$out"/count

ortso=$(find "$app" -name libonnxruntime.so | head -n1)
[ -n "$ortso" ] || { echo "no libonnxruntime.so under $app: reference Microsoft.ML.OnnxRuntime.Gpu and publish again" >&2; exit 2; }
ver=$(grep -o '"Microsoft.ML.OnnxRuntime.Gpu.Linux/[0-9.]*"' "$app"/*.deps.json | head -n1 | sed 's/.*\///; s/"//')
[ -n "$ver" ] || ver=1.31.0
cudaso="$HOME/.nuget/packages/microsoft.ml.onnxruntime.gpu.linux/$ver/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so"
[ -f "$cudaso" ] || { echo "missing $cudaso: restore Microsoft.ML.OnnxRuntime.Gpu $ver first" >&2; exit 2; }

# 1. the CUDA provider (284 MB, about 186 MB packed): cached, split into 60 MB parts
packed="$cache/providers_cuda-$ver.xz"
[ -s "$packed" ] || { echo "packing the CUDA provider once (about a minute)..."; xz -6 -T0 -c "$cudaso" > "$packed.tmp"; mv "$packed.tmp" "$packed"; }
split -b 60000000 -d -a 1 "$packed" "$out/part"

# 2. the payload: runtime + app (without libtorch, other platforms and the CUDA provider) + extras
n=$(ls "$out"/part* | wc -l)
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
rtver=$(grep -o '"version": *"[0-9.]*"' "$app"/*.runtimeconfig.json | head -n1 | grep -o '[0-9][0-9.]*')
rtdir=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/"${rtver%.*}".* 2>/dev/null | sort -V | tail -n1)
tar -C "$dotnet_root" -cf "$stage/rt.tar" dotnet host "shared/Microsoft.NETCore.App/$(basename "$rtdir")"
[ -d "$dotnet_root/shared/Microsoft.AspNetCore.App" ] && grep -q AspNetCore "$app"/*.runtimeconfig.json &&
  tar -C "$dotnet_root" -rf "$stage/rt.tar" "shared/Microsoft.AspNetCore.App/$(ls "$dotnet_root/shared/Microsoft.AspNetCore.App" | sort -V | tail -n1)"
tar -C "$app" -cf "$stage/app.tar" \
  --exclude='libtorch*' --exclude='libc10*' --exclude='libLibTorchSharp*' --exclude='libgomp*' \
  --exclude='libshm*' --exclude='libjitbackend*' --exclude='libnnapi*' --exclude='libaoti*' --exclude='libbackend_with*' \
  --exclude='libonnxruntime_providers_cuda.so' --exclude='libonnxruntime_providers_tensorrt.so' \
  --exclude='runtimes/win*' --exclude='runtimes/osx*' --exclude='runtimes/linux-arm*' --exclude='runtimes/linux-musl*' \
  --exclude='runtimes/linux-loongarch64*' --exclude='runtimes/linux-x86*' --exclude='*.pdb' --exclude='*.xml' .
echo "${ortso#"$app"/}" > "$stage/ortdir"
files=(rt.tar app.tar ortdir)
if [ $# -gt 0 ]; then tar -cf "$stage/extra.tar" "$@"; files+=(extra.tar); fi
tar -C "$stage" -cf - "${files[@]}" | xz -6 -T0 > "$out/part$n"
size=$(stat -c %s "$out/part$n")
[ "$size" -lt 62000000 ] || { echo "payload part is $size bytes: over the 64 MiB one command may carry; bring fewer extras" >&2; exit 2; }

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: keep whatever part came with this command; once all are there, unpack and run "$@".
set -euo pipefail
S=/tmp/onnxbridge-device; mkdir -p "$S"
for p in .device/part*; do [ -e "$p" ] && cp "$p" "$S/"; done
want=$(cat .device/count 2>/dev/null || echo 0); have=$(ls "$S"/part* 2>/dev/null | wc -l)
[ $# -gt 0 ] || { echo "holding $have of $want parts"; exit 0; }
[ "$have" -ge "$want" ] || { echo "only $have of $want parts are here: the machine was released between commands; send them again" >&2; exit 3; }
last=$(ls "$S"/part* | sort -V | tail -n1)
if [ ! -d "$S/app" ]; then
  mkdir -p "$S/rt" "$S/app" "$S/u" && xz -dc -T0 "$last" | tar -C "$S/u" -xf -
  tar -C "$S/rt" -xf "$S/u/rt.tar"; tar -C "$S/app" -xf "$S/u/app.tar"
  [ -f "$S/u/extra.tar" ] && tar -C "$S" -xf "$S/u/extra.tar"
  cat $(ls "$S"/part* | sort -V | grep -v "^$last$") | xz -dc -T0 > "$S/app/$(dirname "$(cat "$S/u/ortdir")")/libonnxruntime_providers_cuda.so"
fi
export DOTNET_ROOT="$S/rt" PATH="$S/rt:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
cd "$S"; exec "$@"
RUN
chmod +x "$out/run.sh"; echo "$((n + 1))" > "$out/count"
# group the parts into calls of at most 62,000,000 bytes each, the payload riding in the last
calls=(); cur=""; cursize=0
for f in $(ls "$out"/part* | sort -V); do
  s=$(stat -c %s "$f"); b=$(basename "$f")
  if [ -n "$cur" ] && [ $((cursize + s)) -gt 62000000 ]; then calls+=("$cur"); cur=""; cursize=0; fi
  cur="$cur,'.device/$b'"; cursize=$((cursize + s))
done
calls+=("$cur")
echo "staged $((n + 1)) parts in .device/ ($(du -sh "$out" | cut -f1)) for ${#calls[@]} commands on the GPU machine. Send them back to back, each with the files named: a machine left idle is released and forgets what it held."
last=$((${#calls[@]} - 1))
for i in $(seq 0 $last); do
  cmd="bash .device/run.sh"; [ "$i" -eq "$last" ] && cmd="bash .device/run.sh dotnet app/YOUR.dll ARGS..."
  echo "  command='$cmd'  files=[${calls[$i]#,},'.device/run.sh','.device/count']"
done
echo "In the last command, paths are relative to the device's working folder: the program is under app/, each EXTRA_PATH under its own relative path."
