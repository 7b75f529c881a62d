-- luatrace.compile_errors: clang's output as one clear line, the user's
-- file and line first (loaded only when a compile fails).
local M = {}

-- Where the user's text came from (for messages that quote its line):
-- a `-e` chunk has no file to look in, the CLI keeps its text.
local function source_line(file, line)
  local text
  if file == "(command line)" then
    local ok, cli = pcall(require, "luatrace.cli")
    text = ok and cli.code_text
  end
  if not text or not line then return nil end
  local n = 0
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if n == line then
      l = l:gsub("^%s+", ""):gsub("%s+$", "")
      if #l > 100 then l = l:sub(1, 97) .. "..." end
      return l
    end
  end
end

-- clang's first error as one line, "file:line: compile BPF program: what"
-- (the user's file first). The column is dropped: it counts in the
-- rewritten text (map method calls change lengths), while the line number
-- is the user's own. An error without a location is shown as clang said
-- it (never only "1 error generated"), after `where` (the text's origin).
function M.first_error(out, where)
  for line in out:gmatch("[^\n]+") do
    local file, ln, what = line:match("^(.-):(%d+):%d+: (.*)$")
    if not file then file, ln, what = line:match("^(.-):(%d+): (.*)$") end
    local err = what and (what:match("^fatal error: (.*)") or what:match("^error: (.*)"))
    if not err then -- no location: "error: ...", "clang: error: ..."
      file, ln, err = nil, nil, line:match("^[%w%-%.]*:? ?f?a?t?a?l? ?error: (.*)")
    end
    if file and file:match("^<.*>$") then file = nil end -- <built-in>, <command line>
    if err then
      local hint = ""
      if err:find("bpf/bpf_helpers.h' file not found", 1, true) then
        hint = " (install libbpf-dev)"
      elseif err:find("asm/", 1, true) and err:find("file not found", 1, true) then
        hint = " (install linux-libc-dev)"
      end
      local quote = file and source_line(file, tonumber(ln))
      if quote then hint = (" (in: %s)"):format(quote) .. hint end
      if file then
        return ("%s:%s: compile BPF program: %s%s"):format(file, ln, err, hint)
      end
      return ("%scompile BPF program: %s%s"):format(where or "", err, hint)
    end
  end
  return ("%scompile BPF program: %s"):format(where or "", out:match("([^\n]+)\n*$") or "clang failed")
end

return M
