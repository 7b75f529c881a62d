-- luatrace.cache: the compile cache's directories, reached safely, and
-- kept small.
--
-- Where: $LUATRACE_CACHE_DIR, else $XDG_CACHE_HOME/luatrace, else
-- $HOME/.cache/luatrace. Every directory from / down to it must be owned
-- by root or by us and closed to others (core.safe_dir walks it with
-- openat, one checked directory fd at a time; a root-owned sticky
-- directory such as /tmp may be on the way); the cache directory itself
-- and everything in it is ours, mode 0700. A HOME or XDG_CACHE_HOME that
-- fails this (sudo keeping a user's HOME) is not used: the cache then
-- lives in the home of our own uid from the password database
-- (/root/.cache/luatrace for root), so root never creates files in
-- another user's home. An explicit LUATRACE_CACHE_DIR that fails is an
-- error.
--
-- Files are read and written through the directory objects (openat,
-- O_NOFOLLOW, checked with fstat), never by re-resolving a path; clang
-- reaches them as /proc/self/fd/N (see compile.lua).
--
-- Size: after each compile the cache is cut down to its cap
-- ($LUATRACE_CACHE_MAX_MB, default 256 MB), least recently used first
-- (a hit marks its object used); temp files of dead processes go too.
-- A running total (the root's "usage" file) spares the walk over every
-- file while the cache is clearly below its cap; a cut goes to 3/4 of it.
local core = require "luatrace.core"

local M = {}

M.DEFAULT_MAX_MB = 256

local function fail(fmt, ...) error(fmt:format(...), 0) end

local function env(name)
  local v = os.getenv(name)
  if v == "" then return nil end
  return v
end

-- The candidate directories, in order, each with where it came from.
local function candidates()
  local explicit = env("LUATRACE_CACHE_DIR")
  if explicit then return { { explicit, "LUATRACE_CACHE_DIR" } }, true end
  local list = {}
  local xdg, home = env("XDG_CACHE_HOME"), env("HOME")
  if xdg then list[#list + 1] = { xdg .. "/luatrace", "XDG_CACHE_HOME" }
  elseif home then list[#list + 1] = { home .. "/.cache/luatrace", "HOME" } end
  -- the password database last, and read only when reached (the first
  -- getpwuid of a process costs ~0.1 ms: nsswitch.conf, /etc/passwd)
  list[#list + 1] = { function()
    local own = core.user_home()
    return own and own .. "/.cache/luatrace"
  end, "the password database" }
  return list, false
end

-- The cache's root directory, opened and checked anew (the caller closes
-- it: no fd stays open between compiles), and its path for messages.
function M.root()
  local list, explicit = candidates()
  local reasons = {}
  for _, c in ipairs(list) do
    local path = c[1]
    if type(path) == "function" then path = path() end
    if not path then break end
    if path:sub(1, 1) ~= "/" then -- relative: to the working directory, walked from /
      local cwd = core.realpath(".")
      if cwd then path = (cwd == "/" and "" or cwd) .. "/" .. path end
    end
    local d, why = core.safe_dir(path)
    if d then return d, path end
    if explicit then
      if why:find("owned by uid", 1, true) and not why:find(" is ", 1, true) then
        why = why .. "; remove it or set LUATRACE_CACHE_DIR"
      end
      fail("use compile cache %s: %s", path, why)
    end
    reasons[#reasons + 1] = ("%s (from %s): %s"):format(path, c[2], why)
  end
  if #reasons == 0 then fail("find compile cache: no home directory (set LUATRACE_CACHE_DIR)") end
  fail("use compile cache %s (set LUATRACE_CACHE_DIR to a directory of yours)",
    table.concat(reasons, "; "))
end

-- A private subdirectory of the root (made 0700 when missing), and its
-- path for messages; the caller closes it.
function M.sub(name)
  local root, rpath = M.root()
  local d, why = root:sub(name)
  root:close()
  if not d then fail("use compile cache %s: %s", rpath, why) end
  return d, rpath .. "/" .. name
end

-- The build a cached result came from: the binary (its embedded
-- library) by path, size and mtime. Keys of what the library's Lua code
-- derives (a transform's output, a bpftrace plan) include it.
local build
function M.build_id()
  if not build then
    local exe = core.exe_path()
    local st = core.stat(exe) or {}
    build = core.hash(exe, tostring(st.size), tostring(st.mtime))
  end
  return build
end

function M.max_bytes()
  local mb = tonumber(env("LUATRACE_CACHE_MAX_MB") or "")
  return math.floor((mb or M.DEFAULT_MAX_MB) * 1024 * 1024)
end

-- A temp file (name.tmp.PID, also clang's name.tmp.PID-xxxx) whose
-- writer is gone.
local function stale_tmp(name)
  local pid = tonumber(name:match("%.tmp%.(%d+)"))
  return pid and pid ~= core.getpid() and not core.pid_alive(pid)
end

-- Temp files of dead writers in every subdirectory: only names with
-- ".tmp." are listed (the C side filters), so thousands of objects cost
-- one directory read each, not a stat each. Even so a directory of 20k
-- objects takes ~15 ms to read here, so the walk is made only when a
-- compile that died left its mark (M.mark_writing) in the root.
local function remove_stale(root)
  local dead = {}
  for _, name in ipairs(root:list("writing.")) do
    local pid = tonumber(name:match("^writing%.(%d+)$"))
    if pid and pid ~= core.getpid() and not core.pid_alive(pid) then dead[#dead + 1] = name end
  end
  if #dead == 0 then return end
  for _, sname in ipairs(root:list()) do
    local st = root:stat(sname)
    if st and st.dir then
      local d = root:sub(sname)
      if d then
        for _, name in ipairs(d:list(".tmp.")) do
          if stale_tmp(name) then d:unlink(name) end
        end
        d:close()
      end
    end
  end
  for _, name in ipairs(dead) do root:unlink(name) end
end

-- A compile marks itself in the root ("writing.PID") while it may leave
-- temp files (clang's output, a PCH, vmlinux.h); done() removes the mark.
-- A process killed meanwhile leaves it, and the next compile then walks
-- the cache for its temp files (remove_stale).
function M.mark_writing()
  local root = M.root()
  local name = "writing." .. core.getpid()
  root:write(name, "")
  root:close()
  return function()
    local r = M.root()
    r:unlink(name)
    r:close()
  end
end

-- The cache's size as the last compile left it (the "usage" file at its
-- root): a compile adds what it wrote, and only when that may pass the
-- cap (or the file is missing) is every file stat'ed and the LRU cut
-- made, which then writes the exact total. Concurrent compiles may lose
-- an addition: the next full walk corrects it.
local function usage(root)
  return tonumber((root:read("usage") or ""):match("^(%d+)\n$"))
end

-- Count bytes written outside a compile (a small file of a few hundred
-- bytes, or its growth) in the running total, without a walk: the next
-- compile's prune cuts when the total passed the cap.
function M.add_usage(added)
  local root = M.root()
  local ok, err = pcall(function()
    local used = usage(root)
    if used then root:write("usage", ("%d\n"):format(math.max(0, used + added))) end
  end)
  root:close()
  if not ok then error(err, 0) end
end

-- Remove stale temp files, then, when the cache may exceed its cap, the
-- least recently used files until it fits. keep: set of "subdir/name" in
-- use by this run; added: bytes this run wrote (nil: walk everything).
function M.prune(keep, max, added)
  max = max or M.max_bytes()
  local root = M.root()
  local ok, total = pcall(function()
    remove_stale(root)
    local used = added and usage(root)
    if used and used + added <= max then
      root:write("usage", ("%d\n"):format(used + added))
      return used + added
    end
    -- a cut goes down to 3/4 of the cap, so the compiles after it add
    -- to the running total instead of walking again each time
    local t = M.prune_in(root, keep, max, math.floor(max * 0.75))
    root:write("usage", ("%d\n"):format(t))
    return t
  end)
  root:close()
  if not ok then error(total, 0) end
  return total
end

-- Over max, files go until the total is at most low (default max).
function M.prune_in(root, keep, max, low)
  low = low or max
  local files, total = {}, 0
  for _, sname in ipairs(root:list()) do
    local st = root:stat(sname)
    if st and st.dir then
      local d = root:sub(sname)
      if d then
        for _, name in ipairs(d:list()) do
          local fst = d:stat(name)
          if fst and stale_tmp(name) then
            d:unlink(name)
          elseif fst and fst.reg then
            total = total + fst.size
            files[#files + 1] = { dir = sname, name = name, st = fst }
          end
        end
        d:close()
      end
    end
  end
  if total <= max then return total end
  table.sort(files, function(a, b) return a.st.mtime < b.st.mtime end)
  for _, f in ipairs(files) do
    if total <= low then break end
    if not (keep and keep[f.dir .. "/" .. f.name]) and not f.name:find("%.tmp%.") then
      local d = root:sub(f.dir)
      if d and d:unlink(f.name) then total = total - f.st.size end
      if d then d:close() end
    end
  end
  return total
end

return M
