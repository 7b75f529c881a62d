-- luatrace.toolkit.options: the one option parser of every tool: value
-- types, BCC's shared options, usage text, parse. (luatrace.toolkit
-- re-exports all of it.)
local M = {}
local function read_pid_max()
  local f = io.open("/proc/sys/kernel/pid_max")
  local n = f and tonumber(f:read("*l"))
  if f then f:close() end
  return n or 4194304
end

-- Value types: each turns the word into a value or returns nil, why.
M.types = {
  number = function(s)
    local v = tonumber(s)
    if not v or v ~= v then return nil, "a number" end
    return v
  end,
  int = function(s)
    local v = tonumber(s)
    if not v or v % 1 ~= 0 or not s:match("^%-?%d+$") then return nil, "a whole number" end
    return v
  end,
  uint = function(s)
    local v = s:match("^%d+$") and tonumber(s)
    if not v then return nil, "a whole number >= 0" end
    return v
  end,
  positive = function(s)
    local v = tonumber(s)
    if not v or v <= 0 then return nil, "a number > 0" end
    return v
  end,
  pid = function(s)
    local v = s:match("^%d+$") and tonumber(s)
    local max = read_pid_max()
    if not v or v < 1 or v >= max then
      return nil, ("a process id (1..%d)"):format(max - 1)
    end
    return v
  end,
  string = function(s) return s end,
}

-- Options every tool may list (BCC's conventions).
M.opt = {
  pid = { "-p", "--pid", type = "pid", help = "trace this PID only" },
  tid = { "-L", "--tid", type = "pid", help = "trace this thread ID only" },
  timestamp = { "-t", "--timestamp", type = "flag", help = "include a timestamp (seconds since start)" },
  time = { "-T", "--time", type = "flag", help = "include a time column (HH:MM:SS)" },
  failed = { "-x", "--failed", type = "flag", help = "only show failed calls" },
  cgroup = { "-c", "--cgroup", type = "string", metavar = "PATH", help = "trace this cgroup (v2 path) only" },
  duration = { "-d", "--duration", type = "positive", metavar = "SECONDS", help = "trace for this many seconds" },
  interval = { "interval", positional = true, type = "positive", help = "output interval, in seconds" },
  count = { "count", positional = true, type = "uint", help = "number of outputs" },
  comm = { "-n", "--name", type = "string", key = "name", metavar = "NAME", help = "only processes whose name contains NAME" },
  -- stack tools (profile, offcputime): BCC's flags, read by toolkit.stacks
  user_stacks = { "-U", "--user-stacks-only", type = "flag", key = "user_only", help = "show stacks from user space only" },
  kernel_stacks = { "-K", "--kernel-stacks-only", type = "flag", key = "kernel_only", help = "show stacks from kernel space only" },
  delimited = { "-d", "--delimited", type = "flag", help = "insert delimiter between kernel/user stacks" },
  folded = { "-f", "--folded", type = "flag", help = "output folded format, one line per stack (for flame graphs)" },
}

-- The stack tools' map sizes (libbpf-tools' flags; BCC has the first;
-- toolkit.stack_map_sizes turns them into BPF{} sizes): the default is
-- the size the tool's object declares.
function M.stack_storage_opt(default_entries)
  return { "--stack-storage-size", type = "positive", metavar = "STACK_STORAGE_SIZE",
    help = ("the number of unique stack traces that can be stored and displayed (default %d)"):format(default_entries) }
end
M.opt.stack_depth = { "--perf-max-stack-depth", type = "positive", metavar = "PERF_MAX_STACK_DEPTH",
  help = "the limit for both kernel and user stack traces (default 127)" }

local common = {
  { "--json", type = "flag", help = "print JSON lines (one object per event or interval)" },
  { "-h", "--help", type = "flag", help = "show this help and exit" },
}

local function key_of(o)
  if o.key then return o.key end
  if o.positional then return o[1] end
  for _, f in ipairs(o) do
    if f:sub(1, 2) == "--" then return (f:sub(3):gsub("%-", "_")) end
  end
  return o[1]:sub(2)
end

