-- luatrace.bpf.attach: the probes of a BPF object. Links are registered
-- as "kind:target:program", so several programs may attach to one event;
-- detaching by target closes them all, or one program's with fn_name=.
--
-- Everything per kind comes from luatrace.probekinds: auto-attach maps a
-- program's section to its kind and named arguments, and the
-- attach_<kind>/detach_<kind> methods and num_open_* are generated from
-- the same entries, so a kind is attached the same way by section or by
-- method.
--
-- A BCC-style `int f(void *ctx)` has no type until an attach call gives
-- it one (csource puts it in the lazy section): the object is opened once
-- more with only that program, typed for the attach, sharing the first
-- instance's maps, and loaded then.
local core = require "luatrace.core"
local probekinds = require "luatrace.probekinds"
local args = require "luatrace.bpf.args"
local suggest = require "luatrace.suggest"

local M = {}
local methods = {}
M.methods = methods

function M.init(self)
  self._links, self._order, self._lazy = {}, {}, {}
end

-- (a program given a target by BPF{attach_targets=} reads as if its
-- section named it: "fentry" + vfs_read -> "fentry/vfs_read")
local function programs(self)
  if not self._programs then
    self._programs = self._obj:programs()
    for _, p in ipairs(self._programs) do
      local t = self._targets and self._targets[p.name]
      if t then p.section = p.section:match("^[^/]*") .. "/" .. t end
    end
  end
  return self._programs
end

