-- Flame graph SVG: flamegraph.pl's input contract, a well-formed SVG
-- (python3's XML parser), frame widths and sample counts that add up, and
-- Chromium drawing the frames and running the zoom/search script.
local fg = require "luatrace.flamegraph"
local core = require "luatrace.core"

local INPUT = table.concat({
  "main;parse;lex 30",
  "main;parse;lex;next_char 10",
  "main;eval;call_a_rather_long_function_name 25",
  "main;eval;sys_read_[k];vfs_read_[k] 20",
  "main;- 1",
  "not a stack line",
  "idle 14",
  "",
}, "\n")

local function write(path, s) local f = io.open(path, "w"); f:write(s); f:close() end

test("input contract: counts, decimals, ignored lines, merging, reverse", function()
  local entries, ignored = fg.parse("a;b 1\nbad\na;b 2.5\na b;c d 3\n\n")
  eq(ignored, 1)
  eq(#entries, 3)
  local frames, total = fg.frames(entries)
  eq(total, 6.5)
  local by = {}
  for _, f in ipairs(frames) do by[f.name .. "@" .. f.depth] = (by[f.name .. "@" .. f.depth] or 0) + f.n end
  eq(by["a@1"], 3.5, "a;b lines merged")
  eq(by["a b@1"], 3, "frames may hold spaces")
  local rev = fg.parse("a;b;c 1", { reverse = true })
  eq(rev[1].stack, "c;b;a")
  local diff = fg.parse("a;b 1 4")
  eq(diff[1].samples, 1); eq(diff[1].samples2, 4)
  local svg, info = fg.svg("")
  eq(info.total, 0)
  ok(svg:find("ERROR: No valid input", 1, true), "an error SVG for empty input")
end)

-- Each frame as python's XML parser sees it: "depth start samples width name".
local PARSE = [[
import sys, xml.etree.ElementTree as E
ns = {"s": "http://www.w3.org/2000/svg"}
root = E.parse(sys.argv[1]).getroot()
print(root.get("width"))
for g in root.find("s:g[@id='frames']", ns):
    r = g.find("s:rect", ns)
    print(g.get("data-d"), g.get("data-s"), g.get("data-n"), r.get("width"), g.find("s:title", ns).text)
]]

test("the SVG parses as XML; widths and titles match the sample counts", function()
  local svg, info = fg.svg(INPUT, { title = "Test <graph> & co", width = 1000 })
  eq(info.total, 100); eq(info.ignored, 1)
  local path, script = unique_path("fg.svg"), unique_path("parse.py")
  write(path, svg); write(script, PARSE)
  local out, err, code = sh(("python3 %s %s"):format(q(script), q(path)))
  os.remove(path); os.remove(script)
  eq(code, 0, "python3 parses the SVG: " .. err)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  eq(lines[1], "1000")
  local scale = (1000 - 20) / 100
  local depth1, names = 0, {}
  for i = 2, #lines do
    local d, s, n, w, title = lines[i]:match("^(%d+) (%S+) (%S+) (%S+) (.*)$")
    d, n, w = tonumber(d), tonumber(n), tonumber(w)
    ok(math.abs(w - n * scale) < 0.01, ("width %s is %s samples: %s"):format(w, n, lines[i]))
    if d == 1 then depth1 = depth1 + n end
    names[title] = n
  end
  eq(depth1, 100, "top frames add up to every sample")
  eq(names["all (100 samples, 100%)"], 100)
  eq(names["main (86 samples, 86.00%)"], 86)
  eq(names["lex (40 samples, 40.00%)"], 40, "lex merged over two stacks")
  eq(names["vfs_read (20 samples, 20.00%)"], 20, "annotation stripped from the name")
  ok(svg:find("Test &lt;graph&gt; &amp; co", 1, true), "title escaped")
  -- kernel frames are coloured apart: orange (blue 0), user frames red
  local kfill = svg:match("<title>vfs_read[^<]*</title><rect [^>]*fill=\"rgb%((%d+,%d+,%d+)%)")
  local ufill = svg:match("<title>lex [^<]*</title><rect [^>]*fill=\"rgb%((%d+,%d+,%d+)%)")
  ok(kfill:match(",0$"), "kernel frame orange: " .. kfill)
  local _, g, b = ufill:match("(%d+),(%d+),(%d+)")
  eq(g, b, "user frame in the red palette: " .. ufill)
end)

test("bytes that are not valid UTF-8 or XML still give well-formed XML", function()
  local svg = fg.svg("caf\195\169;bad\255\1name 3\n")
  local path, script = unique_path("fg.svg"), unique_path("parse.py")
  write(path, svg); write(script, PARSE)
  local out, err, code = sh(("python3 %s %s"):format(q(script), q(path)))
  os.remove(path); os.remove(script)
  eq(code, 0, "parses: " .. err)
  ok(out:find("café (3 samples", 1, true), "UTF-8 kept: " .. out)
  ok(out:find("bad??name (3 samples", 1, true), "bad bytes replaced: " .. out)
end)

local CHROME = "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
  .. "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=%s %s file://%s"

-- The test drives the SVG's own script: click "parse", search "lex".
local DRIVE = [==[<script type="text/ecmascript"><![CDATA[
window.addEventListener("load", function() { setTimeout(function() {
  var gs = document.getElementById("frames").children;
  for (var i = 0; i < gs.length; i++)
    if (nameof(gs[i]) === "parse") gs[i].dispatchEvent(new MouseEvent("click", {bubbles: true}));
  search("lex");
  for (var j = 0; j < gs.length; j++)
    if (nameof(gs[j]) === "next_char") gs[j].querySelector("rect").dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
}, 0); });
]]></script></svg>]==]

test("Chromium draws the frames; click zooms, search highlights, hover details", function()
  if not core.stat("/usr/bin/chromium") then skip("chromium is not installed (tools/deps.sh installs it)") end
  local svg = fg.svg(INPUT, { title = "luatrace test" })
  local dir = unique_path("chrome")
  core.mkdir(dir)
  local path, png = dir .. "/fg.svg", dir .. "/fg.png"
  write(path, svg)
  local _, err, code = sh(("timeout 60 " .. CHROME):format(dir .. "/profile", "--window-size=1200,200 --screenshot=" .. png, path))
  eq(code, 0, "chromium: " .. err)
  local f = io.open(png, "rb")
  local data = f:read("*a"); f:close()
  eq(data:sub(1, 8), "\137PNG\r\n\26\n", "a PNG")
  ok(#data > 5000, "the screenshot has content (" .. #data .. " bytes)")
  -- the live DOM after the script ran
  write(path, (svg:gsub("</svg>\n$", DRIVE)))
  local dom
  dom, err, code = sh(("timeout 60 " .. CHROME):format(dir .. "/profile", "--dump-dom", path))
  eq(code, 0, "chromium --dump-dom: " .. err)
  local function frame(name) return dom:match("(<g[^>]*><title>" .. name .. " %([^<]*</title><rect[^>]*>)") end
  ok(frame("parse"):find('width="1180.00"', 1, true), "zoomed frame fills the width: " .. frame("parse"))
  ok(frame("idle"):find('class="hide"', 1, true), "frames outside the zoom hide")
  ok(frame("main"):find('class="parent"', 1, true), "ancestors stay, faded")
  ok(frame("lex"):find('fill="rgb(230,0,230)"', 1, true), "search highlights: " .. frame("lex"))
  ok(dom:find(">Matched: 40.0%<", 1, true), "matched share")
  ok(dom:find('id="details"[^>]*>Function: next_char %(10 samples, 10.00%%%)</text>'), "hover details")
  sh("rm -rf " .. q(dir))
end)

test("luatrace -m flamegraph: stdin or files to an SVG, flamegraph.pl's options", function()
  local input = unique_path("in.folded")
  write(input, INPUT)
  local out, err, code = sh(("%s -m flamegraph --title=CPU --width 800 --colors java < %s")
    :format(q(luatrace()), q(input)))
  eq(code, 0, err)
  eq(err, "flamegraph: ignored 1 lines with invalid format\n")
  ok(out:find('^<%?xml'), "an SVG on stdout")
  ok(out:find('<svg version="1.1" width="800"', 1, true), "--width")
  ok(out:find('<text id="title" x="400" y="24">CPU</text>', 1, true), "--title")
  local two = sh(("%s -m flamegraph %s %s"):format(q(luatrace()), q(input), q(input)))
  ok(two:find("<title>all (200 samples, 100%)</title>", 1, true), "files are read in turn")
  out, err, code = sh(("%s -m flamegraph < /dev/null"):format(q(luatrace())))
  eq(code, 2); eq(err, "flamegraph: no stack counts found\n")
  ok(out:find("ERROR: No valid input", 1, true), "an error SVG, as flamegraph.pl")
  out, err, code = sh(("%s -m flamegraph --colors nope"):format(q(luatrace())))
  eq(code, 2); ok(err:find("^luatrace: flamegraph: %-%-colors nope: not a palette\n"), err)
  os.remove(input)
end)

test("flamegraph.save writes the SVG a tool's --svg names; errors name the file", function()
  local path = unique_path("save.svg")
  local info = fg.save(path, "a;b 2\na 1\n", { title = "profile" })
  eq(info.total, 3)
  local f = io.open(path); local s = f:read("*a"); f:close(); os.remove(path)
  ok(s:find(">profile</text>", 1, true), "title")
  raises(function() fg.save("/nonexistent/dir/x.svg", "a 1\n") end,
    "write flame graph /nonexistent/dir/x.svg: ")
  eq(fg.option[1], "--svg")
end)
