/* The backward player's page (viz/player.py): it replays frames recorded by the engine. Every number it
   shows comes from the recording; this script only chooses which frame to show. */
function tinygradPlayer(root) {
  "use strict";
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var data = JSON.parse(root.querySelector(".tgp-data").textContent);
  var steps = data.steps, n = data.nodes, uid = data.uid, last = steps.length - 1;
  var svg = root.querySelector(".tgp-graph svg");
  var pane = root.querySelector(".tgp-graph");
  var panel = root.querySelector(".tgp-panel");
  var controls = root.querySelector(".tgp-controls");
  var slider = root.querySelector(".tgp-slider");
  var number = root.querySelector(".tgp-number");
  var playButton = root.querySelector('[data-act="play"]');
  var STATES = ["tgp-future", "tgp-computed", "tgp-current", "tgp-pending", "tgp-ready", "tgp-done"];
  var boxes = [], opNodes = [], dataText = [], gradText = [], i;
  for (i = 0; i < n; i++) {
    boxes[i] = document.getElementById(uid + "-n" + i);
    opNodes[i] = document.getElementById(uid + "-n" + i + "op");
    var texts = boxes[i] ? boxes[i].querySelectorAll("text") : [];
    for (var t = 0; t < texts.length; t++) {
      var s = texts[t].textContent;
      if (s.indexOf("data ") === 0) dataText[i] = texts[t];
      if (s.indexOf("grad ") === 0) gradText[i] = texts[t];
    }
  }
  var flowing = [], current = -1, timer = null;
  controls.hidden = false;

  function setState(el, state) {
    if (!el) return;
    for (var k = 0; k < STATES.length; k++) el.classList.remove(STATES[k]);
    el.classList.add("tgp-" + state);
  }

  function show(k, fromHash) {
    k = Math.max(0, Math.min(last, Math.round(Number(k)) || 0));
    current = k;
    var state = [], dtx = [], gtx = [], j, c;
    for (j = 0; j < n; j++) { state[j] = "future"; dtx[j] = "data ·"; gtx[j] = "grad ·"; }
    for (j = 0; j <= k; j++) {
      var set = steps[j].set;
      for (c = 0; c < set.length; c++) {
        var ch = set[c];
        state[ch[0]] = ch[1];
        if (ch[2] !== null) dtx[ch[0]] = ch[2];
        if (ch[3] !== null) gtx[ch[0]] = ch[3];
      }
    }
    for (j = 0; j < n; j++) {
      setState(boxes[j], state[j]);
      setState(opNodes[j], state[j]);
      if (dataText[j]) dataText[j].textContent = dtx[j];
      if (gradText[j]) gradText[j].textContent = gtx[j];
    }
    for (j = 0; j < flowing.length; j++) flowing[j].classList.remove("tgp-flow");
    flowing = [];
    var edges = steps[k].edges;
    for (j = 0; j < edges.length; j++) {
      var e = document.getElementById(uid + "-" + edges[j]);
      if (e) { e.classList.add("tgp-flow"); flowing.push(e); }
    }
    panel.innerHTML = steps[k].html;
    svg.setAttribute("data-current", "n" + steps[k].node);
    root.setAttribute("data-step", String(k));
    slider.value = String(k);
    number.value = String(k);
    if (data.standalone && !fromHash) {
      try { history.replaceState(null, "", "#step=" + k); } catch (err) { /* a sandboxed page: no URL */ }
    }
    var box = boxes[steps[k].node];
    if (box && pane.scrollHeight > pane.clientHeight + 1 || box && pane.scrollWidth > pane.clientWidth + 1) {
      var r = box.getBoundingClientRect(), p = pane.getBoundingClientRect();
      if (r.top < p.top || r.bottom > p.bottom) pane.scrollTop += (r.top + r.bottom) / 2 - (p.top + p.bottom) / 2;
      if (r.left < p.left || r.right > p.right) pane.scrollLeft += (r.left + r.right) / 2 - (p.left + p.right) / 2;
    }
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "play";
    playButton.title = "play (space)";
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (current >= last) show(0);
    playButton.textContent = "pause";
    playButton.title = "pause (space)";
    timer = setInterval(function () {
      if (current >= last) { stop(); return; }
      show(current + 1);
    }, 900);
  }
  var actions = {
    first: function () { stop(); show(0); },
    prev: function () { stop(); show(current - 1); },
    next: function () { stop(); show(current + 1); },
    last: function () { stop(); show(last); },
    play: play,
    fit: function () {  // the whole graph in the pane (scaled down), or back to its own size (scrolling)
      var fitted = pane.classList.toggle("tgp-fit");
      fitButton.textContent = fitted ? "actual size" : "fit";
      show(current);
    }
  };
  var fitButton = root.querySelector('[data-act="fit"]');
  controls.addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (b && actions[b.dataset.act]) {
      actions[b.dataset.act]();
      root.focus({preventScroll: true});  // the keys go on to the player, not to the button (space would click it)
    }
  });
  slider.addEventListener("input", function () { stop(); show(slider.value); });
  number.addEventListener("change", function () { stop(); show(number.value); });

  function key(ev) {
    var tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var act = {ArrowRight: "next", j: "next", ArrowLeft: "prev", k: "prev", " ": "play", Home: "first",
               End: "last", f: "fit"}[ev.key];
    if (!act) return;
    ev.preventDefault();
    ev.stopPropagation();
    actions[act]();
  }
  if (data.standalone) document.addEventListener("keydown", key); else root.addEventListener("keydown", key);

  function fromHash() {
    var m = /step=(\d+)/.exec(location.hash || "");
    return m ? Number(m[1]) : null;
  }
  var start = data.standalone ? fromHash() : null;
  if (data.standalone) {
    window.addEventListener("hashchange", function () {
      var k = fromHash();
      if (k !== null && k !== current) { stop(); show(k, true); }
    });
    root.focus();
  }
  show(start === null ? 0 : start, start !== null);
}
