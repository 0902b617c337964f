#!/usr/bin/env bash
# Builds the fuzz corpora (fuzz/corpus/TARGET, not committed) from what the repository already
# has: the committed seeds and past crashes (fuzz/seeds, fuzz/regressions), the shared test
# images (PIXFRONT_TESTDATA, default ../shared/testdata; files over 300 KB are left out, they
# only slow the fuzzer), tests/data images, and the URLs of tests/dialects*.rs, tests/server_*.rs
# and the Postman collection. Safe to re-run: files are named by content hash.
set -euo pipefail
cd "$(dirname "$0")/../.."
testdata=${PIXFRONT_TESTDATA:-../shared/testdata}
corpus=fuzz/corpus
targets=(dialects pipeline jpeg png gif webp tiff avif jxl svg jpegscale)
# The pipeline target reads its edit recipe from the first byte (fuzz/src/lib.rs has 14 and
# the overlay one).
recipes=15

add() { # add TARGET FILE: copy under a content-hash name
  local sum
  sum=$(sha1sum "$2" | cut -c1-16)
  cp "$2" "$corpus/$1/$sum"
}

for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  for f in fuzz/seeds/"$t"/* fuzz/regressions/"$t"/*; do
    [ -f "$f" ] && add "$t" "$f"
  done
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Images: by magic bytes into their decoder's corpus, and into the pipeline's with a recipe byte.
n=0
while IFS= read -r -d '' f; do
  case "$(head -c 12 "$f" | od -An -tx1 | tr -d ' \n')" in
    ffd8ff*) t=jpeg ;;
    89504e470d0a1a0a*) t=png ;;
    47494638*) t=gif ;;
    52494646????????57454250) t=webp ;;
    49492a00* | 4d4d002a*) t=tiff ;;
    ????????66747970*) t=avif ;;
    ff0a* | 0000000c4a584c20*) t=jxl ;;
    *) grep -qs '<svg' "$f" && t=svg || continue ;;
  esac
  add "$t" "$f"
  if [ "$t" = jpeg ]; then # the jpegscale target reads its scale and threads from the first byte
    printf "\\x$(printf %02x $((n % 9)))" >"$tmp/s"
    cat "$f" >>"$tmp/s"
    add jpegscale "$tmp/s"
  fi
  printf "\\x$(printf %02x $((n % recipes)))" >"$tmp/p"
  cat "$f" >>"$tmp/p"
  add pipeline "$tmp/p"
  n=$((n + 1))
done < <(find "$testdata" tests/data crates/jpegscale/tests/data -type f -size -300k -print0 2>/dev/null)

# URLs: string literals that start with "/" in the dialect and server tests, one input each
# (path, no query, no Accept, no settings letters), and the Postman requests with their query.
{
  grep -ohE '"/[^"]*"' tests/dialects*.rs tests/server_*.rs | sed 's/^"//; s/"$//' | awk '{print $0 "\t"}'
  grep -oE '"raw": *"\{\{baseUrl\}\}[^"]*"' docs/postman/pixfront.postman_collection.json \
    | sed 's/^"raw": *"{{baseUrl}}//; s/"$//' | awk -F'?' '{print $1 "\t" $2}'
} | sort -u | while IFS=$'\t' read -r path query; do
  printf '%s\n%s\n\n' "$path" "$query" >"$tmp/u"
  add dialects "$tmp/u"
done

for t in "${targets[@]}"; do
  echo "$t: $(ls "$corpus/$t" | wc -l) inputs"
done
