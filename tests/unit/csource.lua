-- The BCC-to-libbpf source rewrite: sections, signatures, method calls,
-- event types, line numbers kept.
local csource = require "luatrace.csource"

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- the user's part of the output (after the #line directive)
local function body(src)
  return src:match('#line %d+ "[^"]*"\n(.*)$')
end

test("program functions get sections from their names and context types", function()
  local r = csource.transform([[
static int helper(struct pt_regs *ctx) { return 0; }
int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }
int kretprobe__vfs_read(struct pt_regs *ctx) { return 0; }
int raw_tracepoint__sched_switch(struct bpf_raw_tracepoint_args *ctx) { return 0; }
int on_sample(struct bpf_perf_event_data *ctx) { return 0; }
int do_trace(struct pt_regs *ctx) { return 0; }
int on_usdt(struct pt_regs *ctx) { return 0; }
SEC("tp/sched/sched_switch") int mine(void *ctx) { return 0; }
int not_a_program(int x) { return x; }
]], { file = "t.lua", line = 7, usdt_fns = { on_usdt = true } })
  local b = lines(body(r.source))
  eq(b[1], "static int helper(struct pt_regs *ctx) { return 0; }")
  eq(b[2], 'SEC("kprobe/vfs_read") int kprobe__vfs_read(struct pt_regs *ctx) { return 0; }')
  eq(b[3], 'SEC("kretprobe/vfs_read") int kretprobe__vfs_read(struct pt_regs *ctx) { return 0; }')
  eq(b[4], 'SEC("raw_tracepoint/sched_switch") int raw_tracepoint__sched_switch(struct bpf_raw_tracepoint_args *ctx) { return 0; }')
  eq(b[5], 'SEC("perf_event") int on_sample(struct bpf_perf_event_data *ctx) { return 0; }')
  eq(b[6], 'SEC("kprobe") int do_trace(struct pt_regs *ctx) { return 0; }')
  eq(b[7], 'SEC("usdt") int on_usdt(struct pt_regs *ctx) { return 0; }')
  eq(b[8], 'SEC("tp/sched/sched_switch") int mine(void *ctx) { return 0; }')
  eq(b[9], "int not_a_program(int x) { return x; }")
  ok(r.source:find('#line 7 "t.lua"\n', 1, true), "line directive")
  ok(r.source:find('char _license[] SEC("license") = "GPL";', 1, true), "default license")
end)

test("typed kprobe arguments become BPF_KPROBE, keeping line numbers", function()
  local r = csource.transform([[
int kprobe__vfs_write(struct pt_regs *ctx, struct file *file,
                      const char *buf, size_t count)
{
	return count;
}
int kfunc__vfs_read(struct file *file, char *buf)
{ return 0; }
]])
  local b = lines(body(r.source))
  eq(b[1], 'SEC("kprobe/vfs_write") int BPF_KPROBE(kprobe__vfs_write, struct file *file, const char *buf, size_t count)')
  eq(b[2], "", "the signature's second line is kept as a blank line")
  eq(b[3], "{")
  eq(b[4], "\treturn count;")
  eq(b[6], 'SEC("fentry/vfs_read") int BPF_PROG(kfunc__vfs_read, struct file *file, char *buf)')
end)

test("map method calls on declared maps; comments and strings left alone", function()
  local r = csource.transform([[
BPF_HASH(counts, u32);
BPF_RINGBUF_OUTPUT(buf, 8);
struct data_t { u32 pid; };
/* counts.increment(x) in a comment */
int kprobe__f(struct pt_regs *ctx) {
	struct data_t data = {};
	const char *s = "counts.increment(1)";
	counts.increment(data.pid);
	counts.increment(data.pid, 5);
	u64 *v = counts.lookup(&data.pid);
	buf.ringbuf_output(&data, sizeof(data), 0);
	other.increment(1);
	return 0;
}
]])
  local b = lines(body(r.source))
  eq(b[4], "/* counts.increment(x) in a comment */")
  eq(b[7], '\tconst char *s = "counts.increment(1)";')
  eq(b[8], "\tlt_m_increment(&counts, data.pid);")
  eq(b[9], "\tlt_m_increment(&counts, data.pid, 5);")
  eq(b[10], "\tu64 *v = lt_m_lookup(&counts, &data.pid);")
  eq(b[11], "\tlt_r_ringbuf_output(buf, &data, sizeof(data), 0);")
  eq(b[12], "\tother.increment(1);", "not a declared map")
  eq(r.event_types.buf, "struct data_t")
  ok(r.source:find("LT_EXPORT_TYPE(struct data_t, buf);", 1, true), "type exported to BTF")
end)

test("event types from perf_submit, bpf_perf_event_output and ringbuf_reserve", function()
  local r = csource.transform([[
BPF_PERF_OUTPUT(a);
BPF_PERF_OUTPUT(b);
BPF_RINGBUF_OUTPUT(c, 4);
typedef struct { u32 x; } rec_t;
struct ev { u32 y; };
int kprobe__f(struct pt_regs *ctx) {
	rec_t r = {};
	struct ev e2 = {};
	a.perf_submit(ctx, &r, sizeof(r));
	bpf_perf_event_output(ctx, &b, BPF_F_CURRENT_CPU, &e2, sizeof(e2));
	struct ev *e = c.ringbuf_reserve(sizeof(*e));
	return 0;
}
]])
  eq(r.event_types.a, "rec_t")
  eq(r.event_types.b, "struct ev")
  eq(r.event_types.c, "struct ev")
end)

