-- luatrace.toolkit.stacks: stack output shared by profile and offcputime:
-- symbolized frames of stack ids, BCC's multi-line stacks, and folded
-- lines (luatrace.folded). Frames come innermost first.
local sym = require "luatrace.sym"
local folded = require "luatrace.folded"

local M = {}

local EFAULT, EEXIST = 14, 17

-- A stack id that is an error worth reporting (-EFAULT: no stack of that
-- kind, e.g. no user stack for a kernel thread, is not).
function M.stack_err(id) return id < 0 and id ~= -EFAULT end

-- Symbolized frames of stack id in stack table `st` (user frames of pid
-- when kernel is false). A process gone by the time we print has no
-- symbols left: its frames read "[unknown]", as BCC prints them.
function M.frames(st, id, pid, kernel, annotate)
  local out = {}
  if id < 0 then return out end
  for i, addr in ipairs(st:walk(id)) do
    if kernel then
      out[i] = sym.format(sym.ksym(addr)) .. (annotate and "_[k]" or "")
    else
      local ok, n, off, mod = pcall(sym.usym, addr, pid)
      out[i] = ok and sym.format(n, off, mod) or "[unknown]"
    end
  end
  return out
end

-- A collector of stacks {name, pid, uid, kid, uf, kf, value}; o: user_only,
-- kernel_only, delimited. print_text(unit line printer) and folded_text().
function M.collector(o)
  local c = { list = {}, missing = 0, collision = false }
  function c.add(s)
    if not o.user_only and M.stack_err(s.kid) then
      c.missing = c.missing + 1; c.collision = c.collision or s.kid == -EEXIST
    end
    if not o.kernel_only and M.stack_err(s.uid) then
      c.missing = c.missing + 1; c.collision = c.collision or s.uid == -EEXIST
    end
    c.list[#c.list + 1] = s
  end
  -- BCC's multi-line form: kernel frames, "--", user frames, "-  comm (pid)", value.
  function c.text(write)
    for _, s in ipairs(c.list) do
      if not o.user_only then
        if M.stack_err(s.kid) then write("    [Missed Kernel Stack]") end
        for _, f in ipairs(s.kf) do write("    " .. f) end
      end
      if not o.kernel_only then
        if o.delimited and s.uid >= 0 and s.kid >= 0 then write("    --") end
        if M.stack_err(s.uid) then write("    [Missed User Stack]") end
        for _, f in ipairs(s.uf) do write("    " .. f) end
      end
      write(("    %-16s %s (%d)"):format("-", s.name, s.pid))
      write(("        %d\n"):format(s.value))
    end
  end
  -- Folded: "comm;user frames;[-;]kernel frames value", root first.
  function c.folded()
    local list = {}
    for _, s in ipairs(c.list) do
      local f = { s.name }
      if not o.kernel_only then
        if M.stack_err(s.uid) then f[#f + 1] = "[Missed User Stack]" end
        for i = #s.uf, 1, -1 do f[#f + 1] = s.uf[i] end
      end
      if not o.user_only then
        if o.delimited and s.uid >= 0 and s.kid >= 0 then f[#f + 1] = "-" end
        if M.stack_err(s.kid) then f[#f + 1] = "[Missed Kernel Stack]" end
        for i = #s.kf, 1, -1 do f[#f + 1] = s.kf[i] end
      end
      list[#list + 1] = { frames = f, count = s.value }
    end
    return folded.text(list)
  end
  function c.warn()
    if c.missing > 0 then
      io.stderr:write(("WARNING: %d stack traces could not be displayed.%s\n"):format(c.missing,
        c.collision and " Consider increasing --stack-storage-size." or ""))
    end
  end
  return c
end

return M
