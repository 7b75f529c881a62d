-- luatrace.bpftrace.idents: builtin identifiers (pid, comm, args, retval,
-- argN, stacks, kernel enum and #define constants), methods of the
-- per-function generator F (see codegen.lua).
local T = require "luatrace.bpftrace.types"
local V = require "luatrace.bpftrace.values"
local int, lit_int, const_str = V.int, V.lit_int, V.const_str

return function(F, G)

-- #define constants of kernel headers that bpftrace programs use by name
-- (headers are not read: everything else comes from BTF).
local defines = {
  AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17,
  TASK_RUNNING = 0, TASK_INTERRUPTIBLE = 1, TASK_UNINTERRUPTIBLE = 2, TASK_STOPPED = 4,
  TASK_TRACED = 8, EXIT_DEAD = 16, EXIT_ZOMBIE = 32, TASK_DEAD = 128,
  O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 64, O_TRUNC = 512, O_APPEND = 1024,
  SIGKILL = 9, SIGTERM = 15, SIGINT = 2,
}

local ctx_name = function(p) return p.kind == "tracepoint" and "args" or "ctx" end

function F:builtin(e)
  local n, p = e.name, self.probe
  local k = p.kind
  if n == "pid" then return int("lt_pid()", false) end
  if n == "tid" then return int("lt_tid()", false) end
  if n == "uid" then return int("(bpf_get_current_uid_gid() & 0xffffffff)", false) end
  if n == "gid" then return int("(bpf_get_current_uid_gid() >> 32)", false) end
  if n == "nsecs" then return int("bpf_ktime_get_ns()", false) end
  if n == "jiffies" then return int("bpf_jiffies64()", false) end -- current bpftrace's
  if n == "elapsed" then return int("(bpf_ktime_get_ns() - lt_bt_start_ns)", false) end
  if n == "cpu" then return int("bpf_get_smp_processor_id()", false) end
  if n == "cgroup" then return int("bpf_get_current_cgroup_id()", false) end
  if n == "rand" then return int("bpf_get_prandom_u32()", false) end
  if n == "cpid" then
    if not self.g.opts.cmd_pid_known then self:err(e, "cpid cannot be used without a child command (-c)") end
    return int("lt_bt_cpid", false)
  end
  if n == "curtask" then
    local btf = require "luatrace.bpftrace.btf"
    return { ty = { t = "ptr", btf = btf.find("struct", "task_struct"), cty = "struct task_struct *" },
      c = "(u64)bpf_get_current_task()" }
  end
  if n == "comm" then
    return { ty = T.str(16), write = function(dest)
      return ("bpf_get_current_comm(&%s, sizeof(%s));"):format(dest, dest)
    end }
  end
  if p.targets and (n == "probe" or (n == "func" and k ~= "tracepoint")) then return self:target_name(e, n) end
  if n == "probe" then return const_str(p.name) end
  if n == "func" then
    if not p.func then self:err(e, "func is not available for " .. k .. " probes") end
    return const_str(p.func)
  end
  if n == "kstack" then return self:stack(e, false) end
  if n == "ustack" then return self:stack(e, true) end
  if n == "retval" then
    if k == "kretprobe" or k == "uretprobe" then return int("PT_REGS_RC(ctx)") end
    if k == "kretfunc" then
      if self.loop_cb then self:err(e, "retval of a kretfunc cannot be read inside a for loop: copy it to a variable before the loop") end
      return int("(s64)__lt_retval")
    end
    self:err(e, "The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes")
  end
  local argn = n:match("^arg(%d+)$")
  if argn then
    argn = tonumber(argn)
    if k == "kprobe" or k == "uprobe" then
      if argn > 5 then self:err(e, n .. " is beyond the registers (arg0..arg5)") end
      return int(("PT_REGS_PARM%d(ctx)"):format(argn + 1), false)
    elseif k == "usdt" then
      return int(("({ long __a = 0; bpf_usdt_arg(ctx, %d, &__a); __a; })"):format(argn))
    elseif k == "rawtracepoint" then
      return int(("ctx->args[%d]"):format(argn), false)
    end
    self:err(e, ("The %s builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes"):format(n))
  end
  if n == "args" then
    if k == "tracepoint" or k == "kfunc" or k == "kretfunc" then return { ty = { t = "args" } } end
    self:err(e, "The args builtin can only be used with tracepoint/kfunc/uprobe probes (" .. k .. " used here)")
  end
  -- a kernel enumerator (BTF), or one of the few #define constants the
  -- shipped tools use (bpftrace gets those from the #included headers)
  if n:match("^[%u_][%u%d_]+$") then
    local v = defines[n] or require("luatrace.bpftrace.btf").enum_value(n)
    if v then return int(lit_int(v)) end
  end
  local x = self:builtin_ext(e)
  if x then return x end
  self:err(e, "Unknown identifier: '" .. n .. "'")
end

function F:stack(e, user, depth)
  self.g.need_stacks = true
  local flags = user and "BPF_F_USER_STACK" or "0"
  local c = ("bpf_get_stackid(%s, &lt_bt_stacks, %s)"):format(ctx_name(self.probe), flags)
  if user then
    return { ty = { t = "ustack", depth = depth }, write = function(dest)
      return ("%s.id = %s; %s.pid = lt_pid();"):format(dest, c, dest)
    end }
  end
  return { ty = { t = "kstack", depth = depth }, c = c }
end

end
