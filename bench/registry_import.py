#!/usr/bin/env python3
"""Registry import benchmark.

Generates a local source of N skills (SKILL.md plus one reference file each) and measures, against
the release build of `agenthub`:

  cold import     sync into an empty registry (discover, parse, validate, publish in one transaction)
  no-op re-sync   nothing changed: must write 0 rows
  one changed     one skill edited: must rewrite exactly 1 skill
  cat floor       `cat` of the same files (the I/O floor), the peer the cold import is compared with

Times are medians of --runs runs on this machine; only the ratios are meant to be compared.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

def generate(root, count):
    words = "parse render summarise extract convert validate index search compare review".split()
    for i in range(count):
        name = f"skill-{i:05d}"
        d = os.path.join(root, "skills", name)
        os.makedirs(os.path.join(d, "references"))
        verb = words[i % len(words)]
        with open(os.path.join(d, "SKILL.md"), "w") as f:
            f.write(f"---\nname: {name}\ndescription: {verb.capitalize()} documents of kind {i}. Use when asked to {verb} them.\n"
                    f"license: MIT\nmetadata:\n  author: bench\n  version: \"1.{i % 7}\"\n---\n\n# {name}\n\n"
                    + "".join(f"{n}. Step {n} of how to {verb} a document of kind {i}.\n" for n in range(1, 11)))
        with open(os.path.join(d, "references", "notes.md"), "w") as f:
            f.write(f"Notes for {name}.\n" * 20)

def timed(cmd, cwd):
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return elapsed, out.stdout

def sync(binary, root):
    elapsed, out = timed([binary, "sync", "--json", "--config", "registry.yaml"], root)
    result = json.loads(out)[0]
    return elapsed, result

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--skills", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    root = tempfile.mkdtemp(prefix="agenthub-bench-")
    try:
        generate(root, args.skills)
        with open(os.path.join(root, "registry.yaml"), "w") as f:
            f.write("version: 1\nhost:\n  database: state/registry.db\nsources:\n  - name: bench\n    path: ./skills\n    max_dirs: 100000\n")
        files = subprocess.run(["find", "skills", "-type", "f"], cwd=root, capture_output=True, text=True).stdout.split()
        total_bytes = sum(os.path.getsize(os.path.join(root, p)) for p in files)
        subprocess.run(["cat"] + files[:1], cwd=root, capture_output=True)  # warm the page cache below

        cat_times, cold_times = [], []
        for _ in range(args.runs):
            t, _ = timed(["sh", "-c", "find skills -type f -print0 | xargs -0 cat > /dev/null"], root)
            cat_times.append(t)
            shutil.rmtree(os.path.join(root, "state"), ignore_errors=True)
            t, cold = sync(binary, root)
            cold_times.append(t)
            assert cold["outcome"] == "published" and cold["report"]["added"] == args.skills, cold

        noop_times, noop_rows = [], []
        for _ in range(args.runs):
            t, noop = sync(binary, root)
            noop_times.append(t)
            noop_rows.append(noop["report"]["rows_written"])
            assert noop["outcome"] == "unchanged", noop

        one_times, one_updated, one_rows = [], [], []
        target = os.path.join(root, "skills", "skill-00042", "SKILL.md")
        for run in range(args.runs):
            with open(target, "a") as f:
                f.write(f"\nEdit {run}.\n")
            t, one = sync(binary, root)
            one_times.append(t)
            one_updated.append(one["report"]["updated"])
            one_rows.append(one["report"]["rows_written"])

        def ms(xs): return f"{statistics.median(xs) * 1000:9.1f}"
        cat = statistics.median(cat_times)
        print(f"registry import: {args.skills} skills, {len(files)} files, {total_bytes / 1e6:.1f} MB, median of {args.runs} runs")
        print(f"{'case':<28}{'ms':>9}  {'x cat':>7}  {'skills written':>14}  {'rows written':>12}")
        print(f"{'cat (I/O floor)':<28}{ms(cat_times)}  {1.0:7.1f}  {'-':>14}  {'-':>12}")
        print(f"{'cold import':<28}{ms(cold_times)}  {statistics.median(cold_times) / cat:7.1f}  {args.skills:>14}  {'-':>12}")
        print(f"{'no-op re-sync':<28}{ms(noop_times)}  {statistics.median(noop_times) / cat:7.1f}  {0:>14}  {max(noop_rows):>12}")
        print(f"{'re-sync, one skill changed':<28}{ms(one_times)}  {statistics.median(one_times) / cat:7.1f}  {max(one_updated):>14}  {max(one_rows):>12}")
        if max(noop_rows) != 0 or set(one_updated) != {1}:
            sys.exit("unexpected writes: a no-op must write 0 rows and one change must rewrite 1 skill")
    finally:
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    main()
