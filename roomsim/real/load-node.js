// One real Socket.IO node in rate mode, for roomsim.real.load (`roomsim calibrate`).
//
// Started with one JSON argument {node, redisPort, adapter: "redis"|"memory"}.
// Clients connect directly (no proxy) with auth {rooms: [...]} and join those
// rooms.  The node emits on its own timer, with the send time (ms since the
// epoch, performance.timeOrigin + performance.now()) as the first argument,
// so that a client on the same machine measures the delivery latency itself.
// JSON lines on stdin, JSON lines on stdout:
//   {"ev": "ready", "port": P}
//   {"op": "start", "id": N, "load": {...}, "seconds": S, "settleMs": M}
//     load.kind: "room" (to load.rooms[0]), "random" (a random room of
//     load.rooms), "all" (the namespace), "ack" (one local socket, with an
//     acknowledgement), "direct" (one local socket, no acknowledgement), "join" (a local socket joins a room and leaves the
//     one before), or "idle" (nothing: clients make the load); load.rate per
//     second from this node, load.bytes of payload
//   -> {"ev": "stats", "id": N, ...}  after the window and its settling: the
//     counts (emits, frames written, frame bytes, broker messages and bytes,
//     connects, joins, acks, client packets, direct emits), CPU ms (process.cpuUsage),
//     event-loop utilisation and its active ms, wall ms, the window's bounds
"use strict";

const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { performance } = require("perf_hooks");

const cfg = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const zero = () => ({
  emits: 0,
  emitBytes: 0,
  frames: 0,
  frameBytes: 0,
  brokerIn: 0,
  brokerBytes: 0,
  connects: 0,
  joins: 0,
  acks: 0,
  packets: 0,
  packetBytes: 0,
  directs: 0,
});
let c = zero();
const local = []; // this node's sockets
let joinTurn = 0;

async function makeAdapter(io) {
  if (cfg.adapter === "memory") return;
  const { createClient } = require("redis");
  const pub = createClient({ url: `redis://127.0.0.1:${cfg.redisPort}` });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const { createAdapter } = require("@socket.io/redis-adapter");
  io.adapter(createAdapter(pub, sub));
  const adapter = io.of("/").adapter;
  const onmessage = adapter.onmessage.bind(adapter);
  adapter.onmessage = (pattern, channel, msg) => {
    // every broadcast of the cluster reaches every node (its own too), which decodes it
    c.brokerIn += 1;
    c.brokerBytes += msg ? msg.length : 0;
    return onmessage(pattern, channel, msg);
  };
}

async function main() {
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    transports: ["websocket"],
    serveClient: false,
    pingInterval: 60000,
    pingTimeout: 60000,
  });
  await makeAdapter(io);
  io.on("connection", (socket) => {
    c.connects += 1;
    const rooms = (socket.handshake.auth || {}).rooms;
    if (Array.isArray(rooms) && rooms.length) {
      socket.join(rooms);
      c.joins += rooms.length;
    }
    local.push(socket);
    socket.conn.on("packetCreate", (packet) => {
      if (packet.type === "message") {
        c.frames += 1;
        c.frameBytes += typeof packet.data === "string" ? packet.data.length : 0;
      }
    });
    socket.conn.on("packet", (packet) => {
      if (packet.type === "message" && typeof packet.data === "string" && packet.data[0] === "2") {
        c.packets += 1; // an event from the client (acks are counted by their callbacks)
        c.packetBytes += packet.data.length;
      }
    });
    socket.on("p", () => {});
    socket.on("disconnect", () => {
      const i = local.indexOf(socket);
      if (i >= 0) local.splice(i, 1);
    });
  });
  httpServer.listen(0, "127.0.0.1", () => out({ ev: "ready", port: httpServer.address().port }));

  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    const cmd = JSON.parse(line);
    if (cmd.op === "start") start(io, cmd);
  });
  lines.on("close", () => process.exit(0));
}

function emitOne(io, load, pad) {
  const kind = load.kind;
  if (kind === "ack" || kind === "direct") {
    if (!local.length) return;
    const socket = local[Math.floor(Math.random() * local.length)];
    if (kind === "direct") socket.emit("load", now(), pad);
    else {
      socket.timeout(10000).emit("load", now(), pad, (err) => {
        if (!err) c.acks += 1;
      });
    }
    c.directs += 1; // socket.emit: no room lookup, no broker
    return;
  } else if (kind === "join") {
    if (!local.length) return;
    const socket = local[joinTurn++ % local.length];
    socket.join(`j${joinTurn}`);
    socket.leave(`j${joinTurn - local.length}`);
    c.joins += 2;
    return;
  } else if (kind === "room") {
    io.to(load.rooms[0]).emit("load", now(), pad);
  } else if (kind === "random") {
    io.to(load.rooms[Math.floor(Math.random() * load.rooms.length)]).emit("load", now(), pad);
  } else {
    io.emit("load", now(), pad);
  }
  c.emits += 1;
  c.emitBytes += pad.length;
}

function start(io, cmd) {
  const load = cmd.load;
  const pad = "x".repeat(Math.max(0, load.bytes || 0));
  const rate = load.kind === "idle" ? 0 : load.rate || 0;
  const total = Math.round((cmd.seconds || 0) * rate);
  const interval = rate > 0 ? 1000 / rate : 0;
  c = zero();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const from = now();
  let done = 0;
  let last = from;
  const finish = () => {
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    out({
      ev: "stats",
      id: cmd.id,
      ...c,
      cpuMs: (cpu.user + cpu.system) / 1000,
      elu: elu.utilization,
      eluActiveMs: elu.active,
      wallMs: performance.now() - t0,
      from,
      to: last,
      sockets: local.length,
    });
  };
  const tick = () => {
    // every emit due by now, in a burst when the timer was late (the rate is kept)
    const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
    while (done < due) {
      emitOne(io, load, pad);
      done += 1;
    }
    last = now();
    if (done < total) setTimeout(tick, Math.max(0, t0 + done * interval - performance.now()));
    else setTimeout(finish, cmd.settleMs || 300);
  };
  if (total > 0) tick();
  else {
    setTimeout(() => {
      last = now();
      setTimeout(finish, cmd.settleMs || 300);
    }, (cmd.seconds || 0) * 1000);
  }
}

process.on("unhandledRejection", () => {});
main().catch((err) => {
  process.stderr.write(`load node ${cfg.node}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
