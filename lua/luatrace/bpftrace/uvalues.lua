-- luatrace.bpftrace.uvalues: values the BPF side only carries as a number
-- or a few bytes and user space turns into text, as bpftrace does:
-- strftime() (boot-time nanoseconds), username (a uid), strerror() (an
-- errno), cgroup_path() (a cgroup id) and macaddr() (6 bytes).
--
-- Each type is stored as a small struct (so it travels through map keys,
-- values, variables and printf records like any aggregate) and has a
-- formatter here; types.lua and format.lua look them up.
local ffi = require "ffi"

pcall(ffi.cdef, [[
struct lt_bt_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct lt_bt_timespec *ts);
char *strerror(int errnum);
]])

local M = {}

-- C declarations: types.decl asks here first.
M.decl = {
  strftime = "struct { u64 v; } %s",
  username = "struct { u64 v; } %s",
  strerror = "struct { u64 v; } %s",
  cgroup_path = "struct { u64 v; } %s",
  macaddr = "struct { u8 a[6]; } %s",
}

-- ---- strftime ----

local CLOCK_REALTIME, CLOCK_BOOTTIME = 0, 7
local boot_offset_ns -- realtime - boottime, measured once (bpftrace's rule)

local function now_ns(clk)
  local ts = ffi.new("struct lt_bt_timespec")
  ffi.C.clock_gettime(clk, ts)
  return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec)
end

-- fmt applied to nsecs since boot: strftime(3) plus bpftrace's %f
-- (microseconds, 6 digits). "(?)" when the result is empty, as bpftrace.
-- Boot-time nanoseconds as wall-clock nanoseconds since the epoch.
function M.wall_ns(nsecs)
  boot_offset_ns = boot_offset_ns or (now_ns(CLOCK_REALTIME) - now_ns(CLOCK_BOOTTIME))
  return tonumber(nsecs) + boot_offset_ns
end

function M.strftime(fmt, nsecs)
  local wall = M.wall_ns(nsecs)
  local secs = math.floor(wall / 1e9)
  local us = math.floor((wall - secs * 1e9) / 1e3)
  local f = fmt:gsub("%%(.?)", function(c)
    if c == "f" then return ("%06d"):format(us) end
    return "%" .. c
  end)
  local ok, s = pcall(os.date, f, secs)
  if not ok or s == "" then return "(?)" end
  return s
end

-- ---- username ----

local users
function M.username(uid)
  uid = tonumber(uid)
  if not users then
    require("luatrace.bpftrace.inputs").volatile("/etc/passwd")
    users = {}
    local fh = io.open("/etc/passwd")
    if fh then
      for line in fh:lines() do
        local name, id = line:match("^([^:]*):[^:]*:(%d+):")
        if name and not users[tonumber(id)] then users[tonumber(id)] = name end
      end
      fh:close()
    end
  end
  return users[uid] or tostring(uid)
end

-- ---- cgroup_path ----

pcall(ffi.cdef, [[
typedef struct { uint64_t d_ino; int64_t d_off; uint16_t d_reclen; uint8_t d_type; char d_name[256]; } lt_bt_dirent;
void *opendir(const char *name);
lt_bt_dirent *readdir(void *dir);
int closedir(void *dir);
]])
local DT_DIR = 4

-- The inode of directory path (its "." entry) and its subdirectories.
local function dir_entries(path)
  local d = ffi.C.opendir(path)
  if d == nil then return nil end
  local self_ino, subdirs = nil, {}
  while true do
    local e = ffi.C.readdir(d)
    if e == nil then break end
    local n = ffi.string(e.d_name)
    if n == "." then self_ino = tonumber(e.d_ino)
    elseif n ~= ".." and e.d_type == DT_DIR then subdirs[#subdirs + 1] = n end
  end
  ffi.C.closedir(d)
  return self_ino, subdirs
end

-- A cgroup's id is its directory's inode number (kernfs node id).
function M.cgroup_id(path)
  return (dir_entries(path))
end

-- The mounted cgroup hierarchies: { name, dir } with cgroup2 as
-- "unified" first, then v1 hierarchies by name (bpftrace's order).
local function hierarchies()
  local v2, v1 = {}, {}
  require("luatrace.bpftrace.inputs").volatile("cgroup mounts")
  local fh = io.open("/proc/self/mountinfo")
  if not fh then return {} end
  for line in fh:lines() do
    local dir, fstype, opts = line:match("^%S+ %S+ %S+ %S+ (%S+) .- %- (%S+) %S+ (%S+)")
    if fstype == "cgroup2" then v2[#v2 + 1] = { name = "unified", dir = dir }
    elseif fstype == "cgroup" then
      local names = {}
      for o in opts:gmatch("[^,]+") do
        if o:match("^name=") then names[#names + 1] = o:sub(6)
        elseif o ~= "rw" and o ~= "ro" and not o:find("=") and o ~= "noprefix" and o ~= "clone_children"
          and o ~= "xattr" and o ~= "cpuset_v2_mode" and o ~= "favordynmods" and o ~= "memory_localevents"
          and o ~= "memory_recursiveprot" and o ~= "nsdelegate" then
          names[#names + 1] = o
        end
      end
      v1[#v1 + 1] = { name = table.concat(names, ","), dir = dir }
    end
  end
  fh:close()
  table.sort(v1, function(a, b) return a.name < b.name end)
  for _, h in ipairs(v1) do v2[#v2 + 1] = h end
  return v2
end

-- The path (from the hierarchy's root) of the cgroup directory with inode
-- id, breadth first; nil when none.
local function find_cgroup(root, id)
  local queue, head = { "" }, 1
  while queue[head] do
    local rel = queue[head]
    head = head + 1
    local ino, subs = dir_entries(root .. rel)
    if ino == id then return rel == "" and "/" or rel end
    for _, s in ipairs(subs or {}) do queue[#queue + 1] = rel .. "/" .. s end
    if head > 100000 then break end
  end
end

local cg_cache = {}
function M.cgroup_path(id)
  id = tonumber(id)
  if cg_cache[id] then return cg_cache[id] end
  local parts = {}
  for _, h in ipairs(hierarchies()) do
    local p = find_cgroup(h.dir, id)
    if p then parts[#parts + 1] = h.name .. ":" .. p end
  end
  local s = table.concat(parts, ",")
  cg_cache[id] = s
  return s
end

-- ---- formatters (format.value asks here) ----

M.format = {
  strftime = function(T, v) return M.strftime(T.fmt, v.v) end,
  username = function(_, v) return M.username(v.v) end,
  strerror = function(_, v) return ffi.string(ffi.C.strerror(tonumber(v.v))) end,
  cgroup_path = function(_, v) return M.cgroup_path(v.v) end,
  macaddr = function(_, v)
    local b = {}
    for i = 0, 5 do b[i + 1] = ("%02X"):format(v.a[i]) end
    return table.concat(b, ":")
  end,
}

return M
