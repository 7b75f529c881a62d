-- luatrace.flamegraph_js: the script inside a flame graph SVG (see
-- luatrace.flamegraph). It reads the global `fg` the SVG defines first
-- (xpad, fontsize, fontwidth, total, inverted, nametype, searchcolor) and
-- each frame's data-s (start), data-n (samples), data-d (depth).
--
-- Hover: the frame's title goes to the details line. Click: zoom to the
-- frame (it and its descendants fill the width, ancestors stay full width
-- and faded, the rest hide); "Reset Zoom" or Escape undoes it. Search
-- (click "Search", Ctrl-F or F3): a regular expression; matching frames
-- turn fg.searchcolor and "Matched: P%" gives their share (nested matches
-- count once); "ic" toggles ignoring case.
return [==[
var svg, frames, details, unzoombtn, searchbtn, icbtn, matchedtxt;
var width, zoomed = null, term = null, ignorecase = false;

function attr(e, n) { return parseFloat(e.getAttribute(n)); }
function nameof(g) {
	var t = g.querySelector("title").textContent;
	return t.replace(/ \([^()]*\)$/, "");
}
function init(evt) {
	svg = document.documentElement;
	frames = document.getElementById("frames");
	details = document.getElementById("details").firstChild;
	unzoombtn = document.getElementById("unzoom");
	searchbtn = document.getElementById("search");
	icbtn = document.getElementById("ignorecase");
	matchedtxt = document.getElementById("matched");
	width = parseFloat(svg.getAttribute("width")) - 2 * fg.xpad;
	var gs = frames.children;
	for (var i = 0; i < gs.length; i++) {
		var r = gs[i].querySelector("rect");
		r.setAttribute("data-fill", r.getAttribute("fill"));
	}
	frames.addEventListener("mouseover", function(e) {
		var g = framefor(e.target);
		if (g) details.nodeValue = fg.nametype + " " + g.querySelector("title").textContent;
	});
	frames.addEventListener("mouseout", function(e) { details.nodeValue = " "; });
	frames.addEventListener("click", function(e) {
		var g = framefor(e.target);
		if (g) zoom(g);
	});
	unzoombtn.addEventListener("click", unzoom);
	searchbtn.addEventListener("click", function() {
		if (term === null) askterm(); else search(null);
	});
	icbtn.addEventListener("click", function() {
		ignorecase = !ignorecase;
		icbtn.classList.toggle("show", ignorecase);
		if (term !== null) search(term);
	});
	window.addEventListener("keydown", function(e) {
		if (e.keyCode === 114 || (e.ctrlKey && e.keyCode === 70)) {
			e.preventDefault();
			askterm();
		} else if (e.keyCode === 27) {
			unzoom();
		}
	});
}
function framefor(node) {
	while (node && node.parentNode !== frames) node = node.parentNode;
	return node;
}
// Place frame g at x with width w (pixels) and fit its label.
function place(g, x, w) {
	var r = g.querySelector("rect"), t = g.querySelector("text");
	r.setAttribute("x", x.toFixed(2));
	r.setAttribute("width", w.toFixed(2));
	t.setAttribute("x", (x + 3).toFixed(2));
	var chars = Math.floor(w / (fg.fontsize * fg.fontwidth));
	var name = attr(g, "data-d") === 0 ? "all" : nameof(g);
	if (chars < 3) t.textContent = "";
	else if (name.length > chars) t.textContent = name.substring(0, chars - 2) + "..";
	else t.textContent = name;
}
function zoom(node) {
	var zs = attr(node, "data-s"), zn = attr(node, "data-n"), zd = attr(node, "data-d");
	var fudge = 1e-6 * fg.total, gs = frames.children;
	zoomed = node;
	unzoombtn.classList.remove("hide");
	for (var i = 0; i < gs.length; i++) {
		var g = gs[i], s = attr(g, "data-s"), n = attr(g, "data-n"), d = attr(g, "data-d");
		g.classList.remove("hide");
		g.classList.remove("parent");
		if (d < zd && s <= zs + fudge && s + n >= zs + zn - fudge) {
			g.classList.add("parent");
			place(g, fg.xpad, width);
		} else if (d >= zd && s >= zs - fudge && s + n <= zs + zn + fudge) {
			place(g, fg.xpad + (s - zs) * width / zn, n * width / zn);
		} else {
			g.classList.add("hide");
		}
	}
	if (term !== null) search(term);
}
function unzoom() {
	var gs = frames.children;
	zoomed = null;
	unzoombtn.classList.add("hide");
	for (var i = 0; i < gs.length; i++) {
		var g = gs[i];
		g.classList.remove("hide");
		g.classList.remove("parent");
		place(g, fg.xpad + attr(g, "data-s") * width / fg.total, attr(g, "data-n") * width / fg.total);
	}
	if (term !== null) search(term);
}
function askterm() {
	var t = prompt("Search for (regular expression):", term === null ? "" : term);
	if (t !== null && t !== "") search(t); else if (t === "") search(null);
}
function search(t) {
	var gs = frames.children, re = null, spans = [];
	term = t;
	if (t !== null) {
		try { re = new RegExp(t, ignorecase ? "i" : ""); }
		catch (err) { matchedtxt.textContent = "Bad expression"; return; }
	}
	for (var i = 0; i < gs.length; i++) {
		var g = gs[i], r = g.querySelector("rect");
		if (re && attr(g, "data-d") > 0 && re.test(nameof(g))) {
			r.setAttribute("fill", fg.searchcolor);
			spans.push([attr(g, "data-s"), attr(g, "data-n")]);
		} else {
			r.setAttribute("fill", r.getAttribute("data-fill"));
		}
	}
	searchbtn.classList.toggle("show", re !== null);
	searchbtn.textContent = re ? "Reset Search" : "Search";
	if (!re) { matchedtxt.textContent = " "; return; }
	spans.sort(function(a, b) { return a[0] - b[0] || b[1] - a[1]; });
	var count = 0, end = -1;
	for (var j = 0; j < spans.length; j++) {
		if (spans[j][0] >= end) { count += spans[j][1]; end = spans[j][0] + spans[j][1]; }
	}
	var pct = 100 * count / fg.total;
	matchedtxt.textContent = "Matched: " + (pct === 100 ? "100" : pct.toFixed(1)) + "%";
}
]==]
