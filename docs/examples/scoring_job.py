#!/usr/bin/env python3
"""A scoring job that asks promobot which model to load.

Each run asks `promobot resolve` for the manifest the GitOps repository pins
for MODEL in ENV, lets promobot download and verify the artifact (size,
sha256, signature), and switches to it. Whatever goes wrong, the job keeps
the model it loaded last, and says why:

    promobot exit  meaning                           this job
    0              resolved and verified             loads the new model, exits 0
    1              the answer is no (refused)        keeps the current model, alerts, exits 1
    2              usage or configuration error      keeps the current model, alerts, exits 2
    3              not found (model, env, ref)       keeps the current model, alerts, exits 3
    4              temporarily unavailable           retries; then keeps the current model, exits 4

Only the Python standard library is used. The state of the job (the model
it loaded and its file) lives in --state-dir:

    current.json      {"model", "environment", "version", "sha256", "uri", "commit", "path"}
    MODEL.model       the verified artifact of that version

Run `scoring_job.py --help` for the options; docs/scoring-jobs.md explains
the contract this script relies on.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

# promobot's exit codes (see `promobot resolve --help`).
EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4


class Outcome(Exception):
    """Ends a run: the job keeps its current model and exits with code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def log(message):
    print("scoring-job: " + message, file=sys.stderr, flush=True)


def alert(message):
    # Replace with your paging or monitoring call.
    log("ALERT: " + message)


def resolve(args, download):
    """Runs promobot resolve once; returns (exit code, JSON object or None, stderr)."""
    cmd = [
        args.promobot, "resolve",
        "--format", "json",
        "--repo", args.repo,
        "--env", args.env,
        "--model", args.model,
        "--verify",
        "--download", download,
    ]
    if args.ref:
        cmd += ["--ref", args.ref]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=args.timeout, check=False)
    except FileNotFoundError:
        raise Outcome(EXIT_USAGE, "promobot not found at %s" % args.promobot)
    except subprocess.TimeoutExpired:
        return EXIT_UNAVAILABLE, None, "promobot resolve did not answer within %ss" % args.timeout
    answer = None
    if proc.stdout.strip():
        try:
            answer = json.loads(proc.stdout)
        except ValueError:
            answer = None
    return proc.returncode, answer, proc.stderr.decode("utf-8", "replace").strip()


def reason_of(answer, stderr):
    """The reason promobot gave: the JSON error's reason, else its stderr line."""
    if isinstance(answer, dict) and answer.get("reason"):
        where = answer.get("file")
        if where and answer.get("line"):
            where = "%s:%s" % (where, answer["line"])
        return "%s: %s" % (where, answer["reason"]) if where else answer["reason"]
    for line in stderr.splitlines():
        if line.strip():
            return line.strip()[len("promobot: "):] if line.startswith("promobot: ") else line.strip()
    return "no reason given"


def resolve_with_retries(args, download):
    """Resolves, retrying while promobot says storage, GitHub or git is unavailable."""
    delay = args.retry_delay
    for attempt in range(1, args.attempts + 1):
        code, answer, stderr = resolve(args, download)
        if code == EXIT_OK:
            return answer
        reason = reason_of(answer, stderr)
        if code == EXIT_UNAVAILABLE:
            log("attempt %d/%d: unavailable: %s" % (attempt, args.attempts, reason))
            if attempt < args.attempts:
                time.sleep(delay)
                delay = min(delay * 2, args.max_retry_delay)
                continue
            raise Outcome(EXIT_UNAVAILABLE, "gave up after %d attempts: %s" % (args.attempts, reason))
        if code == EXIT_REFUSED:
            raise Outcome(EXIT_REFUSED, "refused: %s" % reason)
        if code == EXIT_NOT_FOUND:
            raise Outcome(EXIT_NOT_FOUND, "not found, fix the job's configuration: %s" % reason)
        if code == EXIT_USAGE:
            raise Outcome(EXIT_USAGE, "configuration error, fix the job: %s" % reason)
        raise Outcome(EXIT_USAGE, "unexpected exit status %d: %s" % (code, reason))
    raise Outcome(EXIT_USAGE, "--attempts must be at least 1")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_json(path, value):
    """Writes value to path atomically: a reader sees the old or the new file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_current(state_dir):
    try:
        with open(os.path.join(state_dir, "current.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def load_model(path, sha256):
    """Loads the artifact. A real job would unpickle or open it here."""
    if sha256_of(path) != sha256:
        raise Outcome(EXIT_REFUSED, "%s does not hold the verified bytes" % path)
    with open(path, "rb") as f:
        return f.read()


def update(args):
    """Resolves the pinned model and switches to it; returns the state to score with."""
    os.makedirs(args.state_dir, exist_ok=True)
    download = os.path.join(args.state_dir, args.model + ".download")
    answer = resolve_with_retries(args, download)
    if not isinstance(answer, dict) or not answer.get("verified") or not answer.get("path"):
        raise Outcome(EXIT_REFUSED, "promobot did not report a verified download: %r" % (answer,))
    current = read_current(args.state_dir)
    if current and current.get("version") == answer["version"] and current.get("sha256") == answer["sha256"]:
        os.remove(answer["path"])
        log("%s %s is already loaded" % (answer["model"], answer["version"]))
        return current
    path = os.path.join(args.state_dir, args.model + ".model")
    os.replace(answer["path"], path)
    state = {
        "model": answer["model"],
        "environment": answer["environment"],
        "version": answer["version"],
        "sha256": answer["sha256"],
        "uri": answer["uri"],
        "commit": answer.get("commit", ""),
        "path": path,
    }
    write_json(os.path.join(args.state_dir, "current.json"), state)
    log("switched to %s %s" % (state["model"], state["version"]))
    return state


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--promobot", default=os.environ.get("PROMOBOT", "promobot"), help="the promobot binary (default: $PROMOBOT, else promobot on PATH)")
    p.add_argument("--repo", required=True, help="the GitOps repository: a clone URL or a local path")
    p.add_argument("--ref", default="", help="the revision to read (default: the repository's default branch)")
    p.add_argument("--env", required=True, help="the environment, e.g. prod")
    p.add_argument("--model", required=True, help="the model, e.g. elasticnet-ndx")
    p.add_argument("--state-dir", required=True, help="where the loaded model and current.json live")
    p.add_argument("--attempts", type=int, default=5, help="tries while promobot exits 4 (default 5)")
    p.add_argument("--retry-delay", type=float, default=2.0, help="first pause between tries, doubled each time (seconds)")
    p.add_argument("--max-retry-delay", type=float, default=60.0, help="longest pause between tries (seconds)")
    p.add_argument("--timeout", type=float, default=900.0, help="longest one resolve may take (seconds)")
    args = p.parse_args(argv)

    code = EXIT_OK
    try:
        state = update(args)
    except Outcome as outcome:
        code = outcome.code
        if code == EXIT_UNAVAILABLE:
            log(str(outcome))
        else:
            alert(str(outcome))
        state = read_current(args.state_dir)
        if state is None:
            log("no model loaded yet: nothing to score with")
            return code
        log("keeping %s %s" % (state["model"], state["version"]))
    model = load_model(state["path"], state["sha256"])
    # Score here with `model`.
    print("scoring with %s %s (%d bytes, sha256 %s)" % (state["model"], state["version"], len(model), state["sha256"]))
    return code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Outcome as outcome:
        alert(str(outcome))
        sys.exit(outcome.code)
