-- luatrace.toolkit.net: what the TCP tools share: addresses as text
-- (inet_ntop), port lists for the kernel side's filters, TCP state names,
-- and the common options.
local ffi = require "ffi"

local M = {}

pcall(ffi.cdef, [[
const char *inet_ntop(int af, const void *src, char *dst, unsigned int size);
]])

M.AF_INET, M.AF_INET6 = 2, 10
M.MAX_PORTS = 8

-- The text of an address (struct lt_tcp_addr's 16 bytes; IPv4 in the
-- first 4).
function M.ntop(family, bytes)
  local buf = ffi.new("char[64]")
  local p = ffi.C.inet_ntop(family, bytes, buf, 64)
  return p ~= nil and ffi.string(buf) or "?"
end

-- "80,443" -> {80, 443}, or nil, why.
function M.parse_ports(s)
  local t = {}
  for w in tostring(s):gmatch("[^,]+") do
    local n = tonumber(w)
    if not n or n % 1 ~= 0 or n < 1 or n > 65535 then return nil, "not a port: " .. w end
    t[#t + 1] = n
  end
  if #t == 0 or #t > M.MAX_PORTS then return nil, ("1 to %d ports"):format(M.MAX_PORTS) end
  return t
end

-- A port list as the bytes of a __u16[MAX_PORTS] global (0 ends it).
function M.ports_global(list)
  local a = ffi.new("uint16_t[?]", M.MAX_PORTS)
  for i, p in ipairs(list or {}) do a[i - 1] = p end
  return ffi.string(a, 2 * M.MAX_PORTS)
end

-- An option type for port lists (toolkit options' check=).
function M.check_ports(v)
  local ok, why = M.parse_ports(v)
  return ok ~= nil, why
end

M.STATES = { "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
  "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV" }

function M.state(n) return M.STATES[n] or ("UNKNOWN(%d)"):format(n) end

-- -4 / -6 -> the family global.
function M.family(opts)
  return opts.ipv4 and M.AF_INET or opts.ipv6 and M.AF_INET6 or 0
end

return M
