-- The bad-input corpus (tests/bad/, format in its README.md): each bad
-- input gives one clear line, the right exit code, and leaves nothing
-- attached.
local core = require "luatrace.core"

local DIR = root .. "/tests/bad"
local COMMENT = { lua = "%-%-", c = "//", cli = "#" }

local function slurp(p)
  local fh = io.open(p); if not fh then return nil end
  local s = fh:read("*a"); fh:close(); return s
end

-- The headers of a case: its leading comment lines "key: value".
local function headers(text, ext)
  local h, env = {}, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local k, v = line:match("^" .. COMMENT[ext] .. "%s*([%w_]+):%s*(.-)%s*$")
    if not k then
      if not line:match("^" .. COMMENT[ext]) then break end
    elseif k == "env" then
      env[#env + 1] = v
    else
      h[k] = v
    end
  end
  h.env = env
  return h
end

-- Programs the case would load, by the names bpftool shows (15 chars).
local function prog_names(text)
  local names = {}
  local function add(n) names[n:sub(1, 15)] = true end
  for n in text:gmatch("int%s+([%w_]+)%s*%(") do add(n) end
  for c, e in text:gmatch("TRACEPOINT_PROBE%(%s*([%w_]+)%s*,%s*([%w_]+)") do
    add("tracepoint__" .. c .. "__" .. e)
  end
  for f in text:gmatch("%f[%w_]FUNC_PROBE%(%s*([%w_]+)") do add("func_probe__" .. f) end
  for f in text:gmatch("KFUNC_PROBE%(%s*([%w_]+)") do add("kfunc__" .. f) end
  for e in text:gmatch("RAW_TRACEPOINT_PROBE%(%s*([%w_]+)") do add("raw_tracepoint__" .. e) end
  return names
end

-- Loaded programs with these names: id -> held by a process?
local function progs(names)
  local out = sh("bpftool prog show 2>/dev/null")
  local found, cur = {}, nil
  for line in out:gmatch("[^\n]+") do
    local id, name = line:match("^(%d+): %S+%s+name (%S+)")
    if id then
      cur = names[name] and id or nil
      if cur then found[cur] = false end
    elseif line:match("^%d+:") then
      cur = nil
    elseif cur and line:match("^%s+pids ") then
      found[cur] = true
    end
  end
  return found
end

local function when_ok(cond)
  if not cond then return true end
  local fentry, kprobes = core.has_fentry(), core.has_kprobes()
  if cond == "no_kprobes" then return not kprobes, "this kernel has kprobes" end
  if cond == "no_fentry" then return not fentry, "this kernel has fentry" end
  if cond == "no_fentry_no_kprobes" then
    return not fentry and not kprobes, "this kernel has fentry or kprobes"
  end
  error("unknown when: " .. cond)
end

-- A private cache for runs as the ordinary user (nobody).
local user_cache
local function nobody_cache()
  if not user_cache then
    user_cache = os.tmpname(); os.remove(user_cache)
    os.execute(("mkdir -m 700 %s && chown nobody %s"):format(q(user_cache), q(user_cache)))
  end
  return user_cache
end

local function run_case(file, ext, text, h)
  local args
  if ext == "lua" then args = q(file)
  elseif ext == "cli" then args = assert(h.args, "a .cli case needs args:")
  else args = "-e " .. q(("require('luatrace').BPF{src_file = %q}"):format(file)) end
  local env = table.concat(h.env, " ")
  local prefix = ""
  if h.as == "user" then
    prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups "
    env = ("HOME=/nonexistent LUATRACE_CACHE_DIR=%s %s"):format(q(nobody_cache()), env)
  end
  local pidfile = os.tmpname()
  local names = prog_names(text)
  local before = progs(names)
  local out, err, code = sh(("cd %s && echo $$ > %s && exec %senv %s %s %s"):format(
    q(DIR), q(pidfile), prefix, env, q(luatrace()), args))
  local pid = slurp(pidfile):match("%d+"); os.remove(pidfile)
  -- the message and the exit code
  eq(code, tonumber(h.exit), "exit code (stderr: " .. err .. ")")
  local first, rest = err:match("^([^\n]*)\n?(.*)$")
  if h.expect then eq(first, h.expect, "the error line") end
  if h.match then ok(first:match(h.match), ("%q matches %q"):format(first, h.match)) end
  if code == 2 then
    ok(rest ~= "", "a usage error shows help after its line")
  else
    eq(rest, "", "one line only")
  end
  -- nothing stays attached
  for _, f in ipairs({ "kprobe_events", "uprobe_events" }) do
    local events = slurp(core.tracefs() .. "/" .. f) or ""
    ok(not events:find("_" .. pid .. "_", 1, true), f .. " keeps an event of pid " .. pid)
  end
  for id, held in pairs(progs(names)) do
    ok(held or before[id] ~= nil, "program " .. id .. " stays loaded with no process holding it")
  end
  return out
end

-- A .c case in this process too: the failed BPF{} leaves no fd open.
local function in_process(path)
  collectgarbage(); collectgarbage()
  local fds = core.open_fds()
  local okc = pcall(require("luatrace").BPF, { src_file = path })
  ok(not okc, "BPF{} failed in process too")
  collectgarbage(); collectgarbage()
  local after = core.open_fds()
  for fd, what in pairs(after) do
    ok(fds[fd], ("fd %s (%s) left open"):format(fd, tostring(what)))
  end
end

local files = {}
for name in sh("ls " .. q(DIR)):gmatch("[^\n]+") do
  if name:match("%.lua$") or name:match("%.c$") or name:match("%.cli$") then files[#files + 1] = name end
end
table.sort(files)

for _, file in ipairs(files) do
  test("bad/" .. file, function()
    local ext = file:match("%.(%w+)$")
    local text = slurp(DIR .. "/" .. file)
    local h = headers(text, ext)
    ok(h.exit and (h.expect or h.match), file .. ": needs exit: and expect: or match:")
    local yes, why = when_ok(h.when)
    if not yes then skip(why) end
    run_case(file, ext, text, h)
    if ext == "c" and h.as ~= "user" then in_process(DIR .. "/" .. file) end
  end)
end

test("bad/: the corpus is not empty", function()
  ok(#files >= 10, "cases: " .. #files)
end)
