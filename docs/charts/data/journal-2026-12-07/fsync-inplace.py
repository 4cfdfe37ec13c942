#!/usr/bin/env python3
"""A 200-byte write and an fdatasync, 2,000 times: appended to a file (its length grows with each)
or written in place over zeros written beforehand. Prints latency and the process's CPU per sync.
BENCHMARKS.md entry 61 ran it on /work and /tmp (both ext4 on the VM's one disk)."""
import os, sys, time

def run(path, in_place, n=2000):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    if in_place:
        os.write(fd, b'\0' * (n * 256 + 4096)); os.fsync(fd); os.lseek(fd, 0, 0)
    buf = b'x' * 200
    t0 = time.perf_counter(); c0 = time.process_time()
    lat = []
    for _ in range(n):
        a = time.perf_counter()
        os.write(fd, buf); os.fdatasync(fd)
        lat.append(time.perf_counter() - a)
    t = time.perf_counter() - t0; c = time.process_time() - c0
    os.close(fd); os.unlink(path)
    lat.sort()
    print(path, 'in place' if in_place else 'appended',
          f"mean {t/n*1e6:.0f} us p50 {lat[n//2]*1e6:.0f} p99 {lat[int(n*.99)]*1e6:.0f} cpu/sync {c/n*1e6:.0f} us")

for d in sys.argv[1:] or ['.']:
    for in_place in [False, True, False, True]:
        run(os.path.join(d, 'fsync-test.bin'), in_place)