local function program_names(self)
  local names = {}
  for _, p in ipairs(programs(self)) do names[#names + 1] = p.name end
  table.sort(names)
  return names
end

-- " (programs: a, b)" for messages about a missing or unknown fn_name.
local function programs_hint(self)
  return (" (programs: %s)"):format(table.concat(program_names(self), ", "))
end

local function find_program(self, fn, method)
  for _, p in ipairs(programs(self)) do
    if p.name == fn then return p end
  end
  args.raisef("%s: no program %s in %s%s%s", method, fn, self._name,
    suggest.hint(fn, program_names(self)), programs_hint(self))
end

-- Programs in the lazy section: left out of the first load.
function M.defer_lazy(self)
  for _, p in ipairs(programs(self)) do
    if p.section == probekinds.LAZY_SECTION then self._obj:set_autoload(p.name, false) end
  end
end

-- The object whose program fn attaches as `kind`: the loaded object, after
-- checking the program's type, or a lazily loaded instance for an untyped
-- program.
local function program_object(self, kind, fn, method)
  local p = find_program(self, fn, method)
  if p.section == probekinds.LAZY_SECTION then
    local key = fn .. "/" .. kind.sec
    local inst = self._lazy[key]
    if inst then return inst end
    if kind.from_program then
      args.raisef("%s: program %s has no target; name it %s<function> or give it a SEC(\"%s/...\")",
        method, fn, kind.bcc or "", kind.sec)
    end
    local btf_done
    inst, btf_done = require("luatrace.bpf.source").open(self._bytes, self._path, self._name)
    local ok, err = pcall(function()
      for _, q in ipairs(inst:programs()) do
        if q.name ~= fn then inst:set_autoload(q.name, false) end
      end
      inst:set_program_type(fn, kind.sec)
      inst:reuse_maps(self._obj)
      inst:load()
    end)
    btf_done()
    if not ok then inst:close(); error(err, 0) end
    self._lazy[key] = inst
    return inst
  end
  if kind.prog_type and p.type ~= kind.prog_type then
    args.raisef("%s: program %s is a %s program (section %s); %s needs a %s program",
      method, fn, p.type, p.section, method, kind.prog_type)
  end
  return self._obj
end

local function key_of(kind, target, fn) return kind.name .. ":" .. target .. ":" .. fn end

-- Register a link the caller made (usdt_contexts attach their own).
function M.register(self, kind_name, target, fn, link)
  local key = key_of(probekinds.by_name[kind_name], target, fn)
  self._links[key] = { link = link, kind = kind_name, target = target, fn = fn }
  self._order[#self._order + 1] = key
  return link
end

-- Attach program fn as `kind` with named arguments o.
local function attach(self, kind, o, fn, method)
  local target = kind.target(o)
  local key = key_of(kind, target, fn)
  local have = self._links[key]
  if have then
    if kind.from_program then return have.link end -- fentry/fexit: one target per program
    args.raisef("%s %s: program %s is already attached there (detach_%s first)",
      method, target, fn, kind.method or kind.name)
  end
  local obj = program_object(self, kind, fn, method)
  return M.register(self, kind.name, target, fn, kind.attach(obj, fn, o))
end

local function detach(self, kind, target, fn, method)
  local n = 0
  for _, key in ipairs(self._order) do
    local l = self._links[key]
    if l and l.kind == kind.name and l.target == target and (not fn or l.fn == fn) then
      l.link:close()
      self._links[key] = nil
      n = n + 1
    end
  end
  if n == 0 then args.raisef("%s: %s:%s is not attached", method, kind.name, target) end
end

-- Attach every program whose section names a kind and a target (BCC's
-- auto-attach; csource wrote the sections from BCC names).
function M.auto_attach(self)
  for _, p in ipairs(programs(self)) do
    if not self._only or self._only[p.name] then
      local kind, o = probekinds.from_section(p.section)
      if kind then attach(self, kind, o, p.name, "attach " .. p.section) end
    end
  end
end

-- Named arguments of a fentry/fexit-style kind: the target is in the
-- program's section.
local function section_args(self, kind, fn, method)
  local p = find_program(self, fn, method)
  local k, o = probekinds.from_section(p.section)
  if k ~= kind then
    args.raisef("%s: program %s is not a %s program (section %s)", method, fn, kind.name, p.section)
  end
  return o
end

local function generate(kind)
  local attach_name, detach_name = "attach_" .. kind.method, "detach_" .. kind.method
  local spec = { { "fn_name", "string", true } }
  for _, a in ipairs(kind.args) do spec[#spec + 1] = a end
  methods[attach_name] = function(self, o)
    args.check(attach_name, o, spec, function(name)
      return name == "fn_name" and programs_hint(self) or ""
    end)
    if kind.validate then
      local err = kind.validate(o)
      if err then args.raisef("%s: %s", attach_name, err) end
    end
    local fn = o.fn_name
    if kind.from_program then o = section_args(self, kind, fn, attach_name) end
    return attach(self, kind, o, fn, attach_name)
  end
  local dspec = {}
  for _, a in ipairs(spec) do dspec[#dspec + 1] = { a[1], a[2], a[1] ~= "fn_name" and a[3] } end
  if kind.from_program then dspec[1][3] = true end
  methods[detach_name] = function(self, o)
    args.check(detach_name, o, dspec)
    local target
    if kind.from_program then
      target = kind.target(section_args(self, kind, o.fn_name, detach_name))
    else
      target = kind.target(o)
    end
    detach(self, kind, target, o.fn_name, detach_name)
  end
end

for _, kind in ipairs(probekinds.list) do
  if kind.method then generate(kind) end
end

-- b:attach_uprobes{ {name=, sym=|addr=, fn_name=, pid=, cookie=,
-- retprobe=, optional=}, ... }: attach uprobes (uretprobes with
-- retprobe=true) together. Each opening waits for an RCU grace period in
-- the kernel; opened at once they share one (host/link_uprobes.c). All or
-- nothing: a failure closes every link this call made and raises the
-- first failure of the list, except that an entry with optional=true
-- that fails is left out (its place in the result is false). Returns the
-- links, in the list's order.
local batch_spec = { { "retprobe", "boolean" }, { "optional", "boolean" } }

function methods.attach_uprobes(self, list)
  local method = "attach_uprobes"
  if type(list) ~= "table" then
    args.raisef("%s: expected a list of uprobes ({name=, sym=, fn_name=}, ...), got %s", method, type(list))
  end
  local reqs, keys, seen = {}, {}, {}
  for i, o in ipairs(list) do
    local kind = probekinds.by_name[type(o) == "table" and o.retprobe and "uretprobe" or "uprobe"]
    local what = ("%s: entry %d"):format(method, i)
    local spec = { { "fn_name", "string", true } }
    for _, a in ipairs(kind.args) do spec[#spec + 1] = a end
    for _, a in ipairs(batch_spec) do spec[#spec + 1] = a end
    args.check(what, o, spec, function(name) return name == "fn_name" and programs_hint(self) or "" end)
    local err = kind.validate(o)
    if err then args.raisef("%s: %s", what, err) end
    local target = kind.target(o)
    local key = key_of(kind, target, o.fn_name)
    if self._links[key] or seen[key] then
      args.raisef("%s: %s %s: program %s is already attached there", what, kind.name, target, o.fn_name)
    end
    seen[key] = true
    reqs[i] = kind.request(program_object(self, kind, o.fn_name, method), o.fn_name, o)
    keys[i] = { kind = kind.name, target = target }
  end
  local res = core.attach_uprobes(reqs)
  local made, first = {}, nil
  for i, r in ipairs(res) do
    if type(r) == "string" then
      if not list[i].optional then first = first or r end
      res[i] = false
    else
      made[#made + 1] = r
    end
  end
  if first then
    core.close_links(made)
    error(first, 0)
  end
  for i, r in ipairs(res) do
    if r then M.register(self, keys[i].kind, keys[i].target, list[i].fn_name, r) end
  end
  return res
end

-- num_open_kprobes(), num_open_uprobes(), num_open_tracepoints(): kernel
-- attachments held by the links of the kinds in each class.
for class, kinds in pairs(probekinds.count_classes()) do
  methods["num_open_" .. class] = function(self)
    local n = 0
    for _, l in pairs(self._links) do
      if kinds[l.kind] then n = n + l.link:count() end
    end
    return n
  end
end

-- Detach everything and close the lazily loaded instances. The links
-- close together (core.close_links overlaps the kernel's detaches, each
-- a wait for RCU grace periods) and are all gone when it returns.
function M.close(self)
  local list = {}
  for _, key in ipairs(self._order or {}) do
    local l = self._links[key]
    if l then list[#list + 1] = l.link end
  end
  core.close_links(list)
  self._links, self._order = {}, {}
  for _, inst in pairs(self._lazy or {}) do inst:close() end
  self._lazy = {}
end

return M
