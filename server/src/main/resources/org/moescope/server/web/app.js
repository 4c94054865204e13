// moescope explorer: base vs steered generations with per-token routing, on the server's own API.
'use strict';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const state = { model: null, runs: { base: null, steered: null }, selected: null };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function expertColour(expert, count) {
  const hue = (expert * 137.508) % 360;
  const light = 38 + (expert % 3) * 12;
  return `hsl(${hue.toFixed(1)}, 65%, ${light}%)`;
}

function weightColour(w) {
  // white to deep blue
  const t = Math.max(0, Math.min(1, w));
  const r = Math.round(255 - t * 207), g = Math.round(255 - t * 169), b = Math.round(255 - t * 44);
  return `rgb(${r},${g},${b})`;
}

// With --api-key, every call needs the key: asked for once, kept in this browser's storage.
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  const key = localStorage.getItem('moescope-api-key');
  if (key) headers.Authorization = 'Bearer ' + key;
  let res = await fetch(path, Object.assign({}, options, { headers }));
  if (res.status === 401) {
    const entered = window.prompt('This server needs an API key:');
    if (entered) {
      localStorage.setItem('moescope-api-key', entered);
      headers.Authorization = 'Bearer ' + entered;
      res = await fetch(path, Object.assign({}, options, { headers }));
    }
  }
  return res;
}

// ---------------------------------------------------------------- model and presets

async function loadModel() {
  const res = await api('api/model');
  const m = await res.json();
  state.model = m;
  const moe = m.experts ? `${m.moe_layers.length} MoE layers × ${m.experts} experts, top-${m.top_k}` : 'dense (no experts)';
  $('model-info').textContent = `${m.id} · ${m.architecture} · ${m.layers} layers · ${moe} · context ${m.context}` + (m.traces ? ' · trace store attached' : '');
  const preset = $('profile-preset');
  for (const name of m.profiles) {
    const o = document.createElement('option');
    o.value = name;
    o.textContent = name;
    preset.appendChild(o);
  }
}

async function choosePreset() {
  const name = $('profile-preset').value;
  $('profile-error').textContent = '';
  if (!name) { $('profile-json').value = ''; return; }
  const res = await api('api/profile?name=' + encodeURIComponent(name));
  const body = await res.json();
  if (!res.ok) { $('profile-error').textContent = body.error.message; return; }
  $('profile-json').value = JSON.stringify(body, null, 2);
}

// "3:16,17; 4:11" or "all:5" → [{layers, experts}]
function parseRules(text, withFactor) {
  const rules = [];
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const m = withFactor ? part.match(/^(all|\d+)\s*:\s*([\d,\s]+)=\s*([-\d.eE]+)$/) : part.match(/^(all|\d+)\s*:\s*([\d,\s]+)$/);
    if (!m) throw new Error(`cannot read '${part}': write layer:expert,expert${withFactor ? '=factor' : ''}`);
    const rule = { layers: m[1] === 'all' ? 'all' : [Number(m[1])], experts: m[2].split(',').map((s) => s.trim()).filter(Boolean).map(Number) };
    if (withFactor) rule.factor = Number(m[3]);
    rules.push(rule);
  }
  return rules;
}

function applyQuick() {
  $('profile-error').textContent = '';
  try {
    let profile = {};
    const current = $('profile-json').value.trim();
    if (current) profile = JSON.parse(current);
    const experts = profile.experts || {};
    const disable = parseRules($('disable').value, false);
    const force = parseRules($('force').value, false);
    const scale = parseRules($('scale').value, true);
    if (disable.length) experts.disable = disable;
    if (force.length) experts.force = force;
    if (scale.length) experts.scale = scale;
    if (Object.keys(experts).length) profile.experts = experts;
    const k = $('top-k').value;
    if (k) profile.router = Object.assign(profile.router || {}, { top_k: Number(k) });
    $('profile-json').value = JSON.stringify(profile, null, 2);
  } catch (e) {
    $('profile-error').textContent = e.message;
  }
}

// ---------------------------------------------------------------- generation

function requestBody(profile) {
  const prompt = $('prompt').value;
  const body = {
    model: state.model ? state.model.id : 'moescope',
    max_tokens: Number($('max-tokens').value) || 48,
    temperature: Number($('temperature').value),
    seed: Number($('seed').value),
    stream: true,
    moescope: { return_routing: true },
  };
  if (profile) body.moescope.profile = profile;
  if ($('chat').checked) body.messages = [{ role: 'user', content: prompt }];
  else body.prompt = prompt;
  return body;
}

