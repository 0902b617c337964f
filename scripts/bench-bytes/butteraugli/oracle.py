"""Perfect search on sharp's ladder, by butteraugli (scripts/bench-bytes/butteraugli/README.md).

  python3 oracle.py scores.tsv

For each format and norm: sharp's median distance at q80 over the corpus, and the total bytes
when each image takes the lowest ladder quality whose distance is at most that median (the
highest, 98, when none is), against the total at q80. Then, per image (3-norm): that quality,
its bytes, the bytes and distance at q80.
"""
import collections
import statistics
import sys

ladder = collections.defaultdict(dict)  # (format, image) -> quality -> (bytes, max, 3-norm)
for line in open(sys.argv[1]):
    image, fmt, q, size, max_norm, p3 = line.rstrip("\n").split("\t")
    ladder[(fmt, image)][int(q)] = (int(size), float(max_norm), float(p3))

for fmt in ["jpeg", "webp"]:
    images = sorted(i for f, i in ladder if f == fmt)
    for col, norm in [(2, "3-norm"), (1, "max-norm")]:
        median = statistics.median(ladder[(fmt, i)][80][col] for i in images)
        at80 = sum(ladder[(fmt, i)][80][0] for i in images)
        total, unreached, detail = 0, 0, []
        for i in images:
            steps = sorted(ladder[(fmt, i)].items())
            ok = [(q, v) for q, v in steps if v[col] <= median]
            q, v = ok[0] if ok else steps[-1]
            unreached += not ok
            total += v[0]
            detail.append((i, q, v[0], ladder[(fmt, i)][80][0], ladder[(fmt, i)][80][col]))
        print(f"{fmt} {norm}: sharp's median distance at q80 {median:.3f}; perfect search "
              f"{total} bytes = {total / at80:.3f} x q80 ({at80}); not reached at 98: {unreached}")
        if norm == "3-norm":
            for i, q, b, b80, d80 in sorted(detail, key=lambda x: -x[3]):
                print(f"    {i}: q{q} {b} bytes (q80: {b80} bytes, distance {d80:.2f})")
