-- Wildcard kprobes, path(), override() and skboutput() in the kernel matrix. A wildcard
-- probe block is one BPF program attached to every match with a cookie
-- naming it, so the C the host precompiled (from the host's function list)
-- is the C the guest generates from its own: vfscount.bt and vfsstat.bt
-- hit the cache. path() is bpf_d_path in a kfunc; override() is
-- bpf_override_return (or one clear error where the kernel refuses it).
local lt = require "luatrace"
local core = lt.core
local bt = require "luatrace.bpftrace"
local ffi = require "ffi"

pcall(ffi.cdef, "int getppid(void);")

local function bt_program(name, src, opts)
  local o = { name = name }
  for k, v in pairs(opts or {}) do o[k] = v end
  local p = program(bt.compile(src, o).c)
  p.origin = { file = "bpftrace:" .. name, line = 1 }
  p.bt = { name = name, src = src, opts = o }
  return p
end

local function run(p, trigger, ms, extra)
  local out = {}
  local o = { out = function(s) out[#out + 1] = s end }
  for k, v in pairs(p.bt.opts) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  local prog = bt.load(p.bt.src, o)
  if trigger then trigger() end
  prog:run { duration_ms = ms or 300 }
  return table.concat(out)
end

local function tool(name)
  local path = "/usr/sbin/" .. name .. ".bt"
  local fh = io.open(path)
  if not fh then return { missing = path } end
  local src = fh:read("*a")
  fh:close()
  return bt_program(path, src)
end

local WILD = bt_program("vm-wild", [[
kprobe:vfs_rea* /arg2 == 123/ { @f[func] = count(); }
kretprobe:vfs_rea* /retval == 123/ { @p[probe] = count(); }]], { pid = 1 })

test("wildcard kprobe/kretprobe: one program each, func and probe from the cookie", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(WILD, function() reads(3) end, 300, { pid = core.getpid() })
  ok(out:find("^Attaching %d+ probes%.%.%.\n"), out)
  ok(out:find("\n@f%[vfs_read%]: 3\n"), out)
  ok(out:find("\n@p%[kretprobe:vfs_read%]: 3\n"), out)
end)

local VFSCOUNT, VFSSTAT = tool("vfscount"), tool("vfsstat")

test("vfscount.bt: vfs_read counted by func", function()
  if VFSCOUNT.missing then skip(VFSCOUNT.missing .. " is not installed on the host") end
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(VFSCOUNT, function() reads(50) end)
  local n = tonumber(out:match("\n@%[vfs_read%]: (%d+)\n"))
  ok(n and n >= 50, out)
end)

test("vfsstat.bt: per-second counts of vfs_read", function()
  if VFSSTAT.missing then skip(VFSSTAT.missing .. " is not installed on the host") end
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  local out = run(VFSSTAT, function() reads(40) end, 1500)
  ok(out:find("^Attaching %d+ probes%.%.%.\nTracing key VFS calls%.%.%. Hit Ctrl%-C to end%.\n"), out)
  local n = tonumber(out:match("\n%d%d:%d%d:%d%d\n.-@%[vfs_read%]: (%d+)\n"))
  ok(n and n >= 40, out)
end)

local PATH = bt_program("vm-path", [[kfunc:security_inode_getattr { printf("%s\n", path(args->path)); }]], { pid = 1 })
pcall(ffi.cdef, "int stat(const char *path, void *buf);")

test("path(): bpf_d_path of a kfunc's struct path", function()
  if not core.has_fentry() then skip("fentry is not available in this kernel") end
  local f = "/tmp/lt-bt-path-probe"
  io.open(f, "w"):close()
  local out = run(PATH, function() ffi.C.stat(f, ffi.new("char[256]")) end, 300, { pid = core.getpid() })
  os.remove(f)
  ok(out:find("\n" .. f .. "\n", 1, true), out)
end)

local OVERRIDE = bt_program("vm-override", [[kprobe:__x64_sys_getppid { override(-42); }]],
  { unsafe = true, pid = 1 })

test("override(): getppid returns -42, or one clear error where the kernel refuses it", function()
  if not core.has_kprobes() then skip("no kprobes in this kernel") end
  if jit.arch ~= "x64" then skip("the syscall's symbol is x86-64's") end
  local ok_, res = pcall(run, OVERRIDE, function() end, 1, { pid = core.getpid() })
  if ok_ then
    -- attached: the next getppid of this process is overridden
    local prog = bt.load(OVERRIDE.bt.src, { name = OVERRIDE.bt.name, unsafe = true, pid = core.getpid(),
      out = function() end })
    local r = ffi.C.getppid()
    prog:run { duration_ms = 1 }
    eq(r, -42)
  else
    ok(tostring(res):find("^override%(%): this kernel refuses bpf_override_return"), tostring(res))
  end
end)

pcall(ffi.cdef, "struct lt_skb_sin { uint16_t family; uint16_t port; uint32_t addr; uint8_t zero[8]; };")
for _, decl in ipairs({ "int socket(int domain, int type, int protocol);",
  "long sendto(int fd, const void *buf, size_t n, int flags, const void *addr, unsigned len);",
  "int bind(int fd, const void *addr, unsigned len);", "int getsockname(int fd, void *addr, unsigned *len);",
  "int close(int fd);" }) do
  pcall(ffi.cdef, decl)
end

local SKB_FILE = "/tmp/lt-bt-skb.pcap"
local SKB = bt_program("vm-skb", ([[kfunc:__dev_queue_xmit { $r = skboutput("%s", args->skb, args->skb->len, 14); @r[$r] = count(); }]]):format(SKB_FILE), { pid = 1 })

test("skboutput(): a UDP packet on loopback as a RAW IP pcap record", function()
  if not core.has_fentry() then skip("fentry is not available in this kernel") end
  local payload = "lt-skb-payload-0123456789"
  -- a bound receiver, so no ICMP "port unreachable" goes out as well
  local rx = ffi.C.socket(2, 2, 0)
  local sa = ffi.new("struct lt_skb_sin", { family = 2, addr = 0x0100007f })
  local len = ffi.new("unsigned[1]", ffi.sizeof(sa))
  assert(ffi.C.bind(rx, sa, ffi.sizeof(sa)) == 0 and ffi.C.getsockname(rx, sa, len) == 0)
  local out = run(SKB, function()
    local fd = ffi.C.socket(2, 2, 0)
    assert(ffi.C.sendto(fd, payload, #payload, 0, sa, ffi.sizeof(sa)) == #payload)
    ffi.C.close(fd)
  end, 300, { pid = core.getpid() })
  ffi.C.close(rx)
  eq(out, "Attaching 1 probe...\n\n\n@r[0]: 1\n")
  local fh = assert(io.open(SKB_FILE, "rb"))
  local data = fh:read("*a")
  fh:close()
  os.remove(SKB_FILE)
  eq(data:sub(1, 4), "\212\195\178\161", "pcap magic")
  eq(data:byte(21), 101, "LINKTYPE_RAW")
  local incl = data:byte(33) + data:byte(34) * 256
  eq(incl, 20 + 8 + #payload, "IPv4 + UDP + payload")
  local pkt = data:sub(41, 40 + incl)
  eq(pkt:byte(1), 0x45, "an IPv4 header first")
  eq(pkt:sub(-#payload), payload)
  eq(#data, 40 + incl, "one packet")
end)