async function generate(side, profile) {
  const out = $(side + '-output');
  out.textContent = '';
  out.classList.remove('error');
  const chat = $('chat').checked;
  const res = await api(chat ? 'v1/chat/completions' : 'v1/completions', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(requestBody(profile)),
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({ error: { message: res.statusText } }));
    throw new Error(`${side}: ${body.error.message}` + (body.error.param ? ` (${body.error.param})` : ''));
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '', routing = null, finish = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!event.startsWith('data: ')) continue;
      const data = event.slice(6);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      const choice = chunk.choices && chunk.choices[0];
      if (choice) {
        out.textContent += chat ? (choice.delta.content || '') : (choice.text || '');
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (chunk.moescope) routing = chunk.moescope.routing;
    }
  }
  return { text: out.textContent, routing: routing || [], finish };
}

async function run() {
  $('profile-error').textContent = '';
  let profile = null;
  const text = $('profile-json').value.trim();
  if (text) {
    try { profile = JSON.parse(text); } catch (e) { $('profile-error').textContent = 'profile JSON: ' + e.message; return; }
  }
  $('run').disabled = true;
  $('status').textContent = 'generating…';
  const started = performance.now();
  const results = await Promise.allSettled([generate('base', null), generate('steered', profile)]);
  const errors = [];
  ['base', 'steered'].forEach((side, i) => {
    const r = results[i];
    if (r.status === 'fulfilled') {
      state.runs[side] = r.value;
      drawHeatmap(side);
    } else {
      state.runs[side] = null;
      $(side + '-heatmap').replaceChildren();
      errors.push(r.reason.message);
    }
  });
  $('profile-error').textContent = errors.join('\n');
  drawLoad();
  $('status').textContent = errors.length ? 'failed' : `done in ${((performance.now() - started) / 1000).toFixed(1)} s`;
  $('run').disabled = false;
}

// ---------------------------------------------------------------- heatmap: tokens × layers

