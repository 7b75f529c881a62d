-- luatrace.flamegraph: an interactive flame graph SVG from folded stacks,
-- written in Lua (no Perl, no external script).
--
--   local svg, info = flamegraph.svg(folded_text, opts)
--   info = { total = samples, ignored = lines with invalid format, frames = drawn }
--
-- Input is flamegraph.pl's contract: one stack per line, frames separated
-- by ";" root first, then whitespace and a count (integer or decimal); an
-- optional second count makes a differential graph (width from the second,
-- red for more, blue for less). Other lines are counted in info.ignored.
-- Frames may end in an annotation, perf's precedent: _[k] kernel, _[j] JIT,
-- _[i] inlined, _[w] waker; it picks the colour and is not displayed.
-- Frames named "-" and "--" (stack separators) are grey.
--
-- opts (flamegraph.pl's options and defaults): title, subtitle, width
-- (1200), height (frame height, 16), fontsize (12), fontwidth (0.59),
-- fonttype, minwidth (0.1 pixels, or "N%" of the total), countname
-- ("samples"), nametype ("Function:"), colors ("hot"; kernel frames are
-- orange and user frames hot in every annotation-aware palette), bgcolors,
-- reverse, inverted (icicle), flamechart (input order, no merging), negate,
-- total, factor, notes.
--
-- The SVG: each frame is <g data-s=START data-n=SAMPLES data-d=DEPTH> with a
-- <title> "name (N samples, P%)", a <rect> and a <text>; the script
-- (luatrace.flamegraph_js) gives hover details, click-to-zoom, Reset Zoom,
-- search (click "Search" or Ctrl-F) with highlight and "Matched: P%".
local json = require "luatrace.json"
local script = require "luatrace.flamegraph_js"

local M = {}

local DEFAULTS = {
  width = 1200, height = 16, fontsize = 12, fontwidth = 0.59, fonttype = "Verdana",
  minwidth = "0.1", countname = "samples", nametype = "Function:", colors = "hot",
  bgcolors = "yellow", factor = 1,
}

-- Parse folded text: entries { stack, samples, samples2 }, ignored count.
function M.parse(text, opts)
  opts = opts or {}
  local entries, ignored = {}, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    local stack, n = line:match("^(.-)%s+(%d+%.?%d*)$")
    if not stack then
      if line:match("%S") then ignored = ignored + 1 end
    else
      local n2
      local s2, m = stack:match("^(.-)%s+(%d+%.?%d*)$")
      if s2 then stack, n2, n = s2, n, m end
      if opts.reverse then
        local fr = {}
        for f in (stack .. ";"):gmatch("([^;]*);") do table.insert(fr, 1, f) end
        stack = table.concat(fr, ";")
      end
      entries[#entries + 1] = { stack = stack, samples = tonumber(n), samples2 = tonumber(n2),
                                line = stack .. " " .. n .. (n2 and (" " .. n2) or "") }
    end
  end
  if opts.flamechart then
    -- time order, left to right: the input order as given
  else
    table.sort(entries, function(a, b) return a.line < b.line end)
  end
  return entries, ignored
end

-- Merge stacks into frames {name, depth, s (start), n (samples), delta}:
-- a frame continues while consecutive stacks share its prefix.
function M.frames(entries)
  local frames, open, t = {}, {}, 0
  local root = { name = "", depth = 0, s = 0, delta = nil }
  frames[1] = root
  local maxdelta = 1
  for _, e in ipairs(entries) do
    local names = {}
    for f in (e.stack .. ";"):gmatch("([^;]*);") do names[#names + 1] = f end
    local same = 0
    while same < #open and same < #names and open[same + 1].name == names[same + 1] do
      same = same + 1
    end
    for i = #open, same + 1, -1 do open[i].n = t - open[i].s; open[i] = nil end
    for i = same + 1, #names do
      local f = { name = names[i], depth = i, s = t }
      frames[#frames + 1] = f
      open[i] = f
    end
    local width = e.samples2 or e.samples
    if e.samples2 then
      local d = e.samples2 - e.samples
      for i = 1, #names do open[i].delta = (open[i].delta or 0) + d end
      root.delta = (root.delta or 0) + d
      if math.abs(d) > maxdelta then maxdelta = math.abs(d) end
    end
    t = t + width
  end
  for i = #open, 1, -1 do open[i].n = t - open[i].s end
  root.n = t
  return frames, t, maxdelta
end

-- Colours: a stable hash of the name picks the shade (the same function
-- gets the same colour in every graph).
local function namehash(name)
  local h = 2166136261
  for i = 1, #name do h = bit.bxor(h, name:byte(i)); h = bit.tobit(h * 16777619) end
  return (h % 1000003) / 1000003
end

local function shade(kind, v1, v2, v3)
  local f = math.floor
  if kind == "hot" then return f(205 + 50 * v3), f(230 * v1), f(55 * v2)
  elseif kind == "mem" then return 0, f(190 + 50 * v2), f(210 * v1)
  elseif kind == "io" then local r = f(80 + 60 * v1); return r, r, f(190 + 55 * v2)
  elseif kind == "red" then local x = f(50 + 80 * v1); return f(200 + 55 * v1), x, x
  elseif kind == "green" then local x = f(50 + 60 * v1); return x, f(200 + 55 * v1), x
  elseif kind == "blue" then local x = f(80 + 60 * v1); return x, x, f(205 + 50 * v1)
  elseif kind == "yellow" then local x = f(175 + 55 * v1); return x, x, f(50 + 20 * v1)
  elseif kind == "purple" then local x = f(190 + 65 * v1); return x, f(80 + 60 * v1), x
  elseif kind == "aqua" then return f(50 + 60 * v1), f(165 + 55 * v1), f(165 + 55 * v1)
  elseif kind == "orange" then return f(190 + 65 * v1), f(90 + 65 * v1), 0
  end
  return f(205 + 50 * v3), f(230 * v1), f(55 * v2)
end

local annotation_kind = { k = "orange", j = "green", i = "aqua", w = "aqua" }

-- mixed: the graph has kernel frames; then user frames are red (not hot)
-- so that orange kernel frames stand apart, as flamegraph.pl's java palette.
local function color(palette, name, mixed)
  if name == "--" then return "rgb(160,160,160)" end
  if name == "-" then return "rgb(200,200,200)" end
  local kind = palette
  local ann = name:match("_%[([kjiw])%]$")
  if palette == "hot" or palette == "java" or palette == "js" or palette == "perl"
      or palette == "wakeup" or palette == "chain" then
    if ann then kind = annotation_kind[ann]
    elseif palette == "java" then kind = name:find("::", 1, true) and "yellow"
      or (name:match("^L?[%a]+/") and "green") or "red"
    elseif palette == "js" then kind = name:find("::", 1, true) and "yellow"
      or (name:match("/.*%.js") and "green") or "red"
    elseif palette == "perl" then kind = name:find("::", 1, true) and "yellow"
      or ((name:find("Perl", 1, true) or name:find(".pl", 1, true)) and "green") or "red"
    elseif palette == "wakeup" then kind = "aqua"
    elseif palette == "chain" then kind = "blue"
    else kind = mixed and "red" or "hot" end
  end
  local v1, v2 = namehash(name), namehash(name:reverse())
  local r, g, b = shade(kind, v1, v2, v2)
  return ("rgb(%d,%d,%d)"):format(r, g, b)
end

local function delta_color(delta, maxdelta, negate)
  if negate then delta = -delta end
  local c = math.floor(210 * (maxdelta - math.abs(delta)) / maxdelta)
  if delta > 0 then return ("rgb(255,%d,%d)"):format(c, c) end
  if delta < 0 then return ("rgb(%d,%d,255)"):format(c, c) end
  return "rgb(250,250,250)"
end

-- Text safe in XML: escaped markup, no control characters, valid UTF-8.
local function xml(s)
  s = tostring(s)
  if s:find("[%z\1-\8\11\12\14-\31\127-\255]") then
    local out, i = {}, 1
    while i <= #s do
      local b = s:byte(i)
      local len = b >= 0x80 and json.utf8_len(s, i)
      if len then out[#out + 1] = s:sub(i, i + len - 1); i = i + len
      else
        out[#out + 1] = (b < 0x20 and b ~= 9 and b ~= 10 and b ~= 13 or b >= 0x7F) and "?" or string.char(b)
        i = i + 1
      end
    end
    s = table.concat(out)
  end
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end
M.xml = xml

local function thousands(n)
  local s = ("%.0f"):format(n)
  local sign, digits = s:match("^(-?)(%d+)$")
  digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. digits
end

local backgrounds = {
  yellow = { "#eeeeee", "#eeeeb0" }, blue = { "#eeeeee", "#e0e0ff" },
  green = { "#eef2ee", "#e0ffe0" }, grey = { "#f8f8f8", "#e8e8e8" },
}

function M.svg(text, opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  local entries, ignored = M.parse(text, o)
  local frames, total, maxdelta = M.frames(entries)
  local W, fs = tonumber(o.width), tonumber(o.fontsize)
  local title = o.title or (o.flamechart and "Flame Chart") or (o.inverted and "Icicle Graph")
    or "Flame Graph"
  local info = { total = total, ignored = ignored, frames = 0 }
  if total == 0 then
    local h = fs * 5
    return table.concat{
      ('<?xml version="1.0" standalone="no"?>\n<svg version="1.1" width="%d" height="%d" '
        .. 'xmlns="http://www.w3.org/2000/svg">\n'):format(W, h),
      ('<text x="%d" y="%d" text-anchor="middle" font-family="%s" font-size="%s">'
        .. 'ERROR: No valid input provided to flamegraph.</text>\n</svg>\n'):format(
          math.floor(W / 2), fs * 2, xml(o.fonttype), fs) }, info
  end
  local timemax = tonumber(o.total)
  if not timemax or timemax < total then timemax = total end
  local xpad, ypad1, ypad2 = 10, fs * 3, fs * 2 + 10
  local ypad3 = o.subtitle and fs * 2 or 0
  local fh = tonumber(o.height)
  local scale = (W - 2 * xpad) / timemax
  local minwidth = tostring(o.minwidth)
  local min_samples = minwidth:match("%%$") and timemax * tonumber(minwidth:sub(1, -2)) / 100
    or tonumber(minwidth) / scale
  local mixed = text:find("_[k]", 1, true) ~= nil
  local depthmax = 0
  local drawn = {}
  for _, f in ipairs(frames) do
    if f.n >= min_samples or f.depth == 0 then
      drawn[#drawn + 1] = f
      if f.depth > depthmax then depthmax = f.depth end
    end
  end
  local H = (depthmax + 1) * fh + ypad1 + ypad2 + ypad3
  local bg = backgrounds[o.bgcolors]
  local out = {}
  local function add(s, ...) out[#out + 1] = select("#", ...) > 0 and s:format(...) or s end
  add('<?xml version="1.0" standalone="no"?>\n')
  add('<svg version="1.1" width="%d" height="%d" onload="init(evt)" viewBox="0 0 %d %d" '
    .. 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n', W, H, W, H)
  if o.notes then add("<!-- %s -->\n", xml(o.notes):gsub("%-%-", "- -")) end
  if bg then
    add('<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0">'
      .. '<stop stop-color="%s" offset="5%%"/><stop stop-color="%s" offset="95%%"/>'
      .. '</linearGradient></defs>\n', bg[1], bg[2])
  end
  add('<style type="text/css">\n'
    .. 'text { font-family: %s; font-size: %spx; fill: rgb(0,0,0); }\n'
    .. '#title { text-anchor: middle; font-size: %spx; }\n#subtitle { text-anchor: middle; fill: rgb(160,160,160); }\n'
    .. '#search, #ignorecase { opacity: 0.1; cursor: pointer; }\n'
    .. '#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity: 1; }\n'
    .. '#unzoom { cursor: pointer; }\n#frames > *:hover { stroke: black; stroke-width: 0.5; cursor: pointer; }\n'
    .. '.hide { display: none; }\n.parent { opacity: 0.5; }\n</style>\n',
    xml(o.fonttype), fs, fs + 5)
  add('<script type="text/ecmascript"><![CDATA[\n')
  add('var fg = { xpad: %d, fontsize: %s, fontwidth: %s, total: %s, inverted: %s, '
    .. 'nametype: %s, searchcolor: "rgb(230,0,230)" };\n',
    xpad, fs, tonumber(o.fontwidth), json.encode(timemax), o.inverted and "true" or "false",
    json.encode(o.nametype):gsub("]]>", "]]\\u003e"))
  add(script)
  add(']]></script>\n')
  add('<rect x="0" y="0" width="%d" height="%d" fill="%s"/>\n', W, H,
    bg and "url(#background)" or xml(o.bgcolors))
  add('<text id="title" x="%d" y="%d">%s</text>\n', math.floor(W / 2), fs * 2, xml(title))
  if o.subtitle then add('<text id="subtitle" x="%d" y="%d">%s</text>\n', math.floor(W / 2), fs * 4, xml(o.subtitle)) end
  add('<text id="details" x="%d" y="%d"> </text>\n', xpad, H - ypad2 / 2)
  add('<text id="unzoom" class="hide" x="%d" y="%d">Reset Zoom</text>\n', xpad, fs * 2)
  add('<text id="search" x="%d" y="%d">Search</text>\n', W - xpad - 100, fs * 2)
  add('<text id="ignorecase" x="%d" y="%d">ic</text>\n', W - xpad - 16, fs * 2)
  add('<text id="matched" x="%d" y="%d"> </text>\n', W - xpad - 100, H - ypad2 / 2)
  add('<g id="frames" data-total="%s">\n', json.encode(timemax))
  local factor = tonumber(o.factor)
  for _, f in ipairs(drawn) do
    local x = xpad + f.s * scale
    local w = (f.depth == 0 and timemax or f.n) * scale
    local y
    if o.inverted then y = ypad1 + ypad3 + f.depth * fh
    else y = H - ypad2 - (f.depth + 1) * fh + 1 end
    local samples = f.n * factor
    local name = f.name:gsub("_%[[kwij]%]$", "")
    local label
    if f.depth == 0 then
      label = ("all (%s %s, 100%%)"):format(thousands(samples), o.countname)
    else
      local pct = ("%.2f"):format(100 * samples / (timemax * factor))
      if f.delta then
        local d = o.negate and -f.delta or f.delta
        label = ("%s (%s %s, %s%%; %s%.2f%%)"):format(name, thousands(samples), o.countname, pct,
          d > 0 and "+" or "", 100 * d / (timemax * factor))
      else
        label = ("%s (%s %s, %s%%)"):format(name, thousands(samples), o.countname, pct)
      end
    end
    local fill = f.delta and delta_color(f.delta, maxdelta, o.negate) or color(o.colors, f.name, mixed)
    local chars = math.floor(w / (fs * o.fontwidth))
    local shown = ""
    if chars >= 3 then
      local full = f.depth == 0 and "all" or name
      shown = #full > chars and full:sub(1, chars - 2) .. ".." or full
    end
    add('<g data-s="%s" data-n="%s" data-d="%d"><title>%s</title>'
      .. '<rect x="%.2f" y="%.1f" width="%.2f" height="%.1f" fill="%s" rx="2" ry="2"/>'
      .. '<text x="%.2f" y="%.1f">%s</text></g>\n',
      json.encode(f.s), json.encode(f.depth == 0 and timemax or f.n), f.depth, xml(label),
      x, y, w, fh - 1, fill, x + 3, y + (fh - 1) / 2 + 3, xml(shown))
    info.frames = info.frames + 1
  end
  add('</g>\n</svg>\n')
  return table.concat(out), info
end

-- For tools with stacks (profile, offcputime): a tool whose definition has
-- folded(running, opts) -> folded text gets `--svg FILE` (toolkit), and
-- save_tool writes the graph when the tool ends.
M.option = { "--svg", type = "string", metavar = "FILE",
  help = "write an interactive flame graph SVG to FILE" }

function M.save(path, folded_text, opts)
  local svg, info = M.svg(folded_text, opts)
  local f, err = io.open(path, "w")
  if not f then error(("write flame graph %s: %s"):format(path, err), 0) end
  f:write(svg)
  f:close()
  return info
end

function M.save_tool(def, running, opts)
  local info = M.save(opts.svg, def.folded(running, opts), {
    title = def.svg_title or (def.name .. " flame graph"), countname = def.countname })
  io.stderr:write(("%s: flame graph of %s %s written to %s\n"):format(def.name,
    info.total, def.countname or "samples", opts.svg))
  return info
end

return M
