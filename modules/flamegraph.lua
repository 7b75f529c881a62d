-- flamegraph: folded stacks in, an interactive flame graph SVG out, with
-- flamegraph.pl's input contract and options (no Perl needed).
--
--   luatrace -m flamegraph [options] [FILE...] < stacks.folded > out.svg
--   luatrace -m profile -f ... | luatrace -m flamegraph --title CPU > cpu.svg
--
-- Not a tracer: it uses the toolkit's option parser and usage, and has no
-- start(). The drawing is luatrace.flamegraph.
local toolkit = require "luatrace.toolkit"
local flamegraph = require "luatrace.flamegraph"

local def = {
  name = "flamegraph",
  description = "Draw folded stacks (frame;frame count) as an interactive flame graph SVG",
  options = {
    { "--title", type = "string", metavar = "TEXT", help = "title text (default Flame Graph)" },
    { "--subtitle", type = "string", metavar = "TEXT", help = "second level title" },
    { "--width", type = "positive", metavar = "NUM", default = 1200, help = "width of the image" },
    { "--height", type = "positive", metavar = "NUM", default = 16, help = "height of each frame" },
    { "--minwidth", type = "string", metavar = "NUM", default = "0.1",
      help = "omit narrower frames: pixels, or N% of the total",
      check = function(v)
        if tonumber((v:gsub("%%$", ""))) then return true end
        return false, "expected pixels or a percentage"
      end },
    { "--fonttype", type = "string", metavar = "FONT", default = "Verdana", help = "font family" },
    { "--fontsize", type = "positive", metavar = "NUM", default = 12, help = "font size" },
    { "--fontwidth", type = "positive", metavar = "NUM", default = 0.59, help = "average character width / font size" },
    { "--countname", type = "string", metavar = "TEXT", default = "samples", help = "what the counts are" },
    { "--nametype", type = "string", metavar = "TEXT", default = "Function:", help = "what the names are" },
    { "--colors", type = "string", metavar = "PALETTE", default = "hot",
      help = "hot, mem, io, wakeup, chain, java, js, perl, red, green, blue, aqua, yellow, purple, orange",
      check = function(v)
        for w in ("hot mem io wakeup chain java js perl red green blue aqua yellow purple orange"):gmatch("%S+") do
          if v == w then return true end
        end
        return false, "not a palette"
      end },
    { "--bgcolors", type = "string", metavar = "COLOR", default = "yellow",
      help = "yellow, blue, green, grey, or #rrggbb" },
    { "--hash", type = "flag", help = "colours keyed by name (always so: graphs stay comparable)" },
    { "--reverse", type = "flag", help = "reverse each stack (merge from the leaf)" },
    { "--inverted", type = "flag", help = "icicle graph" },
    { "--flamechart", type = "flag", help = "keep input order, do not sort (a flame chart)" },
    { "--negate", type = "flag", help = "switch differential hues" },
    { "--total", type = "positive", metavar = "NUM", help = "the total count (wider than the input's)" },
    { "--factor", type = "positive", metavar = "NUM", default = 1, help = "scale the counts shown" },
    { "--notes", type = "string", metavar = "TEXT", help = "a comment inside the SVG" },
    { "file", positional = true, many = true, type = "string", help = "folded stack files (default: standard input)" },
  },
}

local T = { name = def.name, description = def.description, options = def.options }

function T.usage() return toolkit.usage(def) end

local function read_input(files)
  if not files or #files == 0 then return io.stdin:read("*a") end
  local parts = {}
  for _, path in ipairs(files) do
    local f, err = io.open(path, "rb")
    if not f then error(("flamegraph: read %s: %s"):format(path, err), 0) end
    parts[#parts + 1] = f:read("*a")
    f:close()
    if parts[#parts]:sub(-1) ~= "\n" then parts[#parts + 1] = "\n" end
  end
  return table.concat(parts)
end

function T.main(...)
  local o, err = toolkit.parse(def, { ... })
  if not o then
    io.stderr:write("luatrace: ", err, "\n", toolkit.usage(def))
    return 2
  end
  if o.help then io.stdout:write(toolkit.usage(def)); return 0 end
  local svg, info = flamegraph.svg(read_input(o.file), o)
  io.stdout:write(svg)
  io.stdout:flush()
  if info.ignored > 0 then
    io.stderr:write(("flamegraph: ignored %d lines with invalid format\n"):format(info.ignored))
  end
  if info.total == 0 then
    io.stderr:write("flamegraph: no stack counts found\n")
    return 2
  end
  return 0
end

return T
