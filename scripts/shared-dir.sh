# Sourced by the scripts: sets $shared to the fixture checkout (same search as CMakeLists.txt):
# $CONFIDANT_SHARED, else ../shared next to the repository, else ../../shared, else /work/shared.
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${CONFIDANT_SHARED:-}" ]; then
  shared=$CONFIDANT_SHARED
else
  shared=$_root/../shared
  for _c in "$_root/../../shared" /work/shared; do
    if [ ! -d "$shared/conformance" ] && [ -d "$_c/conformance" ]; then shared=$_c; fi
  done
fi
shared=$(cd "$shared" 2>/dev/null && pwd || echo "$shared")