-- The patterns start at identifiers only (%f[%w_]); spaces around the
-- method's dot, ringbuf_output and bpf_ringbuf_reserve still count.
test("event types: ringbuf_output, bpf_ringbuf_reserve, spaced method calls", function()
  local r = csource.transform([[
BPF_RINGBUF_OUTPUT(longname_ring_out, 4);
BPF_RINGBUF_OUTPUT(r2, 4);
BPF_RINGBUF_OUTPUT(r3, 4);
struct ev { u32 y; };
struct ev2 { u64 z; };
int kprobe__f(struct pt_regs *ctx) {
	struct ev e = {};
	longname_ring_out . ringbuf_output(&e, sizeof(e), 0);
	struct ev2 *p2 = bpf_ringbuf_reserve(&r2, sizeof(*p2), 0);
	struct ev *p3 = r3 .ringbuf_reserve(sizeof(*p3));
	return 0;
}
]])
  eq(r.event_types.longname_ring_out, "struct ev")
  eq(r.event_types.r2, "struct ev2")
  eq(r.event_types.r3, "struct ev")
end)

test("TRACEPOINT_PROBE brings its args struct from the format file", function()
  local r = csource.transform([[
TRACEPOINT_PROBE(syscalls, sys_enter_openat) { return args->dfd; }
]])
  ok(r.source:find("struct tracepoint__syscalls__sys_enter_openat {", 1, true), "struct")
  ok(r.source:find("union { const char * filename; u8 __lt_size_filename[8]; };", 1, true), "filename")
  ok(r.source:find("__builtin_offsetof(struct tracepoint__syscalls__sys_enter_openat, dfd) == 16", 1, true), "offset check")
  raises(function() csource.transform("TRACEPOINT_PROBE(nocat, noev) { return 0; }") end,
    "read tracepoint format nocat:noev: no such tracepoint")
end)

test("tracepoint format parsing, __data_loc included", function()
  local tpformat = require "luatrace.tpformat"
  local f = tpformat.parse([[
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:__data_loc char[] name;	offset:24;	size:4;	signed:0;
	field:char comm[16];	offset:8;	size:16;	signed:0;
]])
  eq(#f, 3)
  eq(f[2].name, "comm"); eq(f[2].decl, "char comm[16]"); eq(f[2].offset, 8)
  eq(f[3].name, "__data_loc_name"); eq(f[3].decl, "u32 __data_loc_name")
end)

test("tracepoint fields: the declared type decides signedness (syscalls say signed:0 for all)", function()
  local f = require("luatrace.tpformat").parse([[
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:unsigned int flags;	offset:32;	size:8;	signed:0;
	field:long ret;	offset:40;	size:8;	signed:1;
	field:pid_t pid;	offset:48;	size:4;	signed:0;
	field:size_t count;	offset:56;	size:8;	signed:0;
]])
  local got = {}
  for _, x in ipairs(f) do got[#got + 1] = x.name .. "=" .. tostring(x.signed) end
  eq(table.concat(got, " "), "dfd=true filename=false flags=false ret=true pid=true count=false")
end)

test("libbpf-style SEC(\".maps\") maps are found although strings are masked", function()
  local text = [[
struct { __uint(type, BPF_MAP_TYPE_HASH); } counts SEC(".maps");
struct { int x; } notmap SEC(".data");
int kprobe__f(struct pt_regs *ctx) { counts.increment(1); notmap.increment(1); return 0; }
]]
  local maps = csource.maps(csource.code_mask(text), text)
  eq(maps.counts, "libbpf")
  eq(maps.notmap, nil, "a .data section is no map")
  local b = lines(body(csource.transform(text).source))
  eq(b[3], 'SEC("kprobe/f") ' .. "int kprobe__f(struct pt_regs *ctx) { lt_m_increment(&counts, 1); notmap.increment(1); return 0; }")
end)

test("kernel includes are dropped on their line; their constants come first", function()
  local r = csource.transform([[
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include "local.h"
#include <stdint.h>
int kprobe__f(struct pt_regs *ctx) { return TASK_RUNNING; }
/*
#include <net/sock.h>
*/
#include <linux/fs.h> /* for S_ISREG */
]])
  local b = lines(body(r.source))
  eq(b[1], "// #include <uapi/linux/ptrace.h>: types from vmlinux.h")
  eq(b[2], "// #include <linux/sched.h>: types from vmlinux.h")
  eq(b[3], '#include "local.h"', "not a kernel header")
  eq(b[4], "#include <stdint.h>", "not a kernel header")
  eq(b[5], 'SEC("kprobe/f") int kprobe__f(struct pt_regs *ctx) { return TASK_RUNNING; }')
  eq(b[6], "/*", "an include in a block comment")
  eq(b[7], "// #include <net/sock.h>: types from vmlinux.h")
  eq(b[8], "*/")
  eq(b[9], "// #include <linux/fs.h>: types from vmlinux.h", "with a trailing comment")
  local head = r.source:match("^(.-)#line")
  ok(head:find("#define TASK_RUNNING 0x00000000\n", 1, true), "sched.h's constants")
end)
