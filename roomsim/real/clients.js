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
const { io } = require("socket.io-client");
const { performance } = require("perf_hooks");
const { DelayProxy } = require("./delay-proxy");

const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

let nodes = {}; // node name -> port, for the nodes that are up
let order = []; // every node, in the scenario's order (round robin)
let sticky = false;
let turn = 0;

const clients = new Map(); // name -> {socket, proxy, wanted, last}

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

async function connect(cmd) {
  let state = clients.get(cmd.name);
  if (state && state.socket) {
    state.socket.removeAllListeners();
    state.socket.offAny();
    state.socket.io.removeAllListeners();
    state.socket.close();
    state.proxy.close();
  }
  state = { wanted: cmd.node, last: cmd.node, socket: null, proxy: null };
  clients.set(cmd.name, state);
  const proxy = new DelayProxy("127.0.0.1", () => route(state), cmd.delayMs || 0);
  state.proxy = proxy;
  const port = await proxy.listen();
  const socket = io(`http://127.0.0.1:${port}${cmd.namespace === "/" ? "" : cmd.namespace}`, {
    forceNew: true,
    transports: ["websocket"],
    auth: { name: cmd.name, rooms: cmd.rooms },
    reconnection: cmd.reconnection,
    reconnectionDelay: cmd.reconnectionDelay,
    reconnectionDelayMax: cmd.reconnectionDelayMax,
    randomizationFactor: cmd.randomizationFactor,
  });
  state.socket = socket;
  socket.onAny((ev, ...args) => {
    const last = args[args.length - 1];
    out({ ev: "deliver", ts: now(), client: cmd.name, msg: String(args[0]), event: ev });
    if (typeof last === "function" && cmd.ack) last(cmd.name);
  });
  socket.on("connect", () => {
    socket.auth = { name: cmd.name, rooms: [] }; // a reconnection joins no room but its own
    event(cmd.name, "connect", socket.recovered ? "recovered" : null);
  });
  socket.on("disconnect", (reason) => event(cmd.name, "disconnect", reason));
  socket.on("connect_error", (err) => event(cmd.name, "connect_error", String(err.message)));
}

function stateOf(name) {
  const state = clients.get(name);
  if (!state || !state.socket) throw new Error(`client '${name}' has no socket`);
  return state;
}

const commands = {
  nodes(cmd) {
    nodes = cmd.up;
    if (cmd.order) order = cmd.order;
    if (cmd.sticky !== undefined) sticky = cmd.sticky;
  },
  connect,
  disconnect(cmd) {
    stateOf(cmd.name).socket.disconnect();
  },
  close_transport(cmd) {
    stateOf(cmd.name).socket.io.engine.close();
  },
};

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  let error = null;
  try {
    await commands[cmd.op](cmd);
  } catch (err) {
    error = String((err && err.message) || err);
  }
  out({ ev: "done", id: cmd.id, error });
});
lines.on("close", () => process.exit(0));
out({ ev: "ready" });
