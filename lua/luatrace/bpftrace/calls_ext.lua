-- luatrace.bpftrace.calls_ext: the rest of bpftrace 0.17's functions and
-- builtins (strftime, strerror, username, cgroup_path, cgroupid, macaddr,
-- kptr, uptr, reg, uaddr, pton, path, override, numaid), as methods of the
-- per-function generator F. Values resolved in user space are the types of
-- uvalues.lua; everything else is C.
local T = require "luatrace.bpftrace.types"
local core = require "luatrace.core"
local uvalues = require "luatrace.bpftrace.uvalues"

return function(F, G, H)
local int = H.int

-- pt_regs as an array of u64, by bpftrace's register names, per arch.
local regs_by_arch = {
  x64 = { "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx",
    "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss" },
  arm64 = {},
}
for i = 0, 30 do regs_by_arch.arm64[i + 1] = "r" .. i end
for _, n in ipairs({ "sp", "pc", "pstate" }) do regs_by_arch.arm64[#regs_by_arch.arm64 + 1] = n end
local reg_index = {}
for i, n in ipairs(regs_by_arch[jit.arch] or {}) do reg_index[n] = i - 1 end

-- Probe kinds whose context is a struct pt_regs (perf events start with one).
local regs_ctx = { kprobe = true, kretprobe = true, uprobe = true, uretprobe = true, usdt = true,
  profile = true, interval = true, software = true, hardware = true }

-- A value of a user-space-resolved type holding one u64.
local function word(ty, c)
  return { ty = ty, write = function(dest) return ("%s.v = (u64)(%s);"):format(dest, c) end }
end

local function literal(self, e, a, fname)
  if not a or a.k ~= "Str" then self:err(a or e, fname .. "() expects a string literal") end
  return a.v
end

local function nargs(self, e, lo, hi)
  local n = #e.args
  if n < lo or n > hi then
    if lo == hi then
      self:err(e, ("%s() requires %d argument%s (%d provided)"):format(e.name, lo, lo == 1 and "" or "s", n))
    end
    self:err(e, ("%s() takes %d to %d arguments (%d provided)"):format(e.name, lo, hi, n))
  end
end

local function integer(self, a, fname)
  local v = self:expr(a)
  if not v.c then self:err(a, fname .. "() expects an integer, not " .. T.name(v.ty)) end
  return v
end

local function probe_only(self, e, kinds, what)
  local k = self.probe.kind
  if not kinds[k] then self:err(e, ('%s can not be used with "%s" probes'):format(what, k)) end
end

-- Bytes of an IPv4/IPv6 literal, or nil.
local function inet_bytes(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if a then
    local t = { tonumber(a), tonumber(b), tonumber(c), tonumber(d) }
    for _, x in ipairs(t) do if x > 255 then return nil end end
    return t
  end
  if not s:find(":", 1, true) then return nil end
  local head, tail = s, nil
  local dc = s:find("::", 1, true)
  if dc then head, tail = s:sub(1, dc - 1), s:sub(dc + 2) end
  local function groups(part)
    local g = {}
    if part == "" then return g end
    for x in (part .. ":"):gmatch("([^:]*):") do
      if not x:match("^%x%x?%x?%x?$") then return nil end
      g[#g + 1] = tonumber(x, 16)
    end
    return g
  end
  local hg, tg = groups(head), tail and groups(tail) or {}
  if not hg or not tg then return nil end
  local n = #hg + #tg
  if (dc and n > 7) or (not dc and n ~= 8) then return nil end
  local all = {}
  for _, x in ipairs(hg) do all[#all + 1] = x end
  for _ = 1, 8 - n do all[#all + 1] = 0 end
  for _, x in ipairs(tg) do all[#all + 1] = x end
  local out = {}
  for _, x in ipairs(all) do out[#out + 1] = math.floor(x / 256); out[#out + 1] = x % 256 end
  return out
end

local ext = {}

function ext.strftime(self, e)
  nargs(self, e, 2, 2)
  local f = literal(self, e, e.args[1], "strftime")
  local v = integer(self, e.args[2], "strftime")
  return word({ t = "strftime", fmt = f }, v.c)
end

function ext.strerror(self, e)
  nargs(self, e, 1, 1)
  return word({ t = "strerror" }, integer(self, e.args[1], "strerror").c)
end

function ext.cgroup_path(self, e)
  nargs(self, e, 1, 2)
  if e.args[2] then self:err(e.args[2], "cgroup_path(): the filter argument is not supported by luatrace") end
  return word({ t = "cgroup_path" }, integer(self, e.args[1], "cgroup_path").c)
end

function ext.cgroupid(self, e)
  nargs(self, e, 1, 1)
  local path = literal(self, e, e.args[1], "cgroupid")
  local id = uvalues.cgroup_id(path)
  if not id then self:err(e, ("Failed to get `cgroupid` for path: %q: no such cgroup directory"):format(path)) end
  return int(("%dULL"):format(id), false)
end

function ext.macaddr(self, e)
  nargs(self, e, 1, 1)
  local v = self:expr(e.args[1])
  local ty = { t = "macaddr" }
  if v.c then
    return { ty = ty, write = function(dest)
      return ("lt_bt_read(%s.a, 6, (const void *)(%s));"):format(dest, v.c)
    end }
  end
  local size = v.ty.t == "str" and v.ty.size or v.ty.t == "arr" and v.ty.n
  if size ~= 6 then self:err(e, "macaddr() argument must be 6 bytes in size") end
  local src = self:mat(v)
  return { ty = ty, write = function(dest)
    return ("__builtin_memcpy(%s.a, &%s, 6);"):format(dest, src)
  end }
end

-- kptr/uptr: the address space is already chosen per read (kernel first,
-- user on a fault); uptr marks the pointer user for BTF member reads.
function ext.kptr(self, e)
  nargs(self, e, 1, 1)
  return self:expr(e.args[1])
end
function ext.uptr(self, e)
  nargs(self, e, 1, 1)
  local v = self:expr(e.args[1])
  if v.ty.t == "ptr" then
    local ty = T.copy(v.ty)
    ty.user = true
    return { ty = ty, c = v.c }
  end
  return v
end

function ext.reg(self, e)
  nargs(self, e, 1, 1)
  local name = literal(self, e, e.args[1], "reg")
  probe_only(self, e, regs_ctx, "reg")
  local i = reg_index[name]
  if not i then
    self:err(e.args[1], ("'%s' is not a valid register on this architecture (%s)"):format(name, jit.arch))
  end
  return int(("(((u64 *)ctx)[%d])"):format(i), false)
end

function ext.uaddr(self, e)
  nargs(self, e, 1, 1)
  local name = literal(self, e, e.args[1], "uaddr")
  probe_only(self, e, { uprobe = true, uretprobe = true, usdt = true }, "uaddr")
  local p = self.probe
  require("luatrace.bpftrace.inputs").volatile("uaddr()")
  local addr, size = core.elf_symbol(p.path, name)
  if not addr then self:err(e, ("Could not resolve symbol: %s:%s"):format(p.path, name)) end
  local ffi = require "ffi"
  local txt = tostring(ffi.cast("uint64_t", addr)):gsub("U?LL$", "")
  local w = (size == 1 or size == 2 or size == 4) and size or 8
  return { ty = { t = "ptr", cty = ("u%d *"):format(w * 8), int = { w, false }, user = true },
    c = txt .. "ULL" }
end

function ext.pton(self, e)
  nargs(self, e, 1, 1)
  local s = literal(self, e, e.args[1], "pton")
  local bytes = inet_bytes(s)
  if not bytes then self:err(e.args[1], "pton(): invalid IPv4 or IPv6 address: " .. s) end
  return { ty = T.str(#bytes), write = function(dest)
    local out = {}
    for i, b in ipairs(bytes) do out[i] = ("((u8 *)&%s)[%d] = %d;"):format(dest, i - 1, b) end
    return table.concat(out, " ")
  end }
end

-- path(): bpf_d_path, which the kernel allows only in fentry/fexit
-- programs on an allowlist of functions (vfs_*, security_file_*, ...).
function ext.path(self, e)
  nargs(self, e, 1, 1)
  local k = self.probe.kind
  if k ~= "kfunc" and k ~= "kretfunc" then
    self:err(e, "The path function can only be used with 'kfunc', 'kretfunc' probes")
  end
  local v = self:expr(e.args[1])
  if not v.c then self:err(e.args[1], "path() expects a struct path pointer") end
  return { ty = T.str(T.STRLEN), write = function(dest)
    return ("bpf_d_path((struct path *)(%s), (char *)&%s, sizeof(%s));"):format(v.c, dest, dest)
  end }
end

function ext.override(self, e, stmt_ctx)
  nargs(self, e, 1, 1)
  if not stmt_ctx then self:err(e, "override() does not return a value") end
  if not self.g.opts.unsafe then
    self:err(e, "override() is an unsafe function being used in safe mode (run with --unsafe)")
  end
  if self.probe.kind ~= "kprobe" then self:err(e, "override() can only be used with kprobes") end
  local v = integer(self, e.args[1], "override")
  self:emit(("bpf_override_return(ctx, (u64)(%s));"):format(v.c))
  return { ty = T.NONE }
end

-- strcontains(haystack, needle): 1 when needle occurs in haystack (bpftrace
-- 0.17). A literal needle compares in line; any other through the helper.
function ext.strcontains(self, e)
  nargs(self, e, 2, 2)
  local h, n = self:expr(e.args[1]), self:expr(e.args[2])
  if h.ty.t ~= "str" or n.ty.t ~= "str" then self:err(e, "strcontains() compares two strings") end
  local hc = h.lit and H.cstr(h.lit) or self:mat(h)
  if n.lit then
    local lit = n.lit
    if lit == "" then return int("1") end
    local cmp = {}
    for i = 1, #lit do cmp[i] = ("__h[__i + %d] == %d"):format(i - 1, lit:byte(i)) end
    return int(([[({ const char *__h = (const char *)(%s); int __f = 0;
for (u32 __i = 0; __i + %d <= %d; __i++) { if (__h[__i] == 0) break; if (%s) { __f = 1; break; } }
__f; })]]):format(hc, #lit, h.ty.size, table.concat(cmp, " && ")))
  end
  local nc = self:mat(n)
  return int(("lt_bt_strcontains((const char *)(%s), %d, (const char *)(%s), %d)"):format(
    hc, math.min(h.ty.size, 64), nc, math.min(n.ty.size, 64)))
end

-- has_key(@m, key...): 1 when the map holds the key (current bpftrace).
function ext.has_key(self, e)
  if #e.args < 2 then self:err(e, "has_key() takes a map and a key") end
  local mapnode = e.args[1]
  if mapnode.k ~= "Map" or mapnode.keys then self:err(mapnode, "has_key() expects a map without a key as its first argument") end
  local keys = {}
  for i = 2, #e.args do keys[#keys + 1] = e.args[i] end
  if #keys == 1 and keys[1].k == "Tuple" then keys = keys[1].elems or keys end
  local node = { k = "Map", name = mapnode.name, keys = keys, pos = mapnode.pos, epos = mapnode.epos }
  local vals, keyT = self:key_types(node)
  local m = self.g:map_use(node, nil, nil, keyT)
  if not m.kind then m.kind, m.V, m.assumed = "value", T.copy(T.INT), true end
  local k = self:build_key(node, m, vals)
  -- looked up now: the key temporary is shared with the map's other uses
  return int(self:hoist(("(bpf_map_lookup_elem(&%s, &%s) != 0)"):format(m.cname, k)), false)
end

-- skboutput(path, skb, length, offset): the skb's first `length` bytes
-- through a perf buffer (bpf_skb_output, fentry/fexit only); Lua writes
-- them from `offset` on as a packet of the pcap file `path` (RAW IP, as
-- bpftrace). Returns the helper's result (0 on success).
G.skb_decl = [[BPF_PERF_OUTPUT(lt_bt_skb);
struct lt_bt_skb_meta { u64 id; u64 ns; u64 len; u64 off; };
LT_EXPORT_TYPE(struct lt_bt_skb_meta, lt_bt_skb);]]

function ext.skboutput(self, e)
  nargs(self, e, 4, 4)
  local k = self.probe.kind
  if k ~= "kfunc" and k ~= "kretfunc" then
    self:err(e, "skboutput() can only be used with 'kfunc', 'kretfunc' probes")
  end
  local path = literal(self, e, e.args[1], "skboutput")
  local skb = self:expr(e.args[2])
  if not skb.c then self:err(e.args[2], "skboutput() expects a struct sk_buff pointer") end
  local len = integer(self, e.args[3], "skboutput")
  local off = self:const_int(e.args[4])
  if not off or off < 0 then self:err(e.args[4], "skboutput(): the offset must be a non-negative integer literal") end
  local files = self.g.skb_files or {}
  self.g.skb_files = files
  local id
  for i, f in ipairs(files) do if f == path then id = i end end
  if not id then files[#files + 1] = path; id = #files end
  return int(self:hoist(([[({ struct lt_bt_skb_meta __m = { %d, bpf_ktime_get_ns(), (u32)(%s), %d };
(s64)bpf_skb_output((void *)(%s), &lt_bt_skb, (__m.len << 32) | BPF_F_CURRENT_CPU, &__m, sizeof(__m)); })]]):format(
    id, len.c, off, skb.c)))
end

-- func and probe of a probe attached to many functions (kprobe:vfs_*):
-- one program, one link per match whose BPF cookie indexes lt_bt_names,
-- which the runtime fills ({cookie * 2} = func, {cookie * 2 + 1} = probe).
G.NAMELEN = 128
G.names_decl = ([[struct lt_bt_name { char s[%d]; };
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, u32);
	__type(value, struct lt_bt_name);
} lt_bt_names SEC(".maps");]]):format(G.NAMELEN)

-- The string sizes keep a key of both within the 512-byte BPF stack.
local SIZE = { func = 64, probe = 96 }

function F:target_name(e, which)
  self.g.need_names = true
  local slot = which == "probe" and 1 or 0
  return { ty = T.str(SIZE[which]), write = function(dest)
    return ([[{ u32 __k = (u32)bpf_get_attach_cookie(%s) * 2 + %d;
struct lt_bt_name *__n = bpf_map_lookup_elem(&lt_bt_names, &__k);
if (__n) __builtin_memcpy(&%s, __n->s, sizeof(%s) < %d ? sizeof(%s) : %d); else ((char *)&%s)[0] = 0; }]]):format(
      self.probe.kind == "tracepoint" and "args" or "ctx", slot, dest, dest, G.NAMELEN, dest, G.NAMELEN, dest)
  end }
end

-- A function of this file, or nil to let calls.lua go on.
function F:call_ext(e, stmt_ctx)
  local f = ext[e.name]
  if f then return f(self, e, stmt_ctx) end
end

-- Builtins resolved here (username, numaid), or nil.
function F:builtin_ext(e)
  if e.name == "username" then
    return word({ t = "username" }, "(bpf_get_current_uid_gid() & 0xffffffff)")
  end
  if e.name == "numaid" then return int("bpf_get_numa_node_id()", false) end
end

end
