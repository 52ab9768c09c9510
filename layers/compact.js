/* Atlas compact layers (layers/compact.py): one canvas per layer, drawn from typed arrays.
 *
 * window.atlasCompact(payload) → an L.Layer (LayerControl-toggleable). The payload's
 * geometry (quantised, delta-coded varints) is decoded once into Web-Mercator zoom-0
 * pixel coordinates (Float64Array); a redraw (after a pan or zoom) walks only the
 * features whose box meets the view, drops vertices closer than a pixel to the last one
 * drawn and issues one fill and one stroke per fill colour: no Leaflet object per feature.
 * The full-detail level is decoded the first time the map is zoomed past payload.zd.
 * Hover and click are answered by a spatial grid (built on the first mouse move): the
 * topmost compact layer under the pointer shows its tooltip (values are HTML-escaped by
 * the Python side) and is outlined on a second canvas; a click fires "click" on the
 * layer with the feature's tooltip, as streamlit-folium expects from a clicked layer.
 * Own code, no library (MIT-compatible with Leaflet 1.9's public API; uses
 * map._getNewPixelOrigin like Leaflet's own renderers for zoom animation).
 */
window.atlasCompact = window.atlasCompact || (function () {
  var PI = Math.PI, MAXLAT = 85.0511287798;

  function ints(b64, n) {  // zigzag LEB128 varints (base64) → Float64Array of n signed integers
    var s = atob(b64), out = new Float64Array(n), j = 0, v = 0, m = 1;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      v += (c & 127) * m;
      if (c & 128) { m *= 128; } else { out[j++] = (v % 2) ? -(v + 1) / 2 : v / 2; v = 0; m = 1; }
    }
    return out;
  }
  function count(b64) { var s = atob(b64), n = 0; for (var i = 0; i < s.length; i++) if (!(s.charCodeAt(i) & 128)) n++; return n; }

  // One level of detail, decoded in steps (a background start after the first frame, the rest
  // when needed) → {xy: zoom-0 pixel coords, rs: ring starts (vertex index), fr: rings of
  // feature f = fr[f]..fr[f+1], box: per-feature x0, y0, x1, y1}
  function Decoder(g, n, kind) {
    this.g = g; this.n = n; this.kind = kind; this.s = null; this.pos = 0; this.i = 0; this.x = 0; this.y = 0;
    this.xy = new Float64Array(2 * g.nc); this.lv = null;
  }
  Decoder.prototype.step = function (budget) {  // decode up to budget coordinates; the level once all are done
    if (this.lv) return this.lv;
    if (this.s === null) this.s = atob(this.g.c);
    var s = this.s, pos = this.pos, i = this.i, end = Math.min(this.g.nc, i + budget), x = this.x, y = this.y;
    var q = this.g.q, xy = this.xy, v, m, c;
    for (; i < end; i++) {
      v = 0; m = 1;
      do { c = s.charCodeAt(pos++); v += (c & 127) * m; m *= 128; } while (c & 128);
      x += (v % 2) ? -(v + 1) / 2 : v / 2;
      v = 0; m = 1;
      do { c = s.charCodeAt(pos++); v += (c & 127) * m; m *= 128; } while (c & 128);
      y += (v % 2) ? -(v + 1) / 2 : v / 2;
      var lat = Math.max(-MAXLAT, Math.min(MAXLAT, y * q)), sn = Math.sin(lat * PI / 180);
      xy[2 * i] = (x * q + 180) / 360 * 256;
      xy[2 * i + 1] = (0.5 - Math.log((1 + sn) / (1 - sn)) / (4 * PI)) * 256;
    }
    this.pos = pos; this.i = i; this.x = x; this.y = y;
    if (i < this.g.nc) return null;
    this.s = null;
    return (this.lv = structure(this.g, this.n, this.kind, xy));
  };
  function decode(g, n, kind) { return new Decoder(g, n, kind).step(Infinity); }

  function structure(g, n, kind, xy) {
    var box = new Float64Array(4 * n), lv = {xy: xy, box: box, n: n}, i;
    if (kind === "point") {
      for (i = 0; i < n; i++) { box[4 * i] = box[4 * i + 2] = xy[2 * i]; box[4 * i + 1] = box[4 * i + 3] = xy[2 * i + 1]; }
      return lv;
    }
    var P = ints(g.p, n), nl = count(g.v), V = ints(g.v, nl), R = g.r ? ints(g.r, count(g.r)) : null;
    var rs = new Int32Array(nl + 1), fr = new Int32Array(n + 1), ri = 0, pi = 0, f, k;
    for (k = 0; k < nl; k++) rs[k + 1] = rs[k] + V[k];
    for (f = 0; f < n; f++) {
      fr[f] = ri;
      for (var p = 0; p < P[f]; p++) ri += R ? R[pi++] : 1;
    }
    fr[n] = ri;
    for (f = 0; f < n; f++) {
      var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (k = rs[fr[f]]; k < rs[fr[f + 1]]; k++) {
        var px = xy[2 * k], py = xy[2 * k + 1];
        if (px < x0) x0 = px; if (px > x1) x1 = px; if (py < y0) y0 = py; if (py > y1) y1 = py;
      }
      box[4 * f] = x0; box[4 * f + 1] = y0; box[4 * f + 2] = x1; box[4 * f + 3] = y1;
    }
    lv.rs = rs; lv.fr = fr;
    return lv;
  }

  var CHUNK = 200, STAMP_MIN = 3000, colours = {};
  function rgba(css, alpha) {  // CSS colour + opacity → one ImageData pixel (Uint32, platform byte order)
    var key = css + "|" + alpha;
    if (colours[key] === undefined) {
      var cv = document.createElement("canvas"); cv.width = cv.height = 1;
      var c = cv.getContext("2d"); c.fillStyle = css; c.fillRect(0, 0, 1, 1);
      var p = c.getImageData(0, 0, 1, 1).data, u8 = new Uint8ClampedArray([p[0], p[1], p[2], Math.round(255 * alpha)]);
      colours[key] = new Uint32Array(u8.buffer)[0];
    }
    return colours[key];
  }

  function tipHtml(d, i) {
    var h = "<table>";
    for (var k = 0; k < d.t.a.length; k++) h += "<tr><th>" + d.t.a[k] + "</th><td>" + d.t.v[k][i] + "</td></tr>";
    return h + "</table>";
  }

  // ---- hover / click across the compact layers of one map (topmost wins) ----
  function hitAll(map, latlng) {
    var ls = map._atlasCompactLayers || [];
    for (var i = ls.length - 1; i >= 0; i--) {
      if (!ls[i]._map) continue;
      var f = ls[i].hit(latlng);
      if (f >= 0) return {layer: ls[i], index: f};
    }
    return null;
  }
  // a feature of an ordinary (SVG, canvas or marker) layer created after the compact layer is drawn above it:
  // when the pointer is on such a feature, that feature's own tooltip/click wins
  function coveredBy(map, h, e) {
    var el = e.originalEvent && e.originalEvent.target, above = null;
    if (!el) return false;
    if (map._targets && el._leaflet_id !== undefined) above = map._targets[el._leaflet_id];  // SVG paths, markers
    if (!above || above === map) {  // a canvas renderer's features: the one it has under the pointer
      var rs = [map._renderer].concat(Object.keys(map._paneRenderers || {}).map(function (k) { return map._paneRenderers[k]; }));
      for (var i = 0; i < rs.length; i++) if (rs[i] && rs[i]._container === el) above = rs[i]._hoveredLayer;
    }
    return !!(above && above !== map && above._leaflet_id > h.layer._leaflet_id);
  }
  function attach(map, layer) {
    if (!map._atlasCompactLayers) {
      map._atlasCompactLayers = [];
      var tip = L.tooltip({direction: "auto", sticky: true, opacity: 0.9, className: "atlas-compact-tip"}),
          shown = null, pending = null;
      // the compact layers lie on top of the map's other vector layers: while one of their features is
      // under the pointer, tooltips of the layers below are hidden (as the top SVG path would catch the event)
      if (!document.getElementById("atlas-compact-css")) {
        var css = L.DomUtil.create("style", "", document.head);
        css.id = "atlas-compact-css";
        css.textContent = ".atlas-compact-hover .leaflet-tooltip:not(.atlas-compact-tip) {display: none}";
      }
      var clear = function () {
        if (shown) { shown.layer.highlight(-1); shown = null; }
        if (map.hasLayer(tip)) map.closeTooltip(tip);
        map.getContainer().style.cursor = "";
        L.DomUtil.removeClass(map.getContainer(), "atlas-compact-hover");
      };
      var move = function () {
        var e = pending; pending = null;
        if (!e || !map._loaded) return;
        var h = hitAll(map, e.latlng);
        if (!h || coveredBy(map, h, e)) { clear(); return; }
        if (!shown || shown.layer !== h.layer || shown.index !== h.index) {
          if (shown && shown.layer !== h.layer) shown.layer.highlight(-1);
          h.layer.highlight(h.index);
          shown = h;
          if (h.layer.tip) tip.setContent(h.layer.tip(h.index));
        }
        map.getContainer().style.cursor = "pointer";
        L.DomUtil.addClass(map.getContainer(), "atlas-compact-hover");
        if (h.layer.tip) { tip.setLatLng(e.latlng); if (!map.hasLayer(tip)) map.openTooltip(tip); }
      };
      map.on("mousemove", function (e) {
        if (map._animatingZoom || map.dragging && map.dragging.moving()) return;
        if (!pending) L.Util.requestAnimFrame(move);
        pending = e;
      });
      map.on("mouseout movestart zoomstart", clear);
      map.on("click", function (e) {
        var h = hitAll(map, e.latlng);
        if (!h || coveredBy(map, h, e)) return;
        var html = h.layer.tip ? h.layer.tip(h.index) : "";
        var src = {_tooltip: {_content: html}, getTooltip: function () { return {getContent: function () { return html; }}; }};
        h.layer.fire("click", {latlng: e.latlng, index: h.index, sourceTarget: src, originalEvent: e.originalEvent});
      });
    }
    var ls = map._atlasCompactLayers;
    if (ls.indexOf(layer) < 0) ls.push(layer);
  }

  var CompactLayer = L.Layer.extend({
    options: {pane: "overlayPane", padding: 0.2},

    initialize: function (d, options) {
      L.setOptions(this, options);
      this.d = d;
      this.st = d.s || {};
      this.coarse = null; this.full = null;
      if (d.t && d.t.a.length) { this.tip = function (i) { return tipHtml(d, i); }; }
      this.hl = -1;
    },

    level: function (zoom) {
      var d = this.d;
      if (d.detail && zoom >= d.zd) return this._full().step(Infinity);
      return this.coarse || (this.coarse = decode(d.g, d.n, d.k));
    },
    _full: function () { return this.fullDec || (this.fullDec = new Decoder(this.d.detail, this.d.n, this.d.k)); },
    _background: function () {  // decode the full detail in ~10 ms slices once the first frame is out
      var self = this;
      if (!this.d.detail || this._bg) return;
      this._bg = true;
      var slice = function () { if (!self._full().step(40000)) setTimeout(slice, 30); };
      L.Util.requestAnimFrame(function () { setTimeout(slice, 200); });
    },

    getBounds: function () {
      var lv = this.level(0), b = lv.box, x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (var f = 0; f < lv.n; f++) {
        if (b[4 * f] < x0) x0 = b[4 * f]; if (b[4 * f + 1] < y0) y0 = b[4 * f + 1];
        if (b[4 * f + 2] > x1) x1 = b[4 * f + 2]; if (b[4 * f + 3] > y1) y1 = b[4 * f + 3];
      }
      var crs = L.CRS.EPSG3857;
      return L.latLngBounds(crs.pointToLatLng(L.point(x0, y1), 0), crs.pointToLatLng(L.point(x1, y0), 0));
    },

    onAdd: function (map) {
      var c = this._container = L.DomUtil.create("div", "atlas-compact");
      c.style.pointerEvents = "none";
      c.style.position = "absolute";
      this._canvas = L.DomUtil.create("canvas", "", c);
      this._over = L.DomUtil.create("canvas", "", c);
      this._canvas.style.position = this._over.style.position = "absolute";
      this._canvas.style.left = this._over.style.left = this._canvas.style.top = this._over.style.top = "0";
      if (map._zoomAnimated) L.DomUtil.addClass(c, "leaflet-zoom-animated");
      this.getPane().appendChild(c);
      attach(map, this);
      this._update();
    },

    onRemove: function () {
      L.DomUtil.remove(this._container);
      this.highlight(-1);
    },

    getEvents: function () {
      var ev = {viewreset: this._update, moveend: this._update, zoom: this._onZoom, zoomend: this._update};
      if (this._map._zoomAnimated) ev.zoomanim = this._onAnimZoom;
      return ev;
    },

    _onAnimZoom: function (e) { this._updateTransform(e.center, e.zoom); },
    _onZoom: function () { this._updateTransform(this._map.getCenter(), this._map.getZoom()); },
    _updateTransform: function (center, zoom) {  // as Leaflet's L.Renderer
      if (!this._bounds) return;
      var map = this._map, scale = map.getZoomScale(zoom, this._zoom),
          viewHalf = map.getSize().multiplyBy(0.5 + this.options.padding),
          topLeft = viewHalf.multiplyBy(-scale).add(map.project(this._center, zoom))
            .subtract(map._getNewPixelOrigin(center, zoom));
      if (L.Browser.any3d) L.DomUtil.setTransform(this._container, topLeft, scale);
      else L.DomUtil.setPosition(this._container, topLeft);
    },

    _update: function () {
      var map = this._map;
      if (!map || map._animatingZoom) return;  // zoomend redraws
      var p = this.options.padding, size = map.getSize(),
          min = map.containerPointToLayerPoint(size.multiplyBy(-p)).round();
      this._bounds = L.bounds(min, min.add(size.multiplyBy(1 + p * 2)).round());
      this._center = map.getCenter();
      this._zoom = map.getZoom();
      var bs = this._bounds.getSize(), m = window.devicePixelRatio || 1;
      L.DomUtil.setPosition(this._container, min);
      [this._canvas, this._over].forEach(function (cv) {
        cv.width = Math.round(m * bs.x); cv.height = Math.round(m * bs.y);
        cv.style.width = bs.x + "px"; cv.style.height = bs.y + "px";
      });
      this._draw();
      this._background();
      if (this.hl >= 0) this.highlight(this.hl, true);
    },

    // view → transform from zoom-0 coordinates to canvas pixels
    _frame: function () {
      var map = this._map, z = this._zoom, k = Math.pow(2, z), o = map.getPixelOrigin(), b = this._bounds;
      var ox = o.x + b.min.x, oy = o.y + b.min.y, bs = b.getSize();
      return {k: k, ox: ox, oy: oy, vx0: ox / k, vy0: oy / k, vx1: (ox + bs.x) / k, vy1: (oy + bs.y) / k};
    },

    _path: function (ctx, lv, f, fr) {  // rings of feature f, vertices closer than ~1 px to the last drawn dropped
      var xy = lv.xy, rs = lv.rs, k = fr.k, ox = fr.ox, oy = fr.oy, poly = this.d.k === "polygon";
      for (var r = lv.fr[f]; r < lv.fr[f + 1]; r++) {
        var a = rs[r], e = rs[r + 1];
        if (e <= a) continue;
        var lx = xy[2 * a] * k - ox, ly = xy[2 * a + 1] * k - oy;
        ctx.moveTo(lx, ly);
        for (var i = a + 1; i < e; i++) {
          var x = xy[2 * i] * k - ox, y = xy[2 * i + 1] * k - oy;
          if (i === e - 1 || Math.abs(x - lx) + Math.abs(y - ly) >= 0.8) { ctx.lineTo(x, y); lx = x; ly = y; }
        }
        if (poly) ctx.closePath();
      }
    },

    _visible: function (lv, fr, pad) {
      var b = lv.box, out = [], x0 = fr.vx0 - pad, y0 = fr.vy0 - pad, x1 = fr.vx1 + pad, y1 = fr.vy1 + pad;
      for (var f = 0; f < lv.n; f++) {
        if (b[4 * f + 2] >= x0 && b[4 * f] <= x1 && b[4 * f + 3] >= y0 && b[4 * f + 1] <= y1) out.push(f);
      }
      return out;
    },

    _draw: function () {
      var d = this.d, st = this.st, lv = this.level(this._zoom), fr = this._frame(), m = window.devicePixelRatio || 1;
      var ctx = this._canvas.getContext("2d");
      ctx.setTransform(m, 0, 0, m, 0, 0);
      ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
      ctx.lineJoin = ctx.lineCap = "round";
      var r = st.radius || 4, w = st.weight === undefined ? 1 : st.weight;
      var vis = this._visible(lv, fr, (r + w) / fr.k);
      // group by fill colour: one fill + one stroke per colour
      var groups = {}, order = [];
      for (var i = 0; i < vis.length; i++) {
        var col = d.fc ? d.pal[d.fc[vis[i]]] : (st.fillColor || st.color || "#3388ff");
        if (!groups[col]) { groups[col] = []; order.push(col); }
        groups[col].push(vis[i]);
      }
      var doFill = d.k !== "line" && st.fill !== false;
      for (var g = 0; g < order.length; g++) {
        var fs = groups[order[g]];
        if (d.k === "point" && fs.length > STAMP_MIN) { this._stamp(ctx, lv, fs, fr, order[g], r, w, m); continue; }
        // paths of at most CHUNK features: Chromium's canvas slows down super-linearly on one huge path
        for (var a = 0; a < fs.length; a += CHUNK) {
          ctx.beginPath();
          for (i = a; i < Math.min(fs.length, a + CHUNK); i++) {
            if (d.k === "point") {
              var x = lv.xy[2 * fs[i]] * fr.k - fr.ox, y = lv.xy[2 * fs[i] + 1] * fr.k - fr.oy;
              ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * PI);
            } else {
              this._path(ctx, lv, fs[i], fr);
            }
          }
          this._paint(ctx, order[g], doFill, w);
        }
      }
    },

    // many points: stamp pixel disks into one ImageData (canvas arcs cost ~20 µs each in software)
    _stamp: function (ctx, lv, fs, fr, fill, r, w, m) {
      var st = this.st, W = this._canvas.width, H = this._canvas.height;
      var fillPx = rgba(fill, st.fillOpacity === undefined ? 0.2 : st.fillOpacity);
      var linePx = w > 0 && st.stroke !== false ? rgba(st.color || "#3388ff", st.opacity === undefined ? 1 : st.opacity) : fillPx;
      var R = (r + w / 2) * m, Ri = (r - w / 2) * m, off = [], col = [], dx, dy;
      for (dy = -Math.ceil(R); dy <= Math.ceil(R); dy++) for (dx = -Math.ceil(R); dx <= Math.ceil(R); dx++) {
        var dd = dx * dx + dy * dy;
        if (dd <= R * R) { off.push(dx, dy); col.push(dd > Ri * Ri ? linePx : fillPx); }
      }
      var img = ctx.getImageData(0, 0, W, H), u = new Uint32Array(img.data.buffer), no = col.length;
      for (var i = 0; i < fs.length; i++) {
        var cx = Math.round((lv.xy[2 * fs[i]] * fr.k - fr.ox) * m), cy = Math.round((lv.xy[2 * fs[i] + 1] * fr.k - fr.oy) * m);
        for (var j = 0; j < no; j++) {
          var px = cx + off[2 * j], py = cy + off[2 * j + 1];
          if (px >= 0 && py >= 0 && px < W && py < H) u[py * W + px] = col[j];
        }
      }
      ctx.putImageData(img, 0, 0);
    },

    _paint: function (ctx, fill, doFill, w) {
      var st = this.st;
      if (doFill) {
        ctx.globalAlpha = st.fillOpacity === undefined ? 0.2 : st.fillOpacity;
        ctx.fillStyle = fill;
        ctx.fill("nonzero");  // rings are oriented (exteriors one way, holes the other): overlaps stay filled
      }
      if (w > 0 && st.stroke !== false) {
        ctx.globalAlpha = st.opacity === undefined ? 1 : st.opacity;
        ctx.strokeStyle = st.color || "#3388ff";
        ctx.lineWidth = w;
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    },

    highlight: function (f, force) {  // outline feature f (or none: -1) on the top canvas
      if (f === this.hl && !force) return;
      this.hl = f;
      if (!this._map || !this._over || !this._bounds) return;
      var ctx = this._over.getContext("2d"), m = window.devicePixelRatio || 1;
      ctx.setTransform(m, 0, 0, m, 0, 0);
      ctx.clearRect(0, 0, this._over.width, this._over.height);
      if (f < 0) return;
      var lv = this.level(this._zoom), fr = this._frame(), st = this.st, w = (st.weight === undefined ? 1 : st.weight) + 2;
      ctx.beginPath();
      if (this.d.k === "point") {
        var x = lv.xy[2 * f] * fr.k - fr.ox, y = lv.xy[2 * f + 1] * fr.k - fr.oy;
        ctx.arc(x, y, (st.radius || 4) + 1, 0, 2 * PI);
      } else {
        this._path(ctx, lv, f, fr);
      }
      ctx.lineJoin = "round";
      ctx.strokeStyle = st.color || "#3388ff";
      ctx.lineWidth = w;
      ctx.stroke();
    },

    // ---- hit testing: grid over zoom-0 coordinates (built on first use, per level) ----
    _grid: function (lv) {
      if (lv.grid) return lv.grid;
      var n = lv.n, b = lv.box, x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, f, gx, gy;
      for (f = 0; f < n; f++) {
        if (b[4 * f] < x0) x0 = b[4 * f]; if (b[4 * f + 1] < y0) y0 = b[4 * f + 1];
        if (b[4 * f + 2] > x1) x1 = b[4 * f + 2]; if (b[4 * f + 3] > y1) y1 = b[4 * f + 3];
      }
      var G = Math.max(1, Math.min(512, Math.ceil(Math.sqrt(n) * 2)));
      var cw = Math.max((x1 - x0) / G, 1e-12), ch = Math.max((y1 - y0) / G, 1e-12);
      var cell = function (v, v0, s) { return Math.max(0, Math.min(G - 1, Math.floor((v - v0) / s))); };
      var cnt = new Int32Array(G * G + 1);
      for (f = 0; f < n; f++) {
        for (gy = cell(b[4 * f + 1], y0, ch); gy <= cell(b[4 * f + 3], y0, ch); gy++)
          for (gx = cell(b[4 * f], x0, cw); gx <= cell(b[4 * f + 2], x0, cw); gx++) cnt[gy * G + gx + 1]++;
      }
      for (var i = 0; i < G * G; i++) cnt[i + 1] += cnt[i];
      var items = new Int32Array(cnt[G * G]), fill = cnt.slice(0, G * G);
      for (f = 0; f < n; f++) {
        for (gy = cell(b[4 * f + 1], y0, ch); gy <= cell(b[4 * f + 3], y0, ch); gy++)
          for (gx = cell(b[4 * f], x0, cw); gx <= cell(b[4 * f + 2], x0, cw); gx++) items[fill[gy * G + gx]++] = f;
      }
      return (lv.grid = {G: G, x0: x0, y0: y0, cw: cw, ch: ch, start: cnt, items: items, cell: cell,
                         seen: new Int32Array(n), stamp: 0});
    },

    hit: function (latlng) {  // index of the topmost feature under latlng at the current zoom, or -1
      if (!this._map || this._zoom === undefined) return -1;
      var lv = this.level(this._zoom), g = this._grid(lv), k = Math.pow(2, this._zoom), st = this.st;
      var pt = L.CRS.EPSG3857.latLngToPoint(latlng, 0), mx = pt.x, my = pt.y;
      var kind = this.d.k, tolPx = kind === "point" ? (st.radius || 4) + (st.weight || 1) + 2 : kind === "line" ? (st.weight || 1) / 2 + 3 : 0;
      var e = tolPx / k, best = -1, bestD = Infinity, b = lv.box, xy = lv.xy;
      var gx0 = g.cell(mx - e, g.x0, g.cw), gx1 = g.cell(mx + e, g.x0, g.cw), gy0 = g.cell(my - e, g.y0, g.ch), gy1 = g.cell(my + e, g.y0, g.ch);
      if ((gx1 - gx0 + 1) * (gy1 - gy0 + 1) > 4096) return -1;  // far zoomed out: nothing pickable at pixel size
      var stamp = ++g.stamp;
      for (var gy = gy0; gy <= gy1; gy++) for (var gx = gx0; gx <= gx1; gx++) {
        var c = gy * g.G + gx;
        for (var j = g.start[c]; j < g.start[c + 1]; j++) {
          var f = g.items[j];
          if (g.seen[f] === stamp) continue;
          g.seen[f] = stamp;
          if (b[4 * f] > mx + e || b[4 * f + 2] < mx - e || b[4 * f + 1] > my + e || b[4 * f + 3] < my - e) continue;
          if (kind === "point") {
            var dx = (xy[2 * f] - mx) * k, dy = (xy[2 * f + 1] - my) * k, dd = dx * dx + dy * dy;
            if (dd <= tolPx * tolPx && (dd < bestD || (dd === bestD && f > best))) { best = f; bestD = dd; }
          } else if (kind === "polygon") {
            if (f > best && this._inside(lv, f, mx, my)) best = f;
          } else {
            var dl = this._lineDist(lv, f, mx, my) * k;
            if (dl <= tolPx && (dl < bestD || (dl === bestD && f > best))) { best = f; bestD = dl; }
          }
        }
      }
      return best;
    },

    _inside: function (lv, f, x, y) {  // even-odd rule over all rings of feature f
      var xy = lv.xy, rs = lv.rs, inside = false;
      for (var r = lv.fr[f]; r < lv.fr[f + 1]; r++) {
        for (var i = rs[r], j = rs[r + 1] - 1; i < rs[r + 1]; j = i++) {
          var xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
          if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
      }
      return inside;
    },

    _lineDist: function (lv, f, x, y) {
      var xy = lv.xy, rs = lv.rs, best = Infinity;
      for (var r = lv.fr[f]; r < lv.fr[f + 1]; r++) {
        for (var i = rs[r] + 1; i < rs[r + 1]; i++) {
          var ax = xy[2 * i - 2], ay = xy[2 * i - 1], bx = xy[2 * i], by = xy[2 * i + 1];
          var vx = bx - ax, vy = by - ay, l2 = vx * vx + vy * vy, t = l2 ? ((x - ax) * vx + (y - ay) * vy) / l2 : 0;
          t = Math.max(0, Math.min(1, t));
          var dx = ax + t * vx - x, dy = ay + t * vy - y, dd = Math.sqrt(dx * dx + dy * dy);
          if (dd < best) best = dd;
        }
      }
      return best;
    }
  });

  var make = function (d, options) { return new CompactLayer(d, options); };
  make.decode = decode;  // for tests: decode(payload.g, n, kind) → zoom-0 pixel coordinates
  make.Layer = CompactLayer;
  return make;
})();
