-- luatrace.syscalls: system call names by number, read from the C library's
-- kernel headers (linux-libc-dev's asm/unistd_64.h) once, when first asked.
local M = {}

local HEADERS = {
  "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
  "/usr/include/asm/unistd_64.h",
  "/usr/include/aarch64-linux-gnu/asm/unistd.h",
  "/usr/include/asm-generic/unistd.h",
}

local names

local function load()
  names = {}
  for _, h in ipairs(HEADERS) do
    local fh = io.open(h)
    if fh then
      local text = fh:read("*a")
      fh:close()
      for name, nr in text:gmatch("#define%s+__NR_([%w_]+)%s+(%d+)") do
        names[tonumber(nr)] = name
      end
      if next(names) then return end
    end
  end
end

-- name(nr) -> "openat", or "syscall_N" when the headers are missing.
function M.name(nr)
  if not names then load() end
  return names[nr] or ("syscall_" .. nr)
end

-- number(name) -> nr or nil
function M.number(name)
  if not names then load() end
  for nr, n in pairs(names) do
    if n == name then return nr end
  end
  return nil
end

return M
