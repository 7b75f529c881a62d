-- mountsnoop: trace mount() and umount() calls with their arguments and
-- results, with libbpf-tools' flags and output (COMM PID TID MNT_NS CALL,
-- or -d one field per line).
--
-- Kernel side: bpf/mountsnoop.bpf.c (syscalls:sys_enter/exit_mount and
-- _umount). Records (callback, --json): time (with -t), comm, pid, tid,
-- mnt_ns, op ("mount"/"umount"), src, dest, fs, data, flags (number),
-- flag_names, ret (0 or -errno), latency_us.
local toolkit = require "luatrace.toolkit"

local FLAGS = { "MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS",
  "MS_REMOUNT", "MS_MANDLOCK", "MS_DIRSYNC", "MS_NOSYMFOLLOW", "MS_NOATIME", "MS_NODIRATIME",
  "MS_BIND", "MS_MOVE", "MS_REC", "MS_VERBOSE", "MS_SILENT", "MS_POSIXACL", "MS_UNBINDABLE",
  "MS_PRIVATE", "MS_SLAVE", "MS_SHARED", "MS_RELATIME", "MS_KERNMOUNT", "MS_I_VERSION",
  "MS_STRICTATIME", "MS_LAZYTIME", "MS_SUBMOUNT", "MS_NOREMOTELOCK", "MS_NOSEC", "MS_BORN",
  "MS_ACTIVE", "MS_NOUSER" }

local function strflags(flags)
  if flags == 0 then return "0x0" end
  local t = {}
  for i = 0, 31 do
    if bit.band(flags, bit.lshift(1, i)) ~= 0 then t[#t + 1] = FLAGS[i + 1] end
  end
  return table.concat(t, " | ")
end

local function strerrno(ret)
  if ret == 0 then return "0" end
  local name = toolkit.errno_name(-ret)
  return name and ("-" .. name) or tostring(ret)
end

local function call(r)
  if r.op == "umount" then
    return ('umount("%s", %s) = %s'):format(r.dest, strflags(r.flags), strerrno(r.ret))
  end
  return ('mount("%s", "%s", "%s", %s, "%s") = %s'):format(r.src, r.dest, r.fs,
    strflags(r.flags), r.data, strerrno(r.ret))
end

return toolkit.define{
  name = "mountsnoop",
  description = "Trace mount() and umount() syscalls with arguments and results",
  options = {
    toolkit.opt.pid,
    { "-t", "--timestamp", type = "flag", help = "include a timestamp (HH:MM:SS)" },
    { "-d", "--detailed", type = "flag", help = "output each call in detail (one field per line)" },
    toolkit.opt.cgroup,
  },
  fields = { "time", "comm", "pid", "tid", "mnt_ns", "op", "src", "dest", "fs", "data",
    "flags", "flag_names", "ret", "latency_us" },

  start = function(opts, emit)
    local b = toolkit.open("mountsnoop", opts)
    toolkit.ring(b, "events", function(ev)
      local flags = tonumber(ev.flags)
      local r = {
        time = opts.timestamp and os.date("%H:%M:%S") or nil,
        comm = ev.comm, pid = ev.pid, tid = ev.tid, mnt_ns = ev.mnt_ns,
        op = ev.op == 1 and "umount" or "mount", src = ev.src, dest = ev.dest,
        fs = ev.fs, data = ev.data, flags = flags, ret = ev.ret,
        latency_us = math.floor(ev.delta_ns / 1000),
      }
      r.flag_names = strflags(flags)
      emit(r)
    end)
    return { b = b }
  end,

  header = function(opts)
    if opts.detailed then return nil end
    return (opts.timestamp and ("%-8s "):format("TIME") or "")
      .. ("%-16s %-7s %-7s %-11s %s"):format("COMM", "PID", "TID", "MNT_NS", "CALL")
  end,

  text = function(r, opts)
    local ts = opts.timestamp and (r.time .. " ") or ""
    if not opts.detailed then
      return ts .. ("%-16s %-7d %-7d %-11d %s"):format(r.comm, r.pid, r.tid, r.mnt_ns, call(r))
    end
    local ind = opts.timestamp and "    " or ""
    local lines = {}
    if opts.timestamp then lines[1] = ts end
    for _, kv in ipairs({ { "PID:    ", r.pid }, { "TID:    ", r.tid }, { "COMM:   ", r.comm },
        { "OP:     ", r.op:upper() }, { "RET:    ", strerrno(r.ret) }, { "LAT:    ", r.latency_us .. "us" },
        { "MNT_NS: ", r.mnt_ns }, { "FS:     ", r.fs }, { "SOURCE: ", r.src }, { "TARGET: ", r.dest },
        { "DATA:   ", r.data }, { "FLAGS:  ", strflags(r.flags) } }) do
      lines[#lines + 1] = ind .. kv[1] .. tostring(kv[2])
    end
    return table.concat(lines, "\n") .. "\n"
  end,
}
