// Live dictation: microphone → AudioWorklet → WebSocket /v1/listen, and the
// server's events → transcript and items on the page.
const $ = (id) => document.getElementById(id);
const recordBtn = $("record");
const statusEl = $("status");
const finalsEl = $("finals");
const partialEl = $("partial");
const itemsEl = $("items");

let ws = null;
let audio = null; // {ctx, stream, node}

function setStatus(text) {
  statusEl.textContent = text;
}

function concept(c) {
  if (!c) return { title: "", code: "" };
  let title = c.text || "";
  let code = "";
  for (const cd of c.coding || []) {
    if (!title && cd.display) title = cd.display;
    if (!code && cd.code) {
      const sys = (cd.system || "").includes("icd-10-cm") ? "ICD-10-CM" : (cd.system || "").includes("rxnorm") ? "RxNorm" : cd.system || "";
      code = `${sys} ${cd.code}`;
    }
  }
  return { title, code };
}

// summarize mirrors the server's item view: what a clinician needs to see.
function summarize(ev) {
  const r = ev.resource || {};
  let label = r.resourceType || ev.kind, c = { title: "", code: "" }, detail = "";
  switch (r.resourceType) {
    case "MedicationStatement":
      label = "Medication";
      c = concept(r.medicationCodeableConcept);
      detail = (r.dosage || []).map((d) => d.text).filter(Boolean).join("; ");
      if (r.status && r.status !== "active") detail = [detail, r.status].filter(Boolean).join("; ");
      break;
    case "Condition": {
      label = "Condition";
      c = concept(r.code);
      const v = r.verificationStatus && r.verificationStatus.coding && r.verificationStatus.coding[0].code;
      const cs = r.clinicalStatus && r.clinicalStatus.coding && r.clinicalStatus.coding[0].code;
      detail = [v !== "confirmed" ? v : "", cs !== "active" ? cs : ""].filter(Boolean).join(", ");
      break;
    }
    case "AllergyIntolerance":
      label = "Allergy";
      c = concept(r.code);
      break;
    case "FamilyMemberHistory":
      label = "Family history";
      c = concept(r.condition && r.condition[0] && r.condition[0].code);
      detail = concept(r.relationship).title;
      break;
  }
  const problems = [];
  let severity = "ok";
  for (const is of (ev.validation && ev.validation.issue) || []) {
    if (is.severity === "error" || is.severity === "fatal") severity = "error";
    else if (is.severity === "warning" && severity === "ok") severity = "warning";
    else continue;
    const msg = (is.details && is.details.text) || is.diagnostics || "";
    problems.push(is.expression && is.expression.length ? `${msg} (${is.expression[0]})` : msg);
  }
  return { label, title: c.title || "(unnamed)", code: c.code, detail, problems, severity };
}

function itemElement(id) {
  let li = itemsEl.querySelector(`li[data-item-id="${CSS.escape(id)}"]`);
  if (!li) {
    li = document.createElement("li");
    li.dataset.itemId = id;
    li.dataset.testid = "item";
    itemsEl.appendChild(li);
  }
  return li;
}

function add(parent, tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  el.textContent = text;
  parent.appendChild(el);
  return el;
}

function showItem(ev) {
  const s = summarize(ev);
  const li = itemElement(ev.item_id);
  li.className = `item ${s.severity}`;
  li.dataset.kind = ev.kind;
  li.replaceChildren();
  add(li, "span", "kind", s.label);
  add(li, "strong", "", s.title);
  if (s.code) add(li, "code", "", s.code);
  if (s.detail) add(li, "span", "detail", s.detail);
  add(li, "span", "source", ev.source || "");
  for (const p of s.problems) add(li, "div", "problem", p);
}

function showPartialItem(ev) {
  const li = itemElement(ev.item_id);
  if (!li.classList.contains("pending") && li.childElementCount > 0) return;
  li.className = "item pending";
  li.replaceChildren();
  const f = ev.fields || {};
  add(li, "strong", "", f.name || "…");
  const rest = ["dose", "route", "frequency", "status"].map((k) => f[k]).filter(Boolean).join(" ");
  if (rest) add(li, "span", "detail", rest);
}

function onEvent(ev) {
  switch (ev.type) {
    case "session.started":
      setStatus(ev.generated_models ? "Listening (test models: text is noise)" : "Listening");
      break;
    case "transcript.partial":
      partialEl.textContent = ev.text;
      break;
    case "transcript.final":
      finalsEl.textContent += (finalsEl.textContent ? " " : "") + ev.text;
      partialEl.textContent = "";
      break;
    case "item.partial":
      showPartialItem(ev);
      break;
    case "item.final":
      showItem(ev);
      break;
    case "error":
      setStatus(`Problem: ${ev.message}`);
      break;
    case "session.ended": {
      setStatus(`Saved (${ev.segments} segments, ${ev.items} items)`);
      const link = $("saved-link");
      link.href = `/sessions/${ev.session_id}`;
      $("saved").hidden = false;
      break;
    }
  }
}

async function start() {
  finalsEl.textContent = "";
  partialEl.textContent = "";
  itemsEl.replaceChildren();
  $("saved").hidden = true;
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: true },
  });
  // 48 kHz is what the server expects from browsers; it resamples to 16 kHz.
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.audioWorklet.addModule("/static/worklet.js");
  const node = new AudioWorkletNode(ctx, "pcm-capture", { processorOptions: { frameMs: 100 } });
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(`${proto}//${location.host}/v1/listen?encoding=pcm_s16le&sample_rate=${ctx.sampleRate}`);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (m) => onEvent(JSON.parse(m.data));
  ws.onclose = (e) => {
    if (e.code !== 1000) setStatus(`Connection closed (${e.code}${e.reason ? ": " + e.reason : ""})`);
    recordBtn.textContent = "Start dictation";
    recordBtn.disabled = false;
    ws = null;
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("could not connect"));
  });
  node.port.onmessage = (e) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(e.data);
  };
  ctx.createMediaStreamSource(stream).connect(node);
  audio = { ctx, stream, node };
  recordBtn.textContent = "Stop";
}

async function stop() {
  recordBtn.disabled = true;
  setStatus("Finishing…");
  if (audio) {
    audio.node.port.postMessage("flush");
    await new Promise((r) => setTimeout(r, 50));
    audio.stream.getTracks().forEach((t) => t.stop());
    await audio.ctx.close();
    audio = null;
  }
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop" }));
}

recordBtn.addEventListener("click", () => {
  if (audio) {
    stop();
  } else {
    start().catch((err) => {
      setStatus(`Cannot record: ${err.message}`);
      if (ws) ws.close();
    });
  }
});
