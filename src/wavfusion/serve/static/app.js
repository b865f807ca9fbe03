// The page of `wavfusion serve`: one file (picked, dropped or recorded) -> POST /v1/predict.
"use strict";
const $ = (id) => document.getElementById(id);
const COLOURS = ["#36c", "#c33", "#393", "#c90", "#939", "#099", "#963", "#666"];
let chosen = null, labels = [], media = null;

function headers() {
  const token = $("token").value.trim();
  return token ? { Authorization: "Bearer " + token } : {};
}

function colour(label) { return COLOURS[Math.max(0, labels.indexOf(label)) % COLOURS.length]; }

async function describe() {
  try {
    const answer = await fetch("/v1/model", { headers: headers() });
    if (!answer.ok) { $("model").textContent = "Model: " + (await detail(answer)); return; }
    const model = await answer.json();
    labels = model.labels;
    $("transcribe-box").hidden = !model.transcribe;
    $("model").textContent = `Model ${model.run}: ${model.labels.join(", ")}; uses ` +
      `${model.modalities.join(" + ")}. A recording longer than ${model.max_seconds} s ` +
      "gets an emotion timeline.";
  } catch (error) { $("model").textContent = "The server does not answer."; }
}

async function detail(answer) {
  try {
    const body = await answer.json();
    const d = body.detail;
    return `${answer.status}: ` + (typeof d === "string" ? d : JSON.stringify(d));
  } catch (error) { return `${answer.status} ${answer.statusText}`; }
}

function choose(file) {
  chosen = file;
  $("send").disabled = !file;
  $("status").textContent = file ? `Ready: ${file.name} (${Math.round(file.size / 1024)} KiB)` : "";
  $("status").className = "";
  $("player").innerHTML = "";
  if (!file) return;
  media = document.createElement(file.type.startsWith("video") ? "video" : "audio");
  media.controls = true;
  media.src = URL.createObjectURL(file);
  $("player").appendChild(media);
}

function bars(scores) {
  const box = $("bars");
  box.innerHTML = "";
  scores.forEach((item, index) => {
    const row = document.createElement("div");
    row.className = "bar" + (index === 0 ? " top" : "");
    row.dataset.label = item.label;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = item.label;
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = (item.score * 20) + "rem";
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = (100 * item.score).toFixed(1) + " %";
    row.append(name, fill, value);
    box.appendChild(row);
  });
}

function seek(seconds) { if (media) { media.currentTime = seconds; media.play().catch(() => {}); } }

function timeline(result) {
  const section = $("timeline"), band = $("band"), body = $("segments");
  band.innerHTML = ""; body.innerHTML = "";
  if (!result.segments) { section.hidden = true; return; }
  section.hidden = false;
  const total = result.duration || 1;
  result.segments.forEach((segment, index) => {
    const next = result.segments[index + 1];  // overlapping windows: drawn up to the next
    const shown = Math.min(segment.end, next ? next.start : segment.end);
    const piece = document.createElement("div");
    piece.style.left = (100 * segment.start / total) + "%";  // placed in time: gaps show
    piece.style.width = (100 * (shown - segment.start) / total) + "%";
    piece.style.background = colour(segment.label);
    piece.title = `${segment.start.toFixed(1)}-${segment.end.toFixed(1)} s: ${segment.label}`;
    piece.onclick = () => seek(segment.start);
    band.appendChild(piece);
    const row = document.createElement("tr");
    [segment.start.toFixed(1), segment.end.toFixed(1), segment.label,
     (100 * segment.score).toFixed(0) + " %", segment.transcript || ""].forEach((text) => {
      const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell);
    });
    const swatch = document.createElement("span");  // the band's colour for this emotion
    swatch.className = "swatch";
    swatch.style.background = colour(segment.label);
    row.children[2].prepend(swatch);
    row.dataset.start = segment.start;
    row.onclick = () => seek(segment.start);
    body.appendChild(row);
  });
}

function show(result) {
  $("result").hidden = false;
  $("heading").textContent = result.segments ? "Dominant emotion (share of speaking time):" :
    "Emotion:";
  $("label").textContent = result.label || (result.summary && result.summary.dominant) || "?";
  bars(result.scores || []);
  $("used-transcript").textContent = result.transcript ?
    `"${result.transcript}" (${result.transcript_source})` : "none";
  const missing = Object.entries(result.missing || {});
  $("missing").textContent = !result.missing && result.modalities ?
    `the segments used ${result.modalities.join(" + ")}` : missing.length ?
    missing.map(([name, why]) => `${name}: ${why}`).join("; ") : "nothing";
  $("gates").textContent = (result.gates || []).map((g) => g === null ? "n/a" : g.toFixed(2))
    .join(", ") + (result.gates_note ? ` (${result.gates_note})` : "");
  timeline(result);
}

async function send() {
  if (!chosen) return;
  const form = new FormData();
  form.append("file", chosen, chosen.name || "recording.webm");
  const text = $("transcript").value.trim();
  if (text) form.append("transcript", text);
  form.append("segments", $("segment-mode").value);
  if ($("transcribe").checked && !$("transcribe-box").hidden) form.append("transcribe", "true");
  $("send").disabled = true;
  $("status").className = "";
  $("status").textContent = "Predicting...";
  try {
    const answer = await fetch("/v1/predict", { method: "POST", body: form, headers: headers() });
    if (!answer.ok) throw new Error(await detail(answer));
    show(await answer.json());
    $("status").textContent = "Done.";
  } catch (error) {
    $("status").className = "error";
    $("status").textContent = "Not predicted: " + error.message;
  } finally { $("send").disabled = !chosen; }
}

async function record() {
  const button = $("record");
  if (button.recorder) { button.recorder.stop(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const recorder = new MediaRecorder(stream), parts = [];
    recorder.ondataavailable = (event) => parts.push(event.data);
    recorder.onstop = () => {
      stream.getTracks().forEach((track) => track.stop());
      button.recorder = null; button.textContent = "Record from the microphone";
      const type = recorder.mimeType || "audio/webm";
      choose(new File(parts, "recording." + (type.includes("ogg") ? "ogg" : "webm"), { type }));
    };
    recorder.start();
    button.recorder = recorder; button.textContent = "Stop recording";
  } catch (error) {
    $("status").className = "error";
    $("status").textContent = "No microphone: " + error.message;
  }
}

$("file").addEventListener("change", (event) => choose(event.target.files[0] || null));
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault(); drop.classList.remove("over");
  if (event.dataTransfer.files.length) choose(event.dataTransfer.files[0]);
});
$("send").addEventListener("click", send);
$("record").addEventListener("click", record);
$("token").addEventListener("change", describe);
describe();
