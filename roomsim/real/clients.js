// The real socket.io-client clients of a `roomsim real` run, in one process.
//
// Each client connects through its own small proxy, which delays its bytes
// by the client's latency (in timed runs) and is its load balancer: a new
// connection goes to the node the driver asked for, a reconnection to its
// last node when sticky and up, else round robin over the nodes that are up.
// Commands are JSON lines on stdin; JSON lines on stdout:
//   {"ev": "ready"}
//   {"ev": "deliver", "ts": ms, "client": name, "msg": id, "event": ev}
//   {"ev": "client", "ts": ms, "client": name, "what": "connect"|"disconnect"|"connect_error", "reason": ...}
//   {"ev": "done", "id": N, "error": null|msg}
"use strict";

const readline = require("readline");
const { Manager } = require("socket.io-client");
const { performance } = require("perf_hooks");
const { DelayProxy } = require("./delay-proxy");

const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

let nodes = {}; // node name -> port, for the nodes that are up
let order = []; // every node, in the scenario's order (round robin)
let sticky = false;
let turn = 0;

// name -> {current, next}: each a connection {cmd, socket, manager, proxy, wanted, last}
const clients = new Map();

function roundRobin() {
  for (let i = 0; i < order.length; i++) {
    const node = order[(turn + i) % order.length];
    if (nodes[node]) {
      turn = (turn + i + 1) % order.length;
      return node;
    }
  }
  return null;
}

function route(state) {
  let node = null;
  if (state.wanted) {
    node = state.wanted; // a connect step names its node
    state.wanted = null;
  } else if (sticky && state.last && nodes[state.last]) {
    node = state.last;
  } else {
    node = roundRobin();
  }
  state.last = node || state.last;
  return node ? nodes[node] : 0;
}

function event(name, what, reason) {
  out({ ev: "client", ts: now(), client: name, what, reason: reason === undefined ? null : reason });
}

function closeState(state) {
  if (state && state.socket) {
    state.socket.removeAllListeners();
    state.socket.offAny();
    state.socket.close();
  }
  if (state && state.manager) {
    state.manager.removeAllListeners();
    state.manager._close();
  }
  if (state && state.proxy) state.proxy.close();
}

// Open the client's next connection (its transport), without its socket yet:
// `go` then connects the socket, which takes one trip to the server.
async function prepare(cmd) {
  const old = clients.get(cmd.name);
  if (old && old.next) closeState(old.next);
  const next = { cmd, wanted: cmd.node, last: cmd.node, socket: null, manager: null, proxy: null };
  const proxy = new DelayProxy("127.0.0.1", () => route(next), cmd.delayMs || 0);
  next.proxy = proxy;
  const port = await proxy.listen();
  next.manager = new Manager(`http://127.0.0.1:${port}`, {
    autoConnect: false,
    transports: ["websocket"],
    reconnection: cmd.reconnection,
    reconnectionDelay: cmd.reconnectionDelay,
    reconnectionDelayMax: cmd.reconnectionDelayMax,
    randomizationFactor: cmd.randomizationFactor,
  });
  next.manager.open();
  if (old) old.next = next;
  else clients.set(cmd.name, { next });
}

function go(cmd) {
  const holder = clients.get(cmd.name);
  if (!holder || !holder.next) throw new Error(`client '${cmd.name}' has no connection ready`);
  const state = holder.next;
  closeState(holder.current);
  holder.current = state;
  holder.next = null;
  const spec = state.cmd;
  const socket = state.manager.socket(spec.namespace, {
    auth: { name: spec.name, rooms: spec.rooms },
  });
  state.socket = socket;
  socket.onAny((ev, ...args) => {
    const last = args[args.length - 1];
    out({ ev: "deliver", ts: now(), client: spec.name, msg: String(args[0]), event: ev });
    if (typeof last === "function" && spec.ack) last(spec.name);
  });
  socket.on("connect", () => {
    socket.auth = { name: spec.name, rooms: [] }; // a reconnection joins no room but its own
    event(spec.name, "connect", socket.recovered ? "recovered" : null);
  });
  socket.on("disconnect", (reason) => event(spec.name, "disconnect", reason));
  socket.on("connect_error", (err) => event(spec.name, "connect_error", String(err.message)));
  socket.connect();
}

function discard(cmd) {
  const holder = clients.get(cmd.name);
  if (holder && holder.next) {
    closeState(holder.next);
    holder.next = null;
  }
}

function stateOf(name) {
  const holder = clients.get(name);
  if (!holder || !holder.current) throw new Error(`client '${name}' has no socket`);
  return holder.current;
}

const commands = {
  nodes(cmd) {
    nodes = cmd.up;
    if (cmd.order) order = cmd.order;
    if (cmd.sticky !== undefined) sticky = cmd.sticky;
  },
  prepare,
  go,
  discard,
  disconnect(cmd) {
    stateOf(cmd.name).socket.disconnect();
  },
  close_transport(cmd) {
    stateOf(cmd.name).socket.io.engine.close();
  },
};

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve(); // one command at a time, in order
lines.on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  queue = queue.then(async () => {
    let error = null;
    try {
      await commands[cmd.op](cmd);
    } catch (err) {
      error = String((err && err.message) || err);
    }
    out({ ev: "done", id: cmd.id, error });
  });
});
lines.on("close", () => process.exit(0));
out({ ev: "ready" });
