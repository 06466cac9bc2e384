"use strict";
// leosim's 3D viewer. Everything comes from the leosim server that served this page: the
// scene (/api/scene), windows of satellite positions (/api/window?k=K: int16 coordinates
// at knots every knot_s seconds, interpolated here with Catmull-Rom splines), and the
// path between two endpoints at the run's step nearest the current time (/api/path).
// CesiumJS and its NaturalEarthII imagery are vendored; no Cesium ion, no network.

window.CESIUM_BASE_URL = "/static/vendor/cesium/";

const $ = (id) => document.getElementById(id);
const INVALID = -32768; // int16 marker: SGP4 could not propagate this satellite

function bytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(`${url}: ${msg}`);
  }
  return r.json();
}

// Many points or line segments whose positions change every frame: one vertex buffer
// refilled in place, one draw call (Cesium's collections would re-check every element).
class DynamicVertices {
  constructor(type, css, size, radius) {
    this.type = type;
    this.color = Cesium.Color.fromCssColorString(css);
    this.size = size;
    this.radius = radius;
    this.show = true;
    this.count = 0;
    this.data = new Float32Array(0);
    this.dirty = false;
    this._capacity = 0;
  }

  set(data, count) {
    this.data = data;
    this.count = count;
    this.dirty = true;
  }

  update(frameState) {
    if (!this.show || this.count === 0 || !frameState.passes.render) return;
    const context = frameState.context;
    if (!this._command) this._create(context);
    if (this.dirty) {
      const n = this.count * 3;
      if (n > this._capacity) this._allocate(context, Math.max(n, Math.floor(this._capacity * 1.5)));
      this._buffer.copyFromArrayView(this.data.subarray(0, n), 0);
      this.dirty = false;
    }
    this._command.count = this.count;
    frameState.commandList.push(this._command);
  }

  _create(context) {
    const points = this.type === Cesium.PrimitiveType.POINTS;
    const vs = `
      in vec3 position;
      uniform float u_size;
      void main() {
        gl_Position = czm_modelViewProjection * vec4(position, 1.0);
        gl_PointSize = u_size;
      }`;
    const fs = points ? `
      uniform vec4 u_color;
      void main() {
        vec2 c = gl_PointCoord - vec2(0.5);
        if (dot(c, c) > 0.25) discard;
        out_FragColor = u_color;
      }` : `
      uniform vec4 u_color;
      void main() { out_FragColor = u_color; }`;
    this._command = new Cesium.DrawCommand({
      primitiveType: this.type,
      shaderProgram: Cesium.ShaderProgram.fromCache({
        context, vertexShaderSource: vs, fragmentShaderSource: fs, attributeLocations: { position: 0 },
      }),
      renderState: Cesium.RenderState.fromCache({
        depthTest: { enabled: true },
        depthMask: points,
        blending: points ? undefined : Cesium.BlendingState.ALPHA_BLEND,
      }),
      uniformMap: { u_color: () => this.color, u_size: () => this.size },
      pass: Cesium.Pass.OPAQUE,
      modelMatrix: Cesium.Matrix4.IDENTITY,
      boundingVolume: new Cesium.BoundingSphere(Cesium.Cartesian3.ZERO, this.radius),
      owner: this,
    });
  }

  _allocate(context, n) {
    if (this._va) this._va.destroy(); // and its buffer
    this._buffer = Cesium.Buffer.createVertexBuffer({
      context, sizeInBytes: n * 4, usage: Cesium.BufferUsage.DYNAMIC_DRAW,
    });
    this._va = new Cesium.VertexArray({
      context,
      attributes: [{
        index: 0, vertexBuffer: this._buffer, componentsPerAttribute: 3,
        componentDatatype: Cesium.ComponentDatatype.FLOAT,
      }],
    });
    this._command.vertexArray = this._va;
    this._capacity = n;
  }

  isDestroyed() { return false; }

  destroy() {
    if (this._va) this._va.destroy();
    return Cesium.destroyObject(this);
  }
}

