#!/usr/bin/python3
# The BCC (Python) side of every benchmark workload; the same modes and
# output as bench/luatrace/tracer.lua (bench/run.lua drives them).
import ctypes as ct
import signal
import sys
import time

from bcc import BPF

mode = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else ""
interrupted = False


def on_int(signum, frame):
    global interrupted
    interrupted = True


def ready():
    print("READY", flush=True)


def wait():
    signal.signal(signal.SIGINT, on_int)
    ready()
    while not interrupted:
        time.sleep(0.05)


if mode == "startup":
    b = BPF(text=r"""
struct key_t { char comm[16]; };
struct ev_t { u32 pid; };
BPF_HASH(by_comm, struct key_t, u64, 1024);
BPF_RINGBUF_OUTPUT(ring, 16);
TRACEPOINT_PROBE(syscalls, sys_enter_openat) {
    struct key_t k = {};
    bpf_get_current_comm(&k.comm, sizeof(k.comm));
    by_comm.increment(k);
    struct ev_t e = { .pid = bpf_get_current_pid_tgid() >> 32 };
    ring.ringbuf_output(&e, sizeof(e), 0);
    return 0;
}
""")
    seen = []
    b["ring"].open_ring_buffer(lambda ctx, data, size: seen.append(1))
    while not seen:
        b.ring_buffer_poll(100)
    print("FIRST", flush=True)
    sys.exit(0)

pid = int(arg) if arg.isdigit() else 0
PROLOGUE = "#define TARGET %d\n" % pid

if mode == "events-perf":
    b = BPF(text=PROLOGUE + r"""
struct ev_t { u32 pid; u32 seq; };
BPF_PERF_OUTPUT(perf);
BPF_ARRAY(seqs, u32, 1);
TRACEPOINT_PROBE(syscalls, sys_enter_getppid) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET) return 0;
    int zero = 0;
    u32 *s = seqs.lookup(&zero);
    struct ev_t e = { .pid = TARGET, .seq = s ? (*s)++ : 0 };
    perf.perf_submit(args, &e, sizeof(e));
    return 0;
}
""")
    st = {"n": 0, "first": 0, "last": 0, "lost": 0}

    def on_event(cpu, data, size):
        t = time.monotonic_ns()
        if st["n"] == 0:
            st["first"] = t
        st["n"] += 1
        st["last"] = t

    def on_lost(n):
        st["lost"] += n

    b["perf"].open_perf_buffer(on_event, page_cnt=256, lost_cb=on_lost)
    signal.signal(signal.SIGINT, on_int)
    ready()
    while not interrupted:
        b.perf_buffer_poll(100)
    b.perf_buffer_poll(0)
    print("received=%d span_ns=%d lost=%d" % (st["n"], st["last"] - st["first"], st["lost"]), flush=True)
    sys.exit(0)

if mode in ("count-percpu", "count-comm"):
    # one function only: BCC defines the tracepoint's args struct for each
    # function that takes it, and two definitions do not compile
    if mode == "count-percpu":
        body = r"""
BPF_PERCPU_ARRAY(counter, u64, 1);
int cnt(struct tracepoint__syscalls__sys_enter_getppid *args) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET) return 0;
    int zero = 0;
    u64 *v = counter.lookup(&zero);
    if (v) (*v)++;
    return 0;
}
"""
    else:
        body = r"""
struct key_t { char comm[16]; };
BPF_HASH(by_comm, struct key_t, u64, 1024);
int cnt(struct tracepoint__syscalls__sys_enter_getppid *args) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET) return 0;
    struct key_t k = {};
    bpf_get_current_comm(&k.comm, sizeof(k.comm));
    by_comm.increment(k);
    return 0;
}
"""
    b = BPF(text=PROLOGUE + body)
    b.attach_tracepoint(tp="syscalls:sys_enter_getppid", fn_name="cnt")
    wait()
    if mode == "count-percpu":
        print("count=%d" % sum(b["counter"][ct.c_int(0)]), flush=True)
    else:
        print("counted", flush=True)
    sys.exit(0)

if mode == "mapread":
    b = BPF(text=PROLOGUE + r"""
BPF_HASH(big, u32, u64, 131072);
TRACEPOINT_PROBE(syscalls, sys_enter_close) {
    if ((bpf_get_current_pid_tgid() >> 32) != TARGET) return 0;
    u32 k = args->fd;
    u64 v = k;
    big.update(&k, &v);
    return 0;
}
""")
    wait()
    b.detach_tracepoint(tp="syscalls:sys_enter_close")
    t0 = time.monotonic_ns()
    check = 0
    n = 0
    for k, v in b["big"].items():
        n += 1
        check += v.value
    dt = time.monotonic_ns() - t0
    print("entries=%d read_ms=%.3f check=%d" % (n, dt / 1e6, check), flush=True)
    sys.exit(0)

if mode == "mapfill":
    b = BPF(text=r"""
BPF_HASH(big, u32, u64, 131072);
int unused(void *ctx) { return 0; }
""")
    ready()
    t0 = time.monotonic_ns()
    t = b["big"]
    n = 100000
    keys = (t.Key * n)(*[t.Key(i + 1) for i in range(n)])
    values = (t.Leaf * n)(*[t.Leaf(3 * (i + 1)) for i in range(n)])
    t.items_update_batch(keys, values)
    dt = time.monotonic_ns() - t0
    print("entries=%d fill_ms=%.3f" % (len(t), dt / 1e6), flush=True)
    sys.exit(0)

if mode == "uprobe":
    b = BPF(text=r"""
BPF_PERCPU_ARRAY(counter, u64, 1);
int count(struct pt_regs *ctx) {
    int zero = 0;
    u64 *v = counter.lookup(&zero);
    if (v) (*v)++;
    return 0;
}
""")
    b.attach_uprobe(name=arg, sym="bench_target", fn_name="count")
    wait()
    print("count=%d" % sum(b["counter"][ct.c_int(0)]), flush=True)
    sys.exit(0)

sys.exit("tracer.py: unknown mode " + mode)
