#!/usr/bin/env python3
"""Groups a folded profile of the bot (inferno-collapse-perf --tid) into the
stages of one update, by the module paths of its frames; see
docs/performance.md, "Issue 34: where one update's CPU goes".

    python3 docs/profile/stages.py [--cpu=µs_per_update] run1.folded [run2.folded …]

Rules, first match wins:
1. a sqlx connection thread: SQLite and sqlx on the writer's connection (the
   thread that runs the inserts) or on a reading connection;
2. anywhere in the stack, tracing's subscriber or core, or metrics: logging
   and metrics (tracing's Instrumented wrapper alone does not count);
3. the innermost `todanpho::` frame's module decides the stage (STAGES);
   sending's share is split by what runs under it (JSON, HTTP);
4. no `todanpho::` frame: HTTP connection tasks (hyper, reqwest), jemalloc's
   purging thread, or tokio's own work (parking, waking, timers, I/O).
"""
import collections
import re
import sys

STAGES = [
    # (stage, regex on the innermost todanpho:: frame)
    ("reading and recording the batch", r"todanpho::(startup::spawn_telegram|telegram::(polling|Updates|inbound::parse)|intake::inbox|intake::chats::Intake<.*>::take)"),
    ("the chat's queue and worker", r"todanpho::intake::chats"),
    ("routing: the handler tree (dptree) and the update's span", r"todanpho::intake::route"),
    ("the turn around the handler (process)", r"todanpho::intake::process"),
    ("the turn's reads (caller, prefetched dialogue, shared sender lookups)", r"todanpho::(turn::|db::update|roles::(serve_lookups|user_addr|lookup)|telegram::inbound)"),
    ("the dialogue engine", r"todanpho::dialogue::"),
    ("the commit and its ending statements", r"todanpho::(db::writer|db::batch|intake::(marks|rows|outbox)|outbox::)"),
    ("rendering and fitting the reply", r"todanpho::(fit::|channel::(replies|keyboard|Action|Replies))"),
    ("the HTTP send and its JSON", r"todanpho::(telegram::(outbound|TelegramSender)|delivery::)"),
    ("logging and metrics", r"todanpho::(ops::|measure::)"),
    ("the handler", r"todanpho::"),
]
LOGGING = re.compile(r"^(tracing_subscriber|tracing_core|tracing::span|tracing::__macro_support|tracing::dispatcher|<tracing_subscriber|<tracing_core|<tracing::span)|metrics::|metrics_exporter_prometheus|metrics_util")
TODANPHO = re.compile(r"(^|[<\s(])todanpho::[a-z]")
WRITES = re.compile(r"sqlite3BtreeInsert|sqlite3WalFrames|sqlite3BtreeDelete")
HTTP = re.compile(r"hyper|reqwest|h2::|http_body")


def stage_of(frames, writer):
    thread = frames[0]
    if thread.startswith("sqlx-sqlite"):
        return "SQLite and sqlx: the writer's connection" if thread == writer else "SQLite and sqlx: reading connections"
    if thread.startswith("jemalloc"):
        return "allocator: jemalloc's purging thread"
    if any(LOGGING.search(f) for f in frames):
        return "logging and metrics"
    ours = [i for i, f in enumerate(frames) if TODANPHO.search(f)]
    if ours:
        inner = frames[ours[-1]]
        for stage, pattern in STAGES:
            if re.search(pattern, inner):
                if stage == "the HTTP send and its JSON":
                    below = frames[ours[-1]:]
                    if any("serde_json::de" in f or "Deserialize" in f for f in below):
                        return "the HTTP send and its JSON: parsing the response"
                    if any("serde_json::ser" in f or "Serialize" in f for f in below):
                        return "the HTTP send and its JSON: writing the request"
                    return "the HTTP send and its JSON: teloxide, reqwest, hyper"
                return stage
    if any(HTTP.search(f) for f in frames):
        return "the HTTP send and its JSON: connection tasks (hyper)"
    return "tokio: parking, waking, timers, I/O driver"


def shares(path):
    stacks = []
    writes = collections.Counter()
    for line in open(path):
        stack, n = line.rstrip("\n").rsplit(" ", 1)
        frames = stack.split(";")
        n = float(n)
        stacks.append((frames, n))
        if frames[0].startswith("sqlx-sqlite") and any(WRITES.search(f) for f in frames):
            writes[frames[0]] += n
    writer = writes.most_common(1)[0][0] if writes else None
    totals = collections.Counter()
    for frames, n in stacks:
        totals[stage_of(frames, writer)] += n
    whole = sum(totals.values())
    return {stage: n / whole for stage, n in totals.items()}


def main():
    args = sys.argv[1:]
    cpu = 0.0
    if args and args[0].startswith("--cpu="):
        cpu = float(args.pop(0).split("=", 1)[1])
    runs = [shares(path) for path in args]
    stages = sorted({s for run in runs for s in run}, key=lambda s: -sum(run.get(s, 0) for run in runs))
    head = " | ".join(f"run {i + 1}" for i in range(len(runs)))
    print(f"| stage | {head} | µs per update |")
    print("|---|" + "---|" * len(runs) + "---|")
    for stage in stages:
        cells = " | ".join(f"{run.get(stage, 0) * 100:.1f}%" for run in runs)
        mean = sum(run.get(stage, 0) for run in runs) / len(runs)
        print(f"| {stage} | {cells} | {mean * cpu:.0f} |" if cpu else f"| {stage} | {cells} | |")


if __name__ == "__main__":
    main()
