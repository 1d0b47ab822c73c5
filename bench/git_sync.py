#!/usr/bin/env python3
"""GitSync benchmark, over `git daemon` on 127.0.0.1, against the release build of `agenthub`.

  cold sync    a generated repository (--skills skills, --commits commits of history) synced into an
               empty registry and an empty cache: fetch in the worker, read the commit's tree, publish.
               Peer: `git clone --mirror` by the git CLI, `git archive` of the same commit, and the same
               import (agenthub syncing that folder as a local source). The ratio is the figure.
  no-op        the same sync again with nothing new (refs listed, no fetch, 0 rows written).
               Peer: `git ls-remote` of the same repository.
  20 sources   --sources repositories of --small skills each, synced at sync.max_concurrent 4, against
               the same sync at max_concurrent 1, and against 20 `git clone --mirror` run 4 at a time.

Times are medians of --runs runs; this machine is shared and noisy, so only the ratios mean much.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

def git(*args, cwd=None, env=None):
    out = subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", *args], cwd=cwd,
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout.strip()

def skill_text(i, version):
    return (f"---\nname: skill-{i:05d}\ndescription: Handle documents of kind {i}. Use when asked about kind {i}.\n"
            f"license: MIT\nmetadata:\n  version: \"{version}\"\n---\n\n# Skill {i}\n\n"
            + "".join(f"{n}. Step {n} for kind {i}, revision {version}.\n" for n in range(1, 11)))

def generate(path, skills, commits):
    """A bare repository with `skills` skills and `commits` commits (each edits a few skills)."""
    work = path + ".work"
    git("init", "-q", "-b", "main", work)
    for i in range(skills):
        d = os.path.join(work, "skills", f"skill-{i:05d}")
        os.makedirs(os.path.join(d, "references"))
        with open(os.path.join(d, "SKILL.md"), "w") as f:
            f.write(skill_text(i, 0))
        with open(os.path.join(d, "references", "notes.md"), "w") as f:
            f.write(f"Notes for skill {i}.\n" * 20)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "initial", cwd=work)
    for c in range(1, commits):
        for k in range(5):
            i = (c * 7 + k * 131) % skills
            with open(os.path.join(work, "skills", f"skill-{i:05d}", "SKILL.md"), "w") as f:
                f.write(skill_text(i, c))
        git("commit", "-q", "-a", "-m", f"change {c}", cwd=work)
    git("clone", "-q", "--bare", work, path)
    shutil.rmtree(work)

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def start_daemon(base):
    port = free_port()
    exec_path = git("--exec-path")
    proc = subprocess.Popen([os.path.join(exec_path, "git-daemon"), "--reuseaddr", "--export-all", "--listen=127.0.0.1",
                             f"--port={port}", f"--base-path={base}", base], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    sys.exit("git daemon did not start")

def timed(cmd, cwd=None):
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return elapsed, out.stdout

def manifest(root, sources, max_concurrent=4):
    lines = ["version: 1", "host:", "  database: state/registry.db", "  cache: state/cache", "sync:", "  timeout: 600s",
             f"  max_concurrent: {max_concurrent}", "sources:"]
    for name, location, kind in sources:
        lines += [f"  - name: {name}", f"    {kind}: {location}", "    max_dirs: 100000"]
    with open(os.path.join(root, "registry.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")

def sync(binary, root):
    elapsed, out = timed([binary, "sync", "--json", "--config", "registry.yaml"], root)
    return elapsed, json.loads(out)

def median(values):
    return statistics.median(values)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--skills", type=int, default=2000)
    ap.add_argument("--commits", type=int, default=200)
    ap.add_argument("--sources", type=int, default=20)
    ap.add_argument("--small", type=int, default=100, help="skills per repository in the many-sources run")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    base = tempfile.mkdtemp(prefix="agenthub-gitbench-")
    daemon = None
    try:
        repos = os.path.join(base, "repos")
        os.makedirs(repos)
        t0 = time.perf_counter()
        generate(os.path.join(repos, "big.git"), args.skills, args.commits)
        for n in range(args.sources):
            generate(os.path.join(repos, f"small{n:02d}.git"), args.small, 5)
        print(f"generated {args.skills} skills x {args.commits} commits and {args.sources} repositories of {args.small} skills "
              f"in {time.perf_counter() - t0:.1f} s")
        daemon, port = start_daemon(repos)
        url = f"git://127.0.0.1:{port}/big.git"
        pack = subprocess.run(["du", "-sk", os.path.join(repos, "big.git")], capture_output=True, text=True).stdout.split()[0]

        cold, peer, peer_clone, noop, lsremote = [], [], [], [], []
        rows_noop = None
        for run in range(args.runs):
            root = os.path.join(base, f"cold{run}")
            os.makedirs(root)
            manifest(root, [("big", url, "git")])
            elapsed, results = sync(binary, root)
            r = results[0]
            if r["outcome"] != "published" or r["skills"] != args.skills:
                sys.exit(f"cold sync did not publish {args.skills} skills: {r}")
            cold.append(elapsed)
            elapsed, results = sync(binary, root)
            r = results[0]
            if r["outcome"] != "unchanged" or r.get("downloaded"):
                sys.exit(f"no-op sync was not a no-op: {r}")
            noop.append(elapsed)
            rows_noop = (r.get("report") or {}).get("rows_written", 0)
            lsremote.append(timed(["git", "ls-remote", url])[0])

            proot = os.path.join(base, f"peer{run}")
            os.makedirs(proot)
            start = time.perf_counter()
            subprocess.run(["git", "clone", "-q", "--mirror", url, os.path.join(proot, "mirror.git")], check=True)
            clone_done = time.perf_counter()
            os.makedirs(os.path.join(proot, "tree"))
            archive = subprocess.Popen(["git", "--git-dir", os.path.join(proot, "mirror.git"), "archive", "main"], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", os.path.join(proot, "tree")], stdin=archive.stdout, check=True)
            archive.wait()
            manifest(proot, [("big", "./tree", "path")])
            _, results = sync(binary, proot)
            if results[0]["skills"] != args.skills:
                sys.exit(f"peer import did not find {args.skills} skills: {results[0]}")
            peer.append(time.perf_counter() - start)
            peer_clone.append(clone_done - start)

        many = {}
        for limit in (4, 1):
            times = []
            for run in range(args.runs):
                root = os.path.join(base, f"many{limit}-{run}")
                os.makedirs(root)
                manifest(root, [(f"s{n:02d}", f"git://127.0.0.1:{port}/small{n:02d}.git", "git") for n in range(args.sources)], limit)
                elapsed, results = sync(binary, root)
                bad = [r for r in results if r["outcome"] != "published"]
                if bad:
                    sys.exit(f"many-sources sync failed: {bad[0]}")
                times.append(elapsed)
            many[limit] = median(times)
        clones = []
        for run in range(args.runs):
            root = os.path.join(base, f"clones{run}")
            os.makedirs(root)
            urls = "\n".join(f"git://127.0.0.1:{port}/small{n:02d}.git" for n in range(args.sources))
            start = time.perf_counter()
            subprocess.run(["xargs", "-P", "4", "-I", "{}", "sh", "-c", "git clone -q --mirror {} \"$(basename {})\""],
                           input=urls, text=True, cwd=root, check=True)
            clones.append(time.perf_counter() - start)

        print(f"repository: {args.skills} skills, {args.commits} commits, {pack} KiB on the server; git daemon on 127.0.0.1; median of {args.runs}")
        print(f"{'measure':58} {'seconds':>9}")
        rows = [
            ("agenthub sync, cold (fetch in worker + tree read + publish)", median(cold)),
            ("peer: git clone --mirror + git archive + same import", median(peer)),
            ("   of which git clone --mirror", median(peer_clone)),
            ("agenthub sync, no-op (ls-remote, no fetch)", median(noop)),
            ("peer: git ls-remote", median(lsremote)),
            (f"agenthub sync, {args.sources} sources x {args.small} skills, max_concurrent 4", many[4]),
            (f"agenthub sync, {args.sources} sources x {args.small} skills, max_concurrent 1", many[1]),
            (f"peer: {args.sources} x git clone --mirror, 4 at a time", median(clones)),
        ]
        for label, value in rows:
            print(f"{label:58} {value:9.3f}")
        print()
        print(f"cold sync / (clone --mirror + archive + import)   {median(cold) / median(peer):6.2f}x")
        print(f"cold sync / git clone --mirror alone              {median(cold) / median(peer_clone):6.2f}x")
        print(f"no-op sync / git ls-remote                        {median(noop) / median(lsremote):6.2f}x   (rows written: {rows_noop})")
        print(f"{args.sources} sources: max_concurrent 4 / max_concurrent 1   {many[4] / many[1]:6.2f}x")
        print(f"{args.sources} sources at 4 / {args.sources} clones at 4             {many[4] / median(clones):6.2f}x")
    finally:
        if daemon:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(base, ignore_errors=True)

if __name__ == "__main__":
    main()
