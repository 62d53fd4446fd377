/* The live observer page (served by actors/control/observer/hub.ts; plain browser JavaScript, no build step, no CDN).
 * It listens to GET /events (server-sent events: one snapshot every ~500 ms) and draws the supervision tree, the
 * actor table, two charts (mailbox depth and throughput per actor, last 60 s, on <canvas>), the chain head, peers,
 * the supervisor events and each Brain's metagraph. `window.observer` exposes what is drawn (tests read it). */
/* global window, document, EventSource, Node */
'use strict'

const WINDOW = 120 // samples kept per actor (~60 s at 500 ms)
const PALETTE = ['#6cb6ff', '#f0883e', '#5fbf77', '#e06c6c', '#c297ff', '#e0b44c', '#56d4dd', '#ff7eb6', '#a5d6a7', '#b0bec5']

const state = {
  samples: 0,
  /** address → [{ t, depth, rate }] */
  series: {},
  /** address → { t, processed } of the previous sample */
  prev: {},
  last: null,
  colors: {},
  errors: 0,
}
window.observer = state

function el(tag, attrs, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v
    else e.setAttribute(k, v)
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)))
  return e
}

function colorOf(address) {
  if (!state.colors[address]) state.colors[address] = PALETTE[Object.keys(state.colors).length % PALETTE.length]
  return state.colors[address]
}

function record(snap) {
  state.samples += 1
  state.last = snap
  const seen = new Set()
  for (const row of snap.mailboxes) {
    seen.add(row.address)
    const prev = state.prev[row.address]
    let rate = 0
    if (prev && snap.at > prev.t) rate = (Math.max(0, row.processed - prev.processed) * 1000) / (snap.at - prev.t)
    state.prev[row.address] = { t: snap.at, processed: row.processed }
    const s = state.series[row.address] || (state.series[row.address] = [])
    s.push({ t: snap.at, depth: row.mailboxDepth, rate })
    if (s.length > WINDOW) s.shift()
  }
  for (const a of Object.keys(state.series)) if (!seen.has(a)) delete state.series[a]
}

function drawChart(canvas, field, unit) {
  const dpr = window.devicePixelRatio || 1
  const w = canvas.clientWidth || 640
  const h = canvas.clientHeight || 170
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr)
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr)
  const g = canvas.getContext('2d')
  g.setTransform(dpr, 0, 0, dpr, 0, 0)
  g.clearRect(0, 0, w, h)
  const now = state.last ? state.last.at : 0
  const span = 60_000
  let max = 1
  for (const s of Object.values(state.series)) for (const p of s) max = Math.max(max, p[field])
  max = niceCeil(max)
  const left = 40
  const bottom = h - 16
  const top = 8
  const x = (t) => left + ((t - (now - span)) / span) * (w - left - 8)
  const y = (v) => bottom - (v / max) * (bottom - top)
  // grid and labels
  g.strokeStyle = '#262d3a'
  g.fillStyle = '#7b8596'
  g.font = '10px system-ui, sans-serif'
  g.lineWidth = 1
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    g.beginPath()
    g.moveTo(left, y(v))
    g.lineTo(w - 8, y(v))
    g.stroke()
    g.fillText(fmt(v), 4, y(v) + 3)
  }
  for (let s = 0; s <= 60; s += 15) g.fillText(`-${60 - s}s`, x(now - span + s * 1000) - 8, h - 3)
  g.fillText(unit, left + 4, top + 8)
  // one line per actor
  for (const [address, s] of Object.entries(state.series)) {
    if (s.every((p) => p[field] === 0)) continue
    g.strokeStyle = colorOf(address)
    g.lineWidth = 1.5
    g.beginPath()
    s.forEach((p, i) => (i === 0 ? g.moveTo(x(p.t), y(p[field])) : g.lineTo(x(p.t), y(p[field]))))
    g.stroke()
  }
}

function niceCeil(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)))
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p
  return 10 * p
}
function fmt(v) {
  return v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toFixed(2)))
}

function renderLegend() {
  const legend = document.getElementById('legend')
  const active = Object.entries(state.series).filter(([, s]) => s.some((p) => p.depth > 0 || p.rate > 0))
  legend.replaceChildren(
    ...(active.length === 0
      ? [el('span', { class: 'na' }, 'no traffic in the last 60 s')]
      : active.map(([a]) => {
          const i = el('i')
          i.style.background = colorOf(a)
          return el('span', {}, i, a)
        })),
  )
}

function renderTree(node, statsByAddress) {
  const row = statsByAddress[node.address]
  const li = el('li', { 'data-address': node.address }, node.kind === 'supervisor' ? `▾ ${node.id}` : `• ${node.id}`)
  if (row) li.append(el('span', { class: `state ${row.state}` }, row.state), ` ${row.mailboxDepth}/${row.mailboxCapacity}`)
  else if (node.detail) li.append(el('span', { class: 'state' }, node.detail))
  if (node.children && node.children.length) li.append(el('ul', {}, ...node.children.map((c) => renderTree(c, statsByAddress))))
  return li
}

