-- luatrace.http: a small HTTP/1.x server on the process's event loop, for
-- the metrics endpoint. No thread, no blocking: the listening socket and
-- each connection are fds in the loop (L:add_fd); a timer retries pending
-- writes and drops clients past their deadline while any is connected.
--
--   local srv = http.serve(":9100", handler, L, opts)
--   handler(req) -> status, headers_table, body
--     req = { method, path, query, version, headers = {lower-case name = value}, peer }
--   srv.host, srv.port; srv:close()
--
-- Addresses: ":PORT" (loopback, 127.0.0.1), "HOST:PORT", "[V6]:PORT",
-- "PORT". Binding to anything but loopback is the caller's explicit choice.
--
-- Bounded: one request per connection (Connection: close), a request
-- head of at most opts.max_head bytes (8 KiB; 431 beyond), at most
-- opts.max_clients connections (64; more are refused with 503), each
-- closed opts.timeout_ms (5 s) after it was accepted whether or not it
-- sent a request or read its response. Malformed requests get 400.
local core = require "luatrace.core"

local M = {}

local REASONS = {
  [200] = "OK", [400] = "Bad Request", [404] = "Not Found", [405] = "Method Not Allowed",
  [406] = "Not Acceptable", [408] = "Request Timeout", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [503] = "Service Unavailable",
}

-- "host", port of an address string.
function M.parse_addr(s)
  s = tostring(s)
  local host, port = s:match("^%[([%x:.]+)%]:(%d+)$")
  if not host then host, port = s:match("^([^:]*):(%d+)$") end
  if not host and s:match("^%d+$") then host, port = "", s end
  if not host then
    error(("listen address %s: expected :PORT, HOST:PORT or [IPV6]:PORT"):format(s), 0)
  end
  port = tonumber(port)
  if port > 65535 then error(("listen address %s: port beyond 65535"):format(s), 0) end
  if host == "" then host = "127.0.0.1" end
  return host, port
end

-- Parse a request head (up to the blank line). Returns req or nil, status.
function M.parse_request(head)
  local lines = {}
  for line in head:gmatch("([^\n]*)\n") do lines[#lines + 1] = (line:gsub("\r$", "")) end
  local method, target, version = (lines[1] or ""):match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method then return nil, 400 end
  local req = { method = method, target = target, version = version, headers = {} }
  req.path, req.query = target:match("^([^?]*)%??(.*)$")
  for i = 2, #lines do
    local l = lines[i]
    if l == "" then break end
    local name, value = l:match("^([%w!#$%%&'*+.^_`|~-]+):%s*(.-)%s*$")
    if not name then return nil, 400 end
    name = name:lower()
    req.headers[name] = req.headers[name] and (req.headers[name] .. ", " .. value) or value
  end
  return req
end

function M.response(status, headers, body, head_only)
  body = body or ""
  local out = { ("HTTP/1.1 %d %s\r\n"):format(status, REASONS[status] or "Status") }
  headers = headers or {}
  local names = {}
  for k in pairs(headers) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do out[#out + 1] = ("%s: %s\r\n"):format(k, headers[k]) end
  out[#out + 1] = ("Content-Length: %d\r\nConnection: close\r\n\r\n"):format(#body)
  if not head_only then out[#out + 1] = body end
  return table.concat(out)
end

local Server = {}
Server.__index = Server

function M.serve(addr, handler, L, opts)
  opts = opts or {}
  local host, port = M.parse_addr(addr)
  local sock, bhost, bport = core.listen(host, port)
  local srv = setmetatable({
    sock = sock, host = bhost, port = bport, handler = handler, L = L,
    conns = {}, nconns = 0,
    max_head = opts.max_head or 8192, max_clients = opts.max_clients or 64,
    timeout_ms = opts.timeout_ms or 5000, tick_ms = opts.tick_ms or 100,
  }, Server)
  L:add_fd(sock:fd(), function() srv:_accept() end)
  return srv
end

function Server:_drop(c)
  if not self.conns[c] then return end
  self.conns[c] = nil
  self.nconns = self.nconns - 1
  if self.nconns == 0 and self.timer then self.timer:cancel(); self.timer = nil end
  if c.watched then self.L:remove_fd(c.fd) end
  c.sock:close()
end

-- Write what the socket takes now; the timer retries the rest.
function Server:_flush(c)
  while #c.out > 0 do
    local n = c.sock:write(c.out)
    if n < 0 then self:_drop(c); return end
    if n == 0 then return end
    c.out = c.out:sub(n + 1)
  end
  self:_drop(c)
end

function Server:_reply(c, status, headers, body, head_only)
  if c.watched then self.L:remove_fd(c.fd); c.watched = false end
  c.out = M.response(status, headers, body, head_only)
  c.replied = true
  self:_flush(c)
end

function Server:_accept()
  for _ = 1, 16 do
    local s, peer = self.sock:accept()
    if not s then return end
    local c = { sock = s, fd = s:fd(), peer = peer, buf = "", out = "",
                deadline = core.monotonic_ns() / 1e6 + self.timeout_ms }
    self.conns[c] = true
    self.nconns = self.nconns + 1
    -- the timer runs only while clients are connected (an idle endpoint
    -- never wakes the loop)
    if not self.timer then self.timer = self.L:every(self.tick_ms, function() self:_tick() end) end
    if self.nconns > self.max_clients then
      self:_reply(c, 503, { ["Content-Type"] = "text/plain" }, "too many clients\n")
    else
      c.watched = true
      self.L:add_fd(c.fd, function() self:_read(c) end)
    end
  end
end

function Server:_read(c)
  local data = c.sock:read(4096)
  if data == nil then return end
  if data == "" then self:_drop(c); return end
  c.buf = c.buf .. data
  local head_end = c.buf:find("\r?\n\r?\n")
  if not head_end then
    if #c.buf > self.max_head then
      self:_reply(c, 431, { ["Content-Type"] = "text/plain" }, "request head too large\n")
    end
    return
  end
  local head = c.buf:sub(1, select(2, c.buf:find("\r?\n\r?\n")))
  if #head > self.max_head then
    return self:_reply(c, 431, { ["Content-Type"] = "text/plain" }, "request head too large\n")
  end
  local req, bad = M.parse_request(head)
  if not req then
    return self:_reply(c, bad, { ["Content-Type"] = "text/plain" }, "malformed request\n")
  end
  req.peer = c.peer
  if req.method ~= "GET" and req.method ~= "HEAD" then
    return self:_reply(c, 405, { Allow = "GET, HEAD", ["Content-Type"] = "text/plain" },
      "only GET and HEAD\n")
  end
  local ok, status, headers, body = pcall(self.handler, req)
  if not ok then
    io.stderr:write("luatrace: metrics endpoint: ", tostring(status), "\n")
    status, headers, body = 500, { ["Content-Type"] = "text/plain" }, "internal error\n"
  end
  self:_reply(c, status, headers, body, req.method == "HEAD")
end

function Server:_tick()
  local now = core.monotonic_ns() / 1e6
  for c in pairs(self.conns) do
    if now >= c.deadline then self:_drop(c)
    elseif c.replied then self:_flush(c) end
  end
end

function Server:close()
  for c in pairs(self.conns) do self:_drop(c) end
  if self.sock then
    self.L:remove_fd(self.sock:fd())
    self.sock:close()
    self.sock = nil
  end
end

return M