function drawHeatmap(side) {
  const box = $(side + '-heatmap');
  box.replaceChildren();
  const run = state.runs[side];
  if (!run || !run.routing.length) {
    box.textContent = 'no routing (the model has no experts, or nothing was generated)';
    return;
  }
  const layers = state.model.moe_layers;
  const mode = $('color-mode').value;
  const cell = 14, left = 46, top = 64;
  const width = left + run.routing.length * cell + 4, height = top + layers.length * cell + 4;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${side} routing heatmap`, 'data-tokens': run.routing.length });
  layers.forEach((layer, row) => {
    const label = el('text', { x: left - 4, y: top + row * cell + cell * 0.75, 'text-anchor': 'end' }, svg);
    label.textContent = 'L' + layer;
  });
  run.routing.forEach((token, col) => {
    const x = left + col * cell;
    const t = el('text', { transform: `translate(${x + cell * 0.7},${top - 4}) rotate(-60)` }, svg);
    t.textContent = JSON.stringify(token.token).slice(1, -1).slice(0, 10);
    const byLayer = new Map(token.layers.map((l) => [l.layer, l]));
    layers.forEach((layer, row) => {
      const l = byLayer.get(layer);
      if (!l || !l.experts.length) return;
      const fill = mode === 'weight' ? weightColour(l.weights[0]) : expertColour(l.experts[0], state.model.experts);
      const r = el('rect', { class: 'cell', x, y: top + row * cell, width: cell, height: cell, fill,
        'data-layer': layer, 'data-expert': l.experts[0], 'data-token': col }, svg);
      const detail = l.experts.map((e, i) => `expert ${e}: ${l.weights[i].toFixed(3)}`).join('\n');
      r.dataset.tip = `token ${col} ${JSON.stringify(token.token)} · layer ${layer}\n${detail}`;
      el('title', {}, r).textContent = r.dataset.tip;
      r.addEventListener('mousemove', (ev) => showTip(ev, r.dataset.tip));
      r.addEventListener('mouseleave', hideTip);
      r.addEventListener('click', () => selectExpert(layer, l.experts[0]));
    });
  });
  box.appendChild(svg);
}

function showTip(ev, text) {
  const tip = $('tooltip');
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = ev.clientX + 12 + 'px';
  tip.style.top = ev.clientY + 12 + 'px';
}

function hideTip() { $('tooltip').hidden = true; }

// ---------------------------------------------------------------- expert load per layer

function drawLoad() {
  const box = $('load-chart');
  box.replaceChildren();
  const m = state.model;
  if (!m.experts) { box.textContent = 'dense model: no experts'; return; }
  const sides = ['base', 'steered'].filter((s) => state.runs[s]);
  const cell = Math.max(6, Math.min(14, Math.floor(520 / m.experts))), left = 46, top = 18, gap = 12;
  const rows = m.moe_layers.length;
  const width = left + m.experts * cell + 10, blockHeight = rows * cell;
  const svg = el('svg', { width, height: top + sides.length * (blockHeight + gap + 16), role: 'img', 'aria-label': 'expert load per layer' });
  sides.forEach((side, s) => {
    const counts = m.moe_layers.map(() => new Array(m.experts).fill(0));
    for (const token of state.runs[side].routing) {
      for (const l of token.layers) {
        const row = m.moe_layers.indexOf(l.layer);
        if (row >= 0) for (const e of l.experts) counts[row][e]++;
      }
    }
    const max = Math.max(1, ...counts.flat());
    const y0 = top + s * (blockHeight + gap + 16);
    el('text', { x: left, y: y0 - 4 }, svg).textContent = `${side}: tokens per expert (darker = more; max ${max})`;
    counts.forEach((row, r) => {
      el('text', { x: left - 4, y: y0 + r * cell + cell * 0.8, 'text-anchor': 'end' }, svg).textContent = 'L' + m.moe_layers[r];
      row.forEach((c, e) => {
        const rect = el('rect', { x: left + e * cell, y: y0 + r * cell, width: cell - 1, height: cell - 1, fill: weightColour(c / max), class: 'load' }, svg);
        el('title', {}, rect).textContent = `layer ${m.moe_layers[r]}, expert ${e}: ${c} tokens`;
        rect.addEventListener('click', () => selectExpert(m.moe_layers[r], e));
      });
    });
  });
  box.appendChild(svg);
}

// ---------------------------------------------------------------- expert view

async function selectExpert(layer, expert) {
  state.selected = { layer, expert };
  document.querySelectorAll('rect.cell.selected').forEach((r) => r.classList.remove('selected'));
  document.querySelectorAll(`rect.cell[data-layer="${layer}"][data-expert="${expert}"]`).forEach((r) => r.classList.add('selected'));
  const view = $('expert-view');
  let rows, source;
  if (state.model.traces) {
    const res = await api(`api/expert?layer=${layer}&expert=${expert}`);
    const body = await res.json();
    rows = body.tokens.map((t) => ({ piece: t.piece, count: t.count, weight: t.mean_weight }));
    source = 'from the trace store';
  } else {
    const tally = new Map();
    for (const side of ['base', 'steered']) {
      const run = state.runs[side];
      if (!run) continue;
      for (const token of run.routing) {
        for (const l of token.layers) {
          const i = l.layer === layer ? l.experts.indexOf(expert) : -1;
          if (i < 0) continue;
          const t = tally.get(token.token) || { piece: token.token, count: 0, weightSum: 0 };
          t.count++;
          t.weightSum += l.weights[i];
          tally.set(token.token, t);
        }
      }
    }
    rows = [...tally.values()].map((t) => ({ piece: t.piece, count: t.count, weight: t.weightSum / t.count }))
      .sort((a, b) => b.count - a.count || b.weight - a.weight).slice(0, 40);
    source = 'from these generations (start the server with --traces for a whole data set)';
  }
  $('expert-source').textContent = `layer ${layer}, expert ${expert} — ${source}`;
  const table = document.createElement('table');
  table.id = 'expert-tokens';
  table.innerHTML = '<thead><tr><th>token</th><th>count</th><th>mean weight</th></tr></thead>';
  const body = document.createElement('tbody');
  for (const r of rows) {
    const tr = document.createElement('tr');
    const cells = [JSON.stringify(r.piece), String(r.count), r.weight.toFixed(3)];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = c;
      if (i > 0) td.className = 'num';
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  table.appendChild(body);
  view.replaceChildren(rows.length ? table : document.createTextNode('this expert chose no tokens here'));
}

// ---------------------------------------------------------------- wiring

$('run').addEventListener('click', run);
$('apply-quick').addEventListener('click', applyQuick);
$('profile-preset').addEventListener('change', choosePreset);
$('color-mode').addEventListener('change', () => { drawHeatmap('base'); drawHeatmap('steered'); });
$('prompt').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(); });
loadModel().catch((e) => { $('model-info').textContent = 'cannot reach the server: ' + e.message; });