local function all_options(def)
  local list = {}
  for _, o in ipairs(def.options or {}) do list[#list + 1] = o end
  for _, o in ipairs(common) do list[#list + 1] = o end
  if def.metrics then list[#list + 1] = require("luatrace.metrics").option end
  if def.folded then list[#list + 1] = require("luatrace.flamegraph").option end
  return list
end

local function metavar(o)
  return o.metavar or (o.type == "pid" and "PID") or key_of(o):upper()
end

function M.usage(def)
  local opts, pos = {}, {}
  for _, o in ipairs(all_options(def)) do
    if o.positional then pos[#pos + 1] = o else opts[#opts + 1] = o end
  end
  local synopsis = { ("usage: luatrace -m %s [options]"):format(def.name) }
  local open = 0
  for _, o in ipairs(pos) do
    if o.required then
      synopsis[#synopsis + 1] = o[1]
    else
      synopsis[#synopsis + 1] = "[" .. o[1]; open = open + 1
    end
  end
  local head = table.concat(synopsis, " ") .. ("]"):rep(open)
  local lines = { head, "", def.description, "" }
  local function row(left, help)
    if #left > 24 then
      lines[#lines + 1] = "  " .. left
      lines[#lines + 1] = (" "):rep(28) .. help
    else
      lines[#lines + 1] = ("  %-26s%s"):format(left, help)
    end
  end
  if #pos > 0 then
    lines[#lines + 1] = "positional arguments:"
    for _, o in ipairs(pos) do row(o[1], o.help or "") end
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "options:"
  for _, o in ipairs(opts) do
    local left = table.concat(o, ", ")
    if o.type ~= "flag" and o.type ~= "count" then left = left .. " " .. metavar(o) end
    local help = o.help or ""
    if o.default ~= nil and o.type ~= "flag" then help = help .. (" (default %s)"):format(tostring(o.default)) end
    row(left, help)
  end
  if def.examples then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "examples:"
    for _, e in ipairs(def.examples) do lines[#lines + 1] = "  " .. e end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Parse argv (a Lua array of words) for tool `def`: opts, or nil, message.
-- Flags: -x, --long, -v VALUE, -vVALUE, --long VALUE, --long=VALUE, and
-- bundled short flags (-tx). "--" ends options.
function M.parse(def, argv)
  local by_flag, positionals, o = {}, {}, {}
  for _, spec in ipairs(all_options(def)) do
    if spec.positional then
      positionals[#positionals + 1] = spec
    else
      for _, f in ipairs(spec) do by_flag[f] = spec end
    end
    if spec.default ~= nil then o[key_of(spec)] = spec.default end
  end
  local function set(spec, flag, word)
    local key = key_of(spec)
    if spec.type == "flag" then o[key] = true; return true end
    if spec.type == "count" then o[key] = (o[key] or 0) + 1; return true end
    local conv = M.types[spec.type or "string"]
    if not conv then error(("tool %s: option %s has unknown type %s"):format(def.name, flag, tostring(spec.type)), 0) end
    local v, want = conv(word)
    if v == nil then
      return nil, ("%s: %s %s: expected %s"):format(def.name, flag, word, want)
    end
    if spec.check then
      local okc, why = spec.check(v)
      if not okc then return nil, ("%s: %s %s: %s"):format(def.name, flag, word, why) end
    end
    if spec.many then
      o[key] = o[key] or {}
      o[key][#o[key] + 1] = v
    else
      o[key] = v
    end
    return true
  end
  local npos, i, only_pos = 0, 1, false
  while i <= #argv do
    local a = tostring(argv[i])
    local ok, err
    if not only_pos and a == "--" then
      only_pos = true
      i = i + 1
      goto continue
    elseif not only_pos and a:sub(1, 2) == "--" then
      local name, val = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local spec = by_flag[name]
      if not spec then return nil, ("%s: unknown option %s"):format(def.name, name) end
      if spec.type == "flag" or spec.type == "count" then
        if val then return nil, ("%s: option %s takes no value"):format(def.name, name) end
        ok, err = set(spec, name)
      else
        if not val then
          i = i + 1
          val = argv[i]
          if val == nil then return nil, ("%s: option %s needs a value"):format(def.name, name) end
        end
        ok, err = set(spec, name, tostring(val))
      end
    elseif not only_pos and a:sub(1, 1) == "-" and #a > 1 and not tonumber(a) then
      -- short flags, possibly bundled; a value-taking one eats the rest
      local j = 2
      while j <= #a do
        local flag = "-" .. a:sub(j, j)
        local spec = by_flag[flag]
        if not spec then return nil, ("%s: unknown option %s"):format(def.name, flag) end
        if spec.type == "flag" or spec.type == "count" then
          ok, err = set(spec, flag)
          j = j + 1
        else
          local val = a:sub(j + 1)
          if val == "" then
            i = i + 1
            val = argv[i]
            if val == nil then return nil, ("%s: option %s needs a value"):format(def.name, flag) end
          end
          ok, err = set(spec, flag, tostring(val))
          j = #a + 1
        end
        if not ok then return nil, err end
      end
    else
      npos = npos + 1
      local spec = positionals[npos]
      if not spec then return nil, ("%s: unexpected argument %s"):format(def.name, a) end
      if spec.many then npos = npos - 1 end
      ok, err = set(spec, spec[1], a)
    end
    if not ok then return nil, err end
    i = i + 1
    ::continue::
  end
  for _, spec in ipairs(positionals) do
    if spec.required and o[key_of(spec)] == nil then
      return nil, ("%s: missing argument %s"):format(def.name, spec[1])
    end
  end
  if def.validate and not o.help then
    local okv, why = def.validate(o)
    if not okv then return nil, ("%s: %s"):format(def.name, why) end
  end
  return o
end

M.key_of, M.all_options = key_of, all_options

return M
