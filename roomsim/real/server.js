// One real Socket.IO server node for `roomsim real`.
//
// Started by roomsim/real/runner.py with one JSON argument (its settings).
// It runs the same application on every node: every namespace of the
// scenario, a connection handler that joins the rooms a client asks for,
// and handlers that record what Socket.IO does.  It reads commands as JSON
// lines on stdin and writes JSON lines on stdout:
//   {"ev": "ready", "port": P}                    once, when listening
//   {"ev": "rec", "ts": ms, "rec": {...}}          a trace record (no `t` yet)
//   {"ev": "done", "id": N, "error": null|msg}     a command's synchronous part ended
//   {"ev": "result", "id": N}                      an asynchronous command ended
"use strict";

const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { performance } = require("perf_hooks");
const { DelayProxy } = require("./delay-proxy");

const cfg = JSON.parse(process.argv[2]);
const NODE = cfg.node;
console.warn = () => {}; // the in-memory adapter warns on serverSideEmit; the trace says enough
const now = () => performance.timeOrigin + performance.now();

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}
function rec(kind, fields) {
  out({ ev: "rec", ts: now(), rec: { kind, ...fields } });
}

const names = new Map(); // socket id -> client name (sockets of this node)
const sockets = new Map(); // client name -> its socket on this node (while connected)

function nameOf(id) {
  return names.get(id);
}

async function makeAdapter(redisPort) {
  if (cfg.adapter === "memory") return null;
  const { createClient } = require("redis");
  const url = `redis://127.0.0.1:${redisPort}`;
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) {
    c.on("error", () => {}); // node-redis reconnects by itself; errors are expected under faults
  }
  // as Socket.IO's documentation starts a node: the adapter once Redis answers
  // (a node started while Redis is down waits for it, and serves nobody meanwhile)
  await Promise.all([pub.connect(), sub.connect()]);
  if (cfg.adapter === "redis") {
    const { createAdapter } = require("@socket.io/redis-adapter");
    return createAdapter(pub, sub, { requestsTimeout: cfg.requestsTimeout });
  }
  const { createShardedAdapter } = require("@socket.io/redis-adapter");
  return createShardedAdapter(pub, sub, { subscriptionMode: cfg.subscriptionMode });
}

function setUpNamespace(io, name) {
  const nsp = io.of(name);
  nsp.on("connection", (socket) => {
    const auth = socket.handshake.auth || {};
    const client = String(auth.name);
    names.set(socket.id, client);
    sockets.set(client, socket);
    const fields = { client, node: NODE, sid: socket.id, namespace: nsp.name };
    if (socket.recovered) fields.recovered = true;
    rec("connect", fields);
    const join = socket.join.bind(socket);
    const leave = socket.leave.bind(socket);
    socket.join = (rooms) => {
      const list = Array.isArray(rooms) ? rooms : [rooms];
      const result = join(rooms);
      if (socket.connected) {
        for (const room of list) rec("join", { client, node: NODE, room });
      }
      return result;
    };
    socket.leave = (room) => {
      const result = leave(room);
      if (socket.connected) rec("leave", { client, node: NODE, room });
      return result;
    };
    const base = { client, node: NODE, sid: socket.id };
    socket.on("disconnecting", (reason) => {
      rec("disconnecting", { ...base, reason, rooms: [...socket.rooms] });
    });
    socket.on("disconnect", (reason) => {
      rec("disconnect", { ...base, reason, rooms: [...socket.rooms] });
      if (sockets.get(client) === socket) sockets.delete(client);
    });
    if (Array.isArray(auth.rooms) && auth.rooms.length) socket.join(auth.rooms);
  });
  for (const event of cfg.sideEvents[name] || []) {
    nsp.on(event, (...args) => {
      rec("server_side_receive", { node: NODE, event });
      const last = args[args.length - 1];
      if (typeof last === "function") last(NODE);
    });
  }
  return nsp;
}

function socketOf(client) {
  const socket = sockets.get(client);
  if (!socket || !socket.connected) throw new Error(`client '${client}' is not connected`);
  return socket;
}

function operator(io, cmd) {
  let op = cmd.fromClient ? socketOf(cmd.from).broadcast : io.of(cmd.namespace || "/");
  if (cmd.to && cmd.to.length) op = op.to(cmd.to);
  if (cmd.except && cmd.except.length) op = op.except(cmd.except);
  if (cmd.local) op = op.local;
  return op;
}

function errorText(err) {
  return err ? String(err.message || err) : null;
}