// The WebGL renderer's name (the canvas hands back the context Cesium made on it).
function rendererName(canvas) {
  const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
  if (!gl) return "";
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

function decodeWindow(w, scene) {
  const n = scene.n_sats;
  const GslArray = w.gsl_dtype === "uint16" ? Uint16Array : Uint32Array;
  return {
    k: w.k,
    t0: w.t0_s,
    h: w.knot_s,
    nKnots: w.n_knots,
    q: w.quantum_m,
    pos: new Int16Array(bytes(w.positions).buffer, 0, w.n_knots * n * 3),
    isl: w.isl_up.map(bytes),
    gsl: w.gsl.map((g) => { const b = bytes(g); return new GslArray(b.buffer, 0, b.byteLength / GslArray.BYTES_PER_ELEMENT); }),
    gateways: w.gateways,
  };
}

// ------------------------------------------------------------------------- layers
// The scenario's layers, where it has them (/api/layers): per-cell capacity (H3
// hexagons coloured by per-terminal speed), admission codes (terminals recoloured, the
// code in their label), jammers (a circle where one alone denies GPS, with the denied
// share at the current step) and exposure (sensors, median time to locate per terminal).
const CODE_COLORS = {
  OKAY: "#4cd964", BLOCKED_COUNTRY: "#ff4d4d", UNKNOWN_LOCATION: "#ffb020", IN_OCEAN: "#4da3ff",
  TOO_FAR_FROM_HOME: "#c77dff", NOT_SERVED: "#ff4d4d",
};
const OTHER_CODE_COLORS = ["#ff7ad9", "#f0e442", "#7af0ff", "#a0a0a0"];

// per-terminal Mbit/s -> colour: red (slow) to yellow to green (fast)
function speedColor(v, max) {
  if (v === null || v === undefined) return Cesium.Color.GRAY.withAlpha(0.4);
  const u = max > 0 ? Math.min(Math.max(v / max, 0), 1) : 0;
  return Cesium.Color.fromHsl((u * 120) / 360, 0.85, 0.5, 0.55);
}

function fmtSeconds(s) {
  if (s === null || s === undefined) return "not located";
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function setupLayers(viewer, L, ctx) {
  const { siteEntities, sites, requestRender } = ctx;
  const state = { capacityK: -1, jamStep: -1, jamOn: null };
  const api = { shown: {}, update: () => {}, describe: () => null };
  const codeColor = (() => {
    const extra = new Map();
    return (code) => {
      if (CODE_COLORS[code]) return CODE_COLORS[code];
      if (!extra.has(code)) extra.set(code, OTHER_CODE_COLORS[extra.size % OTHER_CODE_COLORS.length]);
      return extra.get(code);
    };
  })();
  const legend = $("legend");
  const info = $("layer-info");
  const legends = {};
  const infos = {};
  function refreshText() {
    const order = ["capacity", "admission", "jamming", "exposure"].filter((n) => api.shown[n]);
    legend.replaceChildren(...order.filter((n) => legends[n]).map((n) => legends[n]));
    info.textContent = order.filter((n) => infos[n]).map((n) => infos[n]).join("\n");
  }
  const updaters = [];

  // capacity: one primitive of hexagons per reconfiguration interval shown
  if (L.capacity) {
    const cap = L.capacity;
    let prim = null;
    const build = (k) => {
      if (prim) viewer.scene.primitives.remove(prim);
      const instances = cap.cells.map((cell, i) => {
        const v = cap.per_terminal_mbps[k][i];
        const b = cap.boundary ? cap.boundary[i] : null;
        const geometry = b ? new Cesium.PolygonGeometry({
          polygonHierarchy: new Cesium.PolygonHierarchy(Cesium.Cartesian3.fromDegreesArray(
            b.flatMap((_, j) => (j % 2 === 0 ? [b[j + 1], b[j]] : [])))),
          height: 3000, vertexFormat: Cesium.PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
        }) : new Cesium.EllipseGeometry({
          center: Cesium.Cartesian3.fromDegrees(cap.lon[i], cap.lat[i]), semiMajorAxis: 4000, semiMinorAxis: 4000,
          height: 3000, vertexFormat: Cesium.PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
        });
        return new Cesium.GeometryInstance({
          geometry, id: { leosimLayer: "capacity", cell: i },
          attributes: { color: Cesium.ColorGeometryInstanceAttribute.fromColor(speedColor(v, cap.max_mbps)) },
        });
      });
      prim = new Cesium.Primitive({
        geometryInstances: instances, asynchronous: false, show: api.shown.capacity,
        appearance: new Cesium.PerInstanceColorAppearance({ flat: true, translucent: true }),
      });
      viewer.scene.primitives.add(prim);
      state.capacityK = k;
      const iv = cap.intervals[k];
      infos.capacity = `capacity: ${cap.cells.length} cells, interval from ${iv.start_utc}`;
      refreshText();
    };
    const el = document.createElement("div");
    el.className = "legend-row";
    el.dataset.layer = "capacity";
    const bar = document.createElement("span");
    bar.className = "legend-bar";
    bar.style.background = `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((u) => speedColor(u, 1).withAlpha(1).toCssColorString()).join(", ")})`;
    const lo = document.createElement("span");
    lo.textContent = "0";
    const hi = document.createElement("span");
    hi.textContent = `${cap.max_mbps.toFixed(0)} Mbit/s per terminal`;
    el.append(lo, bar, hi);
    legends.capacity = el;
    updaters.push((t) => {
      let k = 0;
      cap.intervals.forEach((iv, j) => { if (iv.t_s <= t) k = j; });
      if (k !== state.capacityK && cap.cells.length) build(k);
      if (prim) prim.show = !!api.shown.capacity;
    });
  }

  // admission: terminals take their code's colour, and the code joins their label
  const admissionOf = new Map();
  if (L.admission) {
    for (const a of L.admission.terminals) if (a.site !== null && siteEntities[a.site]) admissionOf.set(a.site, a);
    const el = document.createElement("div");
    el.className = "legend-row";
    el.dataset.layer = "admission";
    for (const code of L.admission.codes) {
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = codeColor(code);
      const tx = document.createElement("span");
      tx.textContent = code;
      el.append(sw, tx);
    }
    legends.admission = el;
  }
  function codeAt(a, t) {
    return a.first_denied_s !== null && t >= a.first_denied_s ? a.first_denied_code : a.code;
  }
  let admissionDrawn = null;
  if (L.admission) {
    updaters.push((t) => {
      const on = !!api.shown.admission;
      const key = on ? [...admissionOf.values()].map((a) => codeAt(a, t)).join("/") : "off";
      if (key === admissionDrawn) return;
      admissionDrawn = key;
      for (const [site, a] of admissionOf) {
        const e = siteEntities[site];
        const code = codeAt(a, t);
        e.point.color = Cesium.Color.fromCssColorString(on ? codeColor(code) : e.leosimColor);
        if (e.label) e.label.text = on ? `${sites[site].name} [${code}]` : sites[site].name;
        e.leosimCode = on ? code : undefined;
      }
      const counts = {};
      for (const a of admissionOf.values()) { const c = codeAt(a, t); counts[c] = (counts[c] || 0) + 1; }
      infos.admission = `admission: ${Object.entries(counts).map(([c, n]) => `${n} ${c}`).join(", ")}`;
      refreshText();
      requestRender();
    });
  }

  // jamming: a circle per jammer (its denial radius alone), red while on
  const jamEntities = [];
  if (L.jamming) {
    for (const j of L.jamming.jammers) {
      const e = viewer.entities.add({
        name: j.name,
        position: Cesium.Cartesian3.fromDegrees(j.lon, j.lat, j.height_m),
        point: { pixelSize: 7, color: Cesium.Color.RED, outlineColor: Cesium.Color.BLACK, outlineWidth: 1 },
        ellipse: j.denial_radius_m > 0 ? {
          semiMajorAxis: j.denial_radius_m, semiMinorAxis: j.denial_radius_m, height: 2000,
          material: Cesium.Color.RED.withAlpha(0.25), outline: true, outlineColor: Cesium.Color.RED,
        } : undefined,
        label: {
          text: j.name, font: "12px sans-serif", fillColor: Cesium.Color.fromCssColorString("#ffb0b0"),
          outlineColor: Cesium.Color.BLACK, outlineWidth: 3, style: Cesium.LabelStyle.FILL_AND_OUTLINE,
          pixelOffset: new Cesium.Cartesian2(8, 26), horizontalOrigin: Cesium.HorizontalOrigin.LEFT,
        },
        show: false,
      });
      e.leosimLayer = "jamming";
      e.leosimJammer = j;
      jamEntities.push(e);
    }
    updaters.push((t) => {
      const on = !!api.shown.jamming;
      const steps = L.jamming.steps;
      let k = -1;
      if (steps) k = Math.min(Math.max(Math.round(t / ctx.stepS), 0), steps.t_s.length - 1);
      const actives = L.jamming.jammers.map((j) => !j.active_s.length || j.active_s.some(([a, b]) => t >= a && t < b));
      const key = `${on}/${k}/${actives.join(",")}`;
      if (key === state.jamKey) return;
      state.jamKey = key;
      jamEntities.forEach((e, i) => {
        const j = e.leosimJammer;
        e.show = on;
        e.leosimOn = actives[i];
        if (e.ellipse) e.ellipse.material = Cesium.Color.RED.withAlpha(actives[i] ? 0.3 : 0.06);
        e.label.text = `${j.name}: ${j.eirp_dbw} dBW, ${actives[i] ? "on" : "off"}` +
          (j.denial_radius_m > 0 ? `, denies GPS to ${(j.denial_radius_m / 1e3).toFixed(1)} km` : "");
      });
      let s = `jamming: ${L.jamming.jammers.length} jammer(s)`;
      if (k >= 0) {
        s += `; GPS denied at t = ${steps.t_s[k]} s: ${(100 * steps.denied_share_terminals[k]).toFixed(1)} % of terminals`;
        if (steps.area) s += `, ${(100 * steps.denied_share_area[k]).toFixed(2)} % of ${steps.area}`;
      }
      infos.jamming = s;
      refreshText();
      requestRender();
    });
  }

  // exposure: sensors, and each assessed terminal's median time to locate
  const expoEntities = [];
  if (L.exposure) {
    for (const s of L.exposure.sensors) {
      const e = viewer.entities.add({
        name: s.name,
        position: Cesium.Cartesian3.fromDegrees(s.lon, s.lat, s.height_m),
        point: { pixelSize: 6, color: Cesium.Color.fromCssColorString("#ff66ff"), outlineColor: Cesium.Color.BLACK, outlineWidth: 1 },
        show: false,
      });
      e.leosimLayer = "exposure";
      e.leosimSensor = s;
      expoEntities.push(e);
    }
    for (const tm of L.exposure.terminals) {
      if (tm.site === null || !sites[tm.site]) continue;
      const s = sites[tm.site];
      const text = tm.duty_cycles.length
        ? `time to locate: ${tm.duty_cycles.map((d) => `${fmtSeconds(d.median_s)} at ${(100 * d.duty_cycle).toFixed(0)} % duty`).join(", ")}`
        : "exposure: no results";
      const e = viewer.entities.add({
        position: new Cesium.Cartesian3(s.xyz[0], s.xyz[1], s.xyz[2]),
        label: {
          text, font: "11px sans-serif", fillColor: Cesium.Color.fromCssColorString("#ffb3ff"),
          outlineColor: Cesium.Color.BLACK, outlineWidth: 3, style: Cesium.LabelStyle.FILL_AND_OUTLINE,
          pixelOffset: new Cesium.Cartesian2(8, 10), horizontalOrigin: Cesium.HorizontalOrigin.LEFT,
        },
        show: false,
      });
      e.leosimLayer = "exposure";
      e.leosimExposure = tm;
      expoEntities.push(e);
    }
    infos.exposure = `exposure: ${L.exposure.sensors.length} sensors, ${L.exposure.terminals.length} terminals assessed (median time to locate by duty cycle)`;
    updaters.push(() => {
      const on = !!api.shown.exposure;
      if (state.expoOn === on) return;
      state.expoOn = on;
      for (const e of expoEntities) e.show = on;
      refreshText();
      requestRender();
    });
  }

  api.update = (t) => { for (const f of updaters) f(t); };
  // a short description of what is under the pointer, for the hover label
  api.describe = (picked) => {
    if (!Cesium.defined(picked)) return null;
    const id = picked.id;
    if (id && id.leosimLayer === "capacity" && L.capacity) {
      const c = L.capacity;
      const k = Math.max(state.capacityK, 0);
      const v = c.per_terminal_mbps[k][id.cell];
      return `cell ${c.cells[id.cell]}: ${v === null ? "-" : v.toFixed(1)} Mbit/s per terminal, ` +
        `${c.terminals[k][id.cell]} terminals, bottleneck ${c.bottleneck[k][id.cell] || "-"}`;
    }
    if (!(id instanceof Cesium.Entity)) return null;
    if (id.leosimJammer) {
      const j = id.leosimJammer;
      return `jammer ${j.name}: ${j.eirp_dbw} dBW at ${j.height_m} m, ${id.leosimOn ? "on" : "off"}`;
    }
    if (id.leosimExposure) return `${id.leosimExposure.terminal}: ${id.label.text.getValue()}`;
    if (id.leosimSensor) return `sensor ${id.leosimSensor.name} (${id.leosimSensor.kind}, ${id.leosimSensor.height_m} m)`;
    if (id.leosimEndpoint !== undefined) {
      const site = Number(id.id.slice(5));
      let s = id.name;
      const a = admissionOf.get(site);
      if (a && api.shown.admission) s += `: ${id.leosimCode} (${a.reason})`;
      return s;
    }
    return id.name || null;
  };
  return api;
}

async function main() {
  const scene = await getJSON("/api/scene");
  const nSats = scene.n_sats;
  const W = scene.window_s;
  const H = scene.knot_s;
  const M = Math.round(W / H); // knot intervals per window
  const islPairs = new Uint32Array(bytes(scene.isl).buffer, 0, scene.n_isl * 2);
  const sites = scene.sites;
  const siteXYZ = new Float64Array(sites.length * 3);
  sites.forEach((s, i) => siteXYZ.set(s.xyz, 3 * i));
  const isTerminal = Uint8Array.from(sites, (s) => (s.kind === "terminal" ? 1 : 0));

  $("title").textContent = `leosim: ${scene.title}`;
  $("subtitle").textContent =
    `${scene.constellation}${scene.constellation.includes(nSats.toLocaleString("en")) ? "" : ` (${nSats.toLocaleString("en")} satellites)`}, ` +
    `${scene.routing} routing, ` +
    `${scene.attachment} attachment; ${scene.n_steps.toLocaleString("en")} steps of ${scene.step_s} s from ${scene.start_utc}`;
  if (scene.summary && scene.summary.rtt_to_pop_median_ms != null) {
    $("summary").textContent = `run: median RTT to PoP ${scene.summary.rtt_to_pop_median_ms.toFixed(1)} ms, ` +
      `p95 ${scene.summary.rtt_to_pop_p95_ms.toFixed(1)} ms (${scene.source})`;
  } else {
    $("summary").textContent = scene.source;
  }

  // ---------------------------------------------------------------- the globe
  Cesium.Ion.defaultAccessToken = ""; // no Cesium ion: nothing leaves this machine
  const viewer = new Cesium.Viewer("globe", {
    baseLayer: Cesium.ImageryLayer.fromProviderAsync(
      Cesium.TileMapServiceImageryProvider.fromUrl(Cesium.buildModuleUrl("Assets/Textures/NaturalEarthII")),
    ),
    baseLayerPicker: false,
    geocoder: false,
    homeButton: false,
    sceneModePicker: false,
    navigationHelpButton: false,
    animation: false,
    timeline: false,
    fullscreenButton: false,
    infoBox: false,
    selectionIndicator: false,
    scene3DOnly: true,
    // render only when something changed: a paused view costs no CPU (requestRender()
    // below while playing, or when data, path or layers change)
    requestRenderMode: true,
    maximumRenderTimeChange: Infinity,
  });
  viewer.cesiumWidget.screenSpaceEventHandler.removeInputAction(Cesium.ScreenSpaceEventType.LEFT_DOUBLE_CLICK);
  // a data view, not a rendering of daylight: no sun, moon or ground haze (each is a
  // full-screen pass; without a GPU, in software, they cost more than the satellites)
  viewer.scene.sun.show = false;
  viewer.scene.moon.show = false;
  viewer.scene.globe.showGroundAtmosphere = false;
  // Without a GPU (SwiftShader, llvmpipe) the sky's scattering shader, multisampling and
  // the star box take most of each frame (measured with 10,361 satellites in headless
  // Chromium: 3.3 fps with them, 7.7 without; the satellites and links take the rest).
  // Real GPUs keep them.
  const renderer = rendererName(viewer.canvas);
  const software = /swiftshader|llvmpipe|softpipe|software/i.test(renderer);
  if (software) {
    viewer.scene.msaaSamples = 1;
    viewer.scene.skyBox.show = false;
    viewer.scene.skyAtmosphere.show = false;
    $("credits").textContent += " Software rendering (no GPU): no antialiasing, sky or stars.";
  }
  const R = scene.bounding_radius_m;
  const layers = {
    sats: new DynamicVertices(Cesium.PrimitiveType.POINTS, "#f2f6ff", nSats > 5000 ? 2.5 : 3.5, R),
    isl: new DynamicVertices(Cesium.PrimitiveType.LINES, "rgba(90,150,255,0.45)", 1, R),
    gsl: new DynamicVertices(Cesium.PrimitiveType.LINES, "rgba(80,230,120,0.55)", 1, R),
    gwl: new DynamicVertices(Cesium.PrimitiveType.LINES, "rgba(255,160,60,0.35)", 1, R),
  };
  for (const l of [layers.isl, layers.gsl, layers.gwl, layers.sats]) viewer.scene.primitives.add(l);

  const STYLE = {
    terminal: { size: 9, color: "#36d6ff" },
    server: { size: 8, color: "#c77dff" },
    gateway: { size: 5, color: "#ffa040" },
    pop: { size: 8, color: "#c77dff" },
  };
  const groundEntities = [];
  const labelEntities = [];
  const siteEntities = [];
  sites.forEach((s, i) => {
    const st = STYLE[s.kind];
    const e = viewer.entities.add({
      id: `site-${i}`,
      name: s.name,
      position: new Cesium.Cartesian3(s.xyz[0], s.xyz[1], s.xyz[2]),
      point: {
        pixelSize: st.size, color: Cesium.Color.fromCssColorString(st.color),
        outlineColor: Cesium.Color.BLACK, outlineWidth: 1,
      },
      label: s.kind === "terminal" ? {
        text: s.name, font: "12px sans-serif", fillColor: Cesium.Color.WHITE,
        outlineColor: Cesium.Color.BLACK, outlineWidth: 3, style: Cesium.LabelStyle.FILL_AND_OUTLINE,
        pixelOffset: new Cesium.Cartesian2(8, -8), horizontalOrigin: Cesium.HorizontalOrigin.LEFT,
      } : undefined,
    });
    e.leosimEndpoint = s.endpoint; // undefined for gateways and PoPs
    e.leosimColor = st.color;
    siteEntities.push(e);
    if (s.kind === "gateway" || s.kind === "pop") groundEntities.push(e);
    if (e.label) labelEntities.push(e);
  });

  // ------------------------------------------------------------ time and data
  const st = { t: 0, drawnT: null, playing: true, speed: 60, last: null };
  const satPos = new Float64Array(nSats * 3);
  const satOk = new Uint8Array(nSats);
  const bufSats = new Float32Array(nSats * 3);
  const bufIsl = new Float32Array(scene.n_isl * 6);
  let bufGsl = new Float32Array(6 * 1024);
  let bufGwl = new Float32Array(6 * 1024);
  let windows = new Map(); // k -> decoded window, or null while it is being fetched
  let generation = 0; // bumped when what a window holds changes (gateway links on/off)
  let drawnKey = null;
  let frames = 0;
  let firstDrawn = false;

  function showError(e) {
    console.error(e);
    $("status").textContent = String(e.message || e);
  }

  function wantWindow(k) {
    if (k < 0 || k >= scene.n_windows || windows.has(k)) return;
    windows.set(k, null);
    const gen = generation;
    const gw = $("layer-gwl").checked ? "&gateways=1" : "";
    getJSON(`/api/window?k=${k}${gw}`).then((w) => {
      if (gen !== generation) return;
      windows.set(k, decodeWindow(w, scene));
      drawnKey = null;
      for (const key of windows.keys()) if (windows.size > 4 && Math.abs(key - k) > 1) windows.delete(key);
    }).catch((e) => { windows.delete(k); showError(e); });
  }

  function windowIndex(t) {
    return Math.min(Math.max(Math.floor(t / W), 0), scene.n_windows - 1);
  }

  // Satellite positions at t into satPos/satOk; false while the window is not here yet.
  function interpolate(t) {
    const k = windowIndex(t);
    const w = windows.get(k);
    if (!w) return null;
    const s = (t - k * W) / H;
    const i = Math.min(Math.max(Math.floor(s), 0), M - 1);
    const u = s - i;
    const u2 = u * u;
    const u3 = u2 * u;
    const q = w.q;
    const w0 = 0.5 * q * (-u3 + 2 * u2 - u);
    const w1 = 0.5 * q * (3 * u3 - 5 * u2 + 2);
    const w2 = 0.5 * q * (-3 * u3 + 4 * u2 + u);
    const w3 = 0.5 * q * (u3 - u2);
    const stride = nSats * 3;
    const b0 = i * stride;
    const b1 = b0 + stride;
    const b2 = b1 + stride;
    const b3 = b2 + stride;
    const p = w.pos;
    for (let n = 0, o = 0; n < nSats; n++, o += 3) {
      if (p[b0 + o] === INVALID || p[b1 + o] === INVALID || p[b2 + o] === INVALID || p[b3 + o] === INVALID) {
        satOk[n] = 0;
        continue;
      }
      satOk[n] = 1;
      for (let c = 0; c < 3; c++) {
        satPos[o + c] = w0 * p[b0 + o + c] + w1 * p[b1 + o + c] + w2 * p[b2 + o + c] + w3 * p[b3 + o + c];
      }
    }
    // links are those of the nearest knot
    return { w, knot: Math.min(Math.max(Math.round(s), 0), M) + 1 };
  }

  function draw(t) {
    const at = interpolate(t);
    if (!at) return false;
    let n = 0;
    for (let s = 0; s < nSats; s++) {
      if (!satOk[s]) continue;
      bufSats[3 * n] = satPos[3 * s];
      bufSats[3 * n + 1] = satPos[3 * s + 1];
      bufSats[3 * n + 2] = satPos[3 * s + 2];
      n++;
    }
    layers.sats.set(bufSats, n);
    const bits = at.w.isl[at.knot];
    n = 0;
    for (let l = 0; l < scene.n_isl; l++) {
      if (!((bits[l >> 3] >> (l & 7)) & 1)) continue;
      const a = islPairs[2 * l];
      const b = islPairs[2 * l + 1];
      if (!satOk[a] || !satOk[b]) continue;
      bufIsl.set(satPos.subarray(3 * a, 3 * a + 3), 6 * n);
      bufIsl.set(satPos.subarray(3 * b, 3 * b + 3), 6 * n + 3);
      n++;
    }
    layers.isl.set(bufIsl, 2 * n);
    const g = at.w.gsl[at.knot];
    if (bufGsl.length < 3 * g.length) bufGsl = new Float32Array(3 * g.length);
    if (bufGwl.length < 3 * g.length) bufGwl = new Float32Array(3 * g.length);
    let nt = 0;
    let ng = 0;
    for (let j = 0; j < g.length; j += 2) {
      const site = g[j];
      const sat = g[j + 1];
      if (!satOk[sat]) continue;
      const buf = isTerminal[site] ? bufGsl : bufGwl;
      const o = 6 * (isTerminal[site] ? nt++ : ng++);
      buf.set(siteXYZ.subarray(3 * site, 3 * site + 3), o);
      buf.set(satPos.subarray(3 * sat, 3 * sat + 3), o + 3);
    }
    layers.gsl.set(bufGsl, 2 * nt);
    layers.gwl.set(bufGwl, 2 * ng);
    updatePathPositions();
    return true;
  }

  // ---------------------------------------------------------------- the path
  let path = null; // the last /api/path answer shown
  let pathInFlight = null;
  let pathCartesians = [];
  viewer.entities.add({
    id: "path",
    polyline: {
      positions: new Cesium.CallbackProperty(() => pathCartesians, false),
      width: 4,
      material: Cesium.Color.fromCssColorString("#ffd54a"),
      arcType: Cesium.ArcType.NONE,
    },
  });

  function updatePathPositions() {
    if (!path || !path.nodes.length) { pathCartesians = []; return; }
    pathCartesians = path.nodes.map((nd) => {
      // satellites follow their moving dots; the answer's own positions are for its step
      if (nd.sat !== null && satOk[nd.sat]) {
        return new Cesium.Cartesian3(satPos[3 * nd.sat], satPos[3 * nd.sat + 1], satPos[3 * nd.sat + 2]);
      }
      return new Cesium.Cartesian3(nd.xyz[0], nd.xyz[1], nd.xyz[2]);
    });
  }

  const srcSel = $("src");
  const dstSel = $("dst");
  for (const sel of [srcSel, dstSel]) {
    for (const ep of scene.endpoints) {
      const o = document.createElement("option");
      o.value = String(ep.index);
      o.textContent = ep.kind === "server" ? `${ep.name} (server)` : ep.name;
      sel.appendChild(o);
    }
  }
  srcSel.value = String(scene.default_pair[0]);
  dstSel.value = String(scene.default_pair[1]);

  function stepOf(t) {
    return Math.min(Math.max(Math.round(t / scene.step_s), 0), scene.n_steps - 1);
  }

  function wantPath() {
    const src = Number(srcSel.value);
    const dst = Number(dstSel.value);
    const rtt = $("rtt");
    if (src === dst) {
      path = null;
      rtt.dataset.state = "none";
      rtt.textContent = "pick two different endpoints";
      $("hops").replaceChildren();
      return;
    }
    const step = stepOf(st.t);
    const key = `${src}/${dst}/${step}`;
    if ((path && path.key === key) || pathInFlight) return;
    pathInFlight = key;
    getJSON(`/api/path?src=${src}&dst=${dst}&t=${step * scene.step_s}`)
      .then((p) => { p.key = key; showPath(p); })
      .catch((e) => { path = { key, nodes: [] }; showError(e); })
      .finally(() => { pathInFlight = null; });
  }

  function showPath(p) {
    path = p;
    const rtt = $("rtt");
    Object.assign(rtt.dataset, { src: p.src, dst: p.dst, step: p.step, tS: p.t_s, timeUtc: p.time_utc });
    if (p.rtt_ms === null) {
      rtt.dataset.state = "unreachable";
      rtt.dataset.rttMs = "";
      rtt.textContent = `no path at ${p.time_utc}`;
    } else {
      rtt.dataset.state = "ok";
      rtt.dataset.rttMs = String(p.rtt_ms);
      rtt.textContent = `RTT ${p.rtt_ms.toFixed(3)} ms, ${p.hops} links, ${Math.round(p.length_km).toLocaleString("en")} km`;
    }
    $("hops").replaceChildren(...p.nodes.map((nd) => {
      const li = document.createElement("li");
      li.textContent = `${nd.name} (${nd.kind})`;
      return li;
    }));
    updatePathPositions();
    viewer.scene.requestRender();
  }

  srcSel.addEventListener("change", wantPath);
  dstSel.addEventListener("change", wantPath);

  let clickNext = "src";
  const handler = new Cesium.ScreenSpaceEventHandler(viewer.scene.canvas);
  handler.setInputAction((click) => {
    const picked = viewer.scene.pick(click.position);
    const ep = Cesium.defined(picked) && picked.id ? picked.id.leosimEndpoint : undefined;
    if (ep === undefined) return;
    (clickNext === "src" ? srcSel : dstSel).value = String(ep);
    clickNext = clickNext === "src" ? "dst" : "src";
    wantPath();
  }, Cesium.ScreenSpaceEventType.LEFT_CLICK);

  // ----------------------------------------------------------- the controls
  const slider = $("time");
  slider.max = String(scene.duration_s);
  slider.step = String(scene.step_s);
  const playBtn = $("play");
  function setPlaying(on) {
    st.playing = on;
    playBtn.textContent = on ? "Pause" : "Play";
  }
  playBtn.addEventListener("click", () => setPlaying(!st.playing));
  document.addEventListener("keydown", (e) => {
    if (e.code === "Space" && e.target === document.body) { e.preventDefault(); setPlaying(!st.playing); }
  });
  $("speed").addEventListener("change", (e) => { st.speed = Number(e.target.value); });
  let dragging = false;
  slider.addEventListener("pointerdown", () => { dragging = true; });
  window.addEventListener("pointerup", () => { dragging = false; });
  slider.addEventListener("input", () => { st.t = Number(slider.value); drawnKey = null; });
  const toggles = { "layer-sats": "sats", "layer-isl": "isl", "layer-gsl": "gsl", "layer-gwl": "gwl" };
  for (const [id, name] of Object.entries(toggles)) {
    $(id).addEventListener("change", (e) => { layers[name].show = e.target.checked; viewer.scene.requestRender(); });
  }
  layers.gwl.show = $("layer-gwl").checked;
  $("layer-gwl").addEventListener("change", () => {
    // gateway links come with the windows: fetch them again with or without
    generation++;
    windows = new Map();
    drawnKey = null;
  });
  $("layer-ground").addEventListener("change", (e) => {
    for (const g of groundEntities) g.show = e.target.checked;
    viewer.scene.requestRender();
  });
  // the scenario's own layers, fetched once (never holding up the globe)
  let layerApi = null;
  const layerToggles = ["capacity", "admission", "jamming", "exposure"];
  if (scene.layers && scene.layers.length) {
    getJSON("/api/layers").then((L) => {
      layerApi = setupLayers(viewer, L, {
        siteEntities, sites, stepS: scene.step_s, requestRender: () => viewer.scene.requestRender(),
      });
      layerApi.data = L;
      for (const name of layerToggles) {
        const box = $(`layer-${name}`);
        if (!L.layers.includes(name)) continue;
        box.parentElement.hidden = false;
        layerApi.shown[name] = box.checked;
        box.addEventListener("change", () => {
          layerApi.shown[name] = box.checked;
          layerApi.update(st.t);
          viewer.scene.requestRender();
        });
      }
      $("scenario-layers").hidden = false;
      const errors = Object.values(L.errors || {});
      if (errors.length) $("status").textContent = errors.join("; ");
      layerApi.update(st.t);
      document.body.dataset.layers = L.layers.join(" ");
      viewer.scene.requestRender();
    }).catch(showError);
  }
  const hover = $("hover");
  let lastHover = 0;
  handler.setInputAction((move) => {
    const now = performance.now();
    if (now - lastHover < 80) return;
    lastHover = now;
    const picked = viewer.scene.pick(move.endPosition);
    let text = null;
    if (layerApi) text = layerApi.describe(picked);
    else if (Cesium.defined(picked) && picked.id instanceof Cesium.Entity) text = picked.id.name || null;
    if (!text) { hover.hidden = true; return; }
    hover.textContent = text;
    hover.style.left = `${move.endPosition.x + 14}px`;
    hover.style.top = `${move.endPosition.y + 14}px`;
    hover.hidden = false;
  }, Cesium.ScreenSpaceEventType.MOUSE_MOVE);
  $("layer-labels").addEventListener("change", (e) => {
    for (const g of labelEntities) g.label.show = e.target.checked;
    viewer.scene.requestRender();
  });

  const clock = $("clock");
  function showClock(t) {
    const iso = new Date(scene.start_unix_ms + t * 1000).toISOString().replace(".000Z", "Z");
    clock.textContent = `${iso}  (t = ${t.toFixed(0)} s)`;
  }

  viewer.scene.preUpdate.addEventListener(() => {
    const now = performance.now();
    if (st.playing && st.last !== null) {
      st.t += ((now - st.last) / 1000) * st.speed;
      if (st.t > scene.duration_s) st.t %= scene.duration_s;
    }
    st.last = now;
    const k = windowIndex(st.t);
    wantWindow(k);
    if ((st.t - k * W) / W > 0.5) wantWindow(k + 1 < scene.n_windows ? k + 1 : 0);
    const key = `${st.t}/${generation}`;
    if (key !== drawnKey && draw(st.t)) {
      drawnKey = key;
      st.drawnT = st.t;
      viewer.scene.requestRender();
      if (!firstDrawn) {
        firstDrawn = true;
        document.body.dataset.ready = "1";
      }
    }
    if (layerApi) layerApi.update(st.t);
    if (!dragging) slider.value = String(st.t);
    showClock(st.t);
    wantPath();
  });
  viewer.scene.postRender.addEventListener(() => { frames++; });

  const c0 = sites[scene.default_pair[0]] || sites[0];
  viewer.camera.setView({ destination: Cesium.Cartesian3.fromDegrees(c0 ? c0.lon : 0, c0 ? c0.lat * 0.6 : 20, 2.2e7) });

  // for tests and scripts: read-only views of the state, and the two controls they drive
  window.leosimViewer = {
    viewer,
    scene,
    get t() { return st.t; },
    get drawnT() { return st.drawnT; }, // the time the satellites on screen are at
    get playing() { return st.playing; },
    frames: () => frames,
    renderer,
    software,
    satellitePosition: (i) => (satOk[i] ? [satPos[3 * i], satPos[3 * i + 1], satPos[3 * i + 2]] : null),
    counts: () => ({ sats: layers.sats.count, isl: layers.isl.count / 2, gsl: layers.gsl.count / 2, gwl: layers.gwl.count / 2 }),
    path: () => path,
    layers: () => layerApi, // null until /api/layers is here (or when the scenario has none)
  };
}

main().catch((e) => {
  console.error(e);
  const s = document.getElementById("status");
  if (s) s.textContent = `the viewer could not start: ${e.message || e}`;
});