function renderActors(snap) {
  const tbody = document.querySelector('#actors tbody')
  const rows = snap.mailboxes.map((r) => {
    const s = state.series[r.address] || []
    const rate = s.length ? s[s.length - 1].rate : 0
    const tr = el(
      'tr',
      { 'data-address': r.address, class: `${r.restarts > 0 ? 'restarted' : ''} ${r.errors > 0 ? 'failing' : ''}`.trim() },
      el('td', {}, r.address),
      el('td', {}, r.role),
      el('td', {}, r.placement),
      el('td', { class: `state ${r.state}` }, r.state),
      el('td', { class: 'num depth' }, `${r.mailboxDepth}/${r.mailboxCapacity}`),
      el('td', { class: 'num rate' }, fmt(rate)),
      el('td', { class: 'num processed' }, r.processed),
      el('td', { class: 'num errors' }, r.errors),
      el('td', { class: 'num restarts' }, r.restarts),
      el('td', { class: 'decision' }, r.decision ? `${r.decision}${r.decidedBy ? ` by ${r.decidedBy}` : ''}` : '—'),
      el('td', { class: 'exit' }, r.lastExit || '—'),
      el('td', { class: 'recent' }, r.recent.slice(-5).map((m) => `${m.tag} ${Math.max(0, Math.round((snap.at - m.at) / 1000))}s`).join(', ')),
    )
    return tr
  })
  tbody.replaceChildren(...rows)
}

function renderKv(target, section, fields) {
  const dl = document.getElementById(target)
  if (!section.ok) {
    dl.replaceChildren(el('dd', { class: 'na' }, section.reason))
    return
  }
  const v = section.value
  const keys = fields || Object.keys(v).filter((k) => k !== '_tag')
  dl.replaceChildren(...keys.flatMap((k) => [el('dt', {}, k), el('dd', {}, String(v[k]))]))
}

function renderEvents(snap) {
  const ol = document.getElementById('events')
  const describe = (e) => {
    switch (e.type) {
      case 'child_started': return `started   ${e.child}`
      case 'child_stopped': return `stopped   ${e.child}`
      case 'child_exited': return `exited    ${e.child}: ${e.reason}`
      case 'child_restarted': return `restarted ${e.child} (${e.strategy})`
      case 'child_removed': return `removed   ${e.child}`
      case 'gave_up': return `GAVE UP   ${e.supervisor}: more than ${e.intensity} restarts in ${e.periodMs} ms`
      case 'start_failed': return `FAILED    ${e.child}: ${e.reason}`
      default: return JSON.stringify(e)
    }
  }
  ol.replaceChildren(...snap.events.slice().reverse().map((e) => el('li', { class: e.type }, describe(e))))
}

function renderMetagraphs(section) {
  const box = document.getElementById('metagraphs')
  if (!section.ok) {
    box.replaceChildren(el('p', { class: 'na' }, section.reason))
    return
  }
  if (section.value.length === 0) {
    box.replaceChildren(el('p', { class: 'na' }, 'no active Brain'))
    return
  }
  box.replaceChildren(
    ...section.value.map((m) => {
      const b = m.brain
      const head = el('p', {}, `Brain ${b.id} ${b.name ? `“${b.name}”` : '(unnamed)'} (${b.method}) · owner ${b.owner.slice(0, 14)}… · stake ${b.stake} · ${b.validators} validators, ${b.miners} miners · height ${m.height}`)
      const table = el(
        'table',
        {},
        el('thead', {}, el('tr', {}, ...['uid', 'role', 'compute key', 'stake', 'score', 'permit', 'weights'].map((h) => el('th', {}, h)))),
        el(
          'tbody',
          {},
          ...m.rows.map((r) =>
            el('tr', {}, el('td', {}, r.uid), el('td', {}, r.role), el('td', {}, `${r.computeKey.slice(0, 16)}…`), el('td', { class: 'num' }, r.stake), el('td', { class: 'num' }, r.score), el('td', {}, r.validatorPermit ? 'yes' : 'no'), el('td', { class: 'num' }, r.weights)),
          ),
        ),
      )
      return el('div', { class: 'metagraph', 'data-brain': b.id }, head, m.rows.length ? table : el('p', { class: 'na' }, 'no participants registered'))
    }),
  )
}

function render(snap) {
  const byAddress = Object.fromEntries(snap.mailboxes.map((r) => [r.address, r]))
  document.getElementById('tree').replaceChildren(renderTree(snap.tree, byAddress))
  renderActors(snap)
  drawChart(document.getElementById('depth-chart'), 'depth', 'queued')
  drawChart(document.getElementById('rate-chart'), 'rate', 'msg/s')
  renderLegend()
  renderKv('chain', snap.chain, snap.chain.ok ? ['height', 'hash', 'stateRoot', 'chainId', 'blockTimeMs', 'mempool', 'baseFee', 'byteFee'] : undefined)
  renderKv('peers', snap.peers)
  renderEvents(snap)
  renderMetagraphs(snap.metagraphs)
  document.getElementById('meta').textContent = `pid ${snap.pid} · ${snap.mailboxes.length} actors · ${new Date(snap.at).toLocaleTimeString()}`
  document.body.dataset.samples = String(state.samples)
}

function connect() {
  const conn = document.getElementById('conn')
  const source = new EventSource('/events')
  source.onopen = () => {
    conn.textContent = 'live'
    conn.className = 'badge on'
  }
  source.onmessage = (ev) => {
    const snap = JSON.parse(ev.data)
    record(snap)
    render(snap)
  }
  source.addEventListener('failure', (ev) => {
    state.errors += 1
    conn.textContent = `node: ${JSON.parse(ev.data).reason}`
    conn.className = 'badge off'
  })
  source.onerror = () => {
    // CLOSED: the node refused the stream (401: a restarted node has a new token) — EventSource does not retry then.
    conn.textContent = source.readyState === EventSource.CLOSED ? 'refused: open the address `based inspect observer` prints' : 'disconnected (retrying)'
    conn.className = 'badge off'
  }
}

connect()