const commands = {
  join(io, cmd) {
    socketOf(cmd.client).join(cmd.rooms);
  },
  leave(io, cmd) {
    const socket = socketOf(cmd.client);
    for (const room of cmd.rooms) socket.leave(room);
  },
  disconnect(io, cmd) {
    const socket = socketOf(cmd.client);
    switch (cmd.reason) {
      case "server namespace disconnect":
        socket.disconnect();
        break;
      case "forced close":
        socket.conn.close();
        break;
      case "forced server close":
        socket.client.close(); // what Socket.IO does on a connect time-out
        break;
      case "server shutting down":
        socket._onclose("server shutting down"); // what io.close() does to each socket
        socket.conn.close();
        break;
      default:
        throw new Error(`reason '${cmd.reason}' is played by the client, not the server`);
    }
  },
  emit(io, cmd, finish) {
    let op = operator(io, cmd);
    if (cmd.volatile) op = op.volatile;
    const args = [cmd.msg];
    if (cmd.hasData) args.push(cmd.data);
    if (!cmd.ack) {
      op.emit(cmd.event, ...args);
      return false;
    }
    if (cmd.timeout !== null && cmd.timeout !== undefined) op = op.timeout(cmd.timeout);
    op.emit(cmd.event, ...args, (err, responses) => {
      rec("ack_result", {
        msg: cmd.msg,
        node: NODE,
        error: errorText(err),
        responses: responses || [],
      });
      finish();
    });
    return true;
  },
  sockets_join(io, cmd) {
    operator(io, cmd).socketsJoin(cmd.rooms);
  },
  sockets_leave(io, cmd) {
    operator(io, cmd).socketsLeave(cmd.rooms);
  },
  disconnect_sockets(io, cmd) {
    operator(io, cmd).disconnectSockets(cmd.close);
  },
  fetch_sockets(io, cmd, finish) {
    let op = operator(io, cmd);
    if (cmd.timeout !== null && cmd.timeout !== undefined) op = op.timeout(cmd.timeout);
    op.fetchSockets().then(
      (found) => {
        const list = found.map((s) => String((s.handshake.auth || {}).name));
        rec("fetch_result", { step: cmd.step, node: NODE, sockets: list, error: null });
        finish();
      },
      (err) => {
        rec("fetch_result", { step: cmd.step, node: NODE, sockets: [], error: errorText(err) });
        finish();
      },
    );
    return true;
  },
  server_side_emit(io, cmd, finish) {
    const nsp = io.of(cmd.namespace || "/");
    const args = cmd.hasData ? [cmd.data] : [];
    if (!cmd.ack) {
      nsp.serverSideEmit(cmd.event, ...args);
      return false;
    }
    nsp.serverSideEmit(cmd.event, ...args, (err, responses) => {
      rec("ack_result", {
        step: cmd.step,
        node: NODE,
        error: errorText(err),
        responses: responses || [],
      });
      finish();
    });
    // the in-memory adapter never calls the acknowledgement back (it has no other node)
    return cfg.adapter !== "memory";
  },
  partition(io, cmd) {
    if (!proxy) throw new Error("this node has no broker link");
    proxy.hold(cmd.direction);
  },
  heal(io, cmd) {
    if (proxy) proxy.release();
  },
};

let proxy = null;

async function main() {
  let redisPort = cfg.redisPort;
  if (cfg.adapter !== "memory") {
    proxy = new DelayProxy("127.0.0.1", cfg.redisPort, cfg.brokerDelayMs || 0);
    redisPort = await proxy.listen();
  }
  const httpServer = http.createServer();
  // connections are opened ahead of their socket (timed runs): give them time
  const options = { transports: ["websocket"], serveClient: false, connectTimeout: 600000 };
  if (cfg.recovery !== null && cfg.recovery !== undefined) {
    options.connectionStateRecovery = { maxDisconnectionDuration: cfg.recovery };
  }
  const io = new Server(httpServer, options);
  const adapter = await makeAdapter(redisPort);
  if (adapter) io.adapter(adapter);
  for (const name of cfg.namespaces) setUpNamespace(io, name);
  httpServer.listen(cfg.port || 0, "127.0.0.1", () => {
    out({ ev: "ready", port: httpServer.address().port });
  });

  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (!line.trim()) return;
    const cmd = JSON.parse(line);
    const finish = () => out({ ev: "result", id: cmd.id });
    let pending = false;
    let error = null;
    try {
      pending = Boolean(commands[cmd.op](io, cmd, finish));
    } catch (err) {
      error = errorText(err);
    }
    out({ ev: "done", id: cmd.id, error, pending });
  });
  lines.on("close", () => process.exit(0));
}

// Redis going away (broker down, a partition) is part of the scenario: node-redis
// reconnects by itself, so its connection errors are not the node's end.
const REDIS_ERRORS = new Set(["SocketClosedUnexpectedlyError", "ConnectionTimeoutError"]);
process.on("uncaughtException", (err) => {
  if (err && (REDIS_ERRORS.has(err.name) || err.code === "ECONNREFUSED" || err.code === "ECONNRESET")) {
    return;
  }
  process.stderr.write(`roomsim real: node ${NODE}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
process.on("unhandledRejection", () => {}); // a publish that failed while Redis was away

main().catch((err) => {
  process.stderr.write(`roomsim real: node ${NODE}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
