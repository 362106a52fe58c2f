// Load clients for roomsim.real.load: one process holding many Socket.IO clients
// connected directly to the nodes (no proxy).  They speak the Socket.IO
// protocol (version 5 over Engine.IO 4, WebSocket transport) themselves, on
// the `ws` package, and read of each packet no more than its send time: a
// client's work per delivery is a few microseconds, so that on a machine
// shared with the nodes the clients take as little of the CPU as they can.
// Each delivery's latency
// (the receive time minus the send time the node put in the packet; the same
// machine's clock) goes into a histogram kept here; only the histogram goes
// back to the driver.
//
// JSON lines on stdin, JSON lines on stdout:
//   {"op": "setup", "urls": [...], "clients": [[node index, [rooms]], ...]}
//     -> {"ev": "ready", "connected": N} once every client is connected
//   {"op": "count", "base": ms}   start counting (arrivals per 100 ms from base)
//   {"op": "load", "kind": "connect"|"packet", "rate": R, "seconds": S, "bytes": B}
//     client-side load: R new connections per second (each closed once
//     connected), or R events per second from random clients of this process
//   {"op": "report", "id": N}
//     -> {"ev": "report", "id": N, received, hist, series, connects, packets, cpuMs}
"use strict";

const readline = require("readline");
const WebSocket = require("ws");
const { performance } = require("perf_hooks");

const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// latency bins: bin k holds [MIN_MS * RATIO^k, MIN_MS * RATIO^(k+1)); bin 0 also anything lower
const MIN_MS = 0.01;
const RATIO = 1.01;
const BINS = 2000;
const LOG_RATIO = Math.log(RATIO);
const SERIES_MS = 10;

let hist = new Array(BINS).fill(0);
let series = [];
let base = 0;
let received = 0;
let counting = false;
let connectsDone = 0;
let packetsSent = 0;
let cpu0 = process.cpuUsage();
let urls = [];
const sockets = [];

// A Socket.IO client: ws.emit(event-array-text) sends an event; onLoad gets each "load" event
function connect(url, rooms, onConnect, onLoad) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
  });
  ws.on("message", (raw) => {
    const data = raw.toString();
    const kind = data.charCodeAt(0);
    if (kind === 52) {
      // "4": a Socket.IO packet
      const type = data.charCodeAt(1);
      if (type === 50) {
        // "42[id]["load",ts,...]": an event, with an acknowledgement id or not
        let j = 2;
        while (data.charCodeAt(j) >= 48 && data.charCodeAt(j) <= 57) j++;
        if (j > 2) ws.send(`43${data.slice(2, j)}[]`);
        const a = data.indexOf(",", j);
        const b = data.indexOf(",", a + 1);
        onLoad(Number(data.slice(a + 1, b < 0 ? data.length - 1 : b)));
      } else if (type === 48) onConnect(ws); // "40{sid}": connected
      else if (type === 52) process.stderr.write(`load client: refused: ${data}\n`);
    } else if (kind === 48) {
      ws.send(`40${JSON.stringify({ rooms })}`); // "0{...}": open; connect to "/" with auth
    } else if (kind === 50) ws.send("3"); // ping -> pong
  });
  ws.on("error", (err) => process.stderr.write(`load client: ${err.message}\n`));
  return ws;
}

function onLoad(ts) {
  if (!counting) return;
  const t = now();
  received += 1;
  const ms = t - ts;
  const bin = ms <= MIN_MS ? 0 : Math.min(BINS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_RATIO));
  hist[bin] += 1;
  const slot = Math.floor((t - base) / SERIES_MS);
  if (slot >= 0) {
    while (series.length <= slot) series.push(0);
    series[slot] += 1;
  }
}

function setup(cmd) {
  urls = cmd.urls;
  let connected = 0;
  const want = cmd.clients.length;
  if (!want) out({ ev: "ready", connected: 0 });
  for (const [node, rooms] of cmd.clients) {
    const ws = connect(
      urls[node],
      rooms,
      () => {
        connected += 1;
        if (connected === want) out({ ev: "ready", connected });
      },
      onLoad,
    );
    sockets.push(ws);
  }
}

function clientLoad(cmd) {
  const total = Math.round(cmd.rate * cmd.seconds);
  const interval = 1000 / cmd.rate;
  const pad = "x".repeat(Math.max(0, cmd.bytes || 0));
  const t0 = performance.now();
  let done = 0;
  let turn = 0;
  const one = () => {
    if (cmd.kind === "connect") {
      connect(
        urls[turn++ % urls.length],
        [],
        (ws) => {
          connectsDone += 1;
          ws.close();
        },
        () => {},
      );
    } else if (sockets.length) {
      const ws = sockets[Math.floor(Math.random() * sockets.length)];
      ws.send(`42${JSON.stringify(["p", now(), pad])}`);
      packetsSent += 1;
    }
  };
  const tick = () => {
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (done < due) {
      one();
      done += 1;
    }
    if (done < total) setTimeout(tick, Math.max(0, t0 + done * interval - performance.now()));
  };
  if (total > 0) tick();
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  if (cmd.op === "setup") setup(cmd);
  else if (cmd.op === "count") {
    hist = new Array(BINS).fill(0);
    series = [];
    received = 0;
    connectsDone = 0;
    packetsSent = 0;
    base = cmd.base;
    counting = true;
    cpu0 = process.cpuUsage();
  } else if (cmd.op === "load") clientLoad(cmd);
  else if (cmd.op === "report") {
    const cpu = process.cpuUsage(cpu0);
    const bins = {};
    hist.forEach((n, k) => {
      if (n) bins[k] = n;
    });
    out({
      ev: "report",
      id: cmd.id,
      received,
      hist: bins,
      series,
      connects: connectsDone,
      packets: packetsSent,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
  }
});
lines.on("close", () => {
  for (const s of sockets) s.close();
  process.exit(0);
});
