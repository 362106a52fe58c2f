// A TCP proxy that delays every byte by a fixed time in each direction, and
// can hold one direction or both (a partition: TCP holds the bytes, it does
// not lose them) until released.  Order is kept: one FIFO per direction.
"use strict";

const net = require("net");

class Pipe {
  constructor(dest, delayMs, held) {
    this.dest = dest;
    this.delayMs = delayMs;
    this.held = held; // () => boolean
    this.queue = [];
    this.timer = null;
    this.ended = false;
  }
  push(chunk) {
    if (!this.queue.length && !this.delayMs && !this.held()) {
      this.dest.write(chunk);
      return;
    }
    this.queue.push({ due: Date.now() + this.delayMs, chunk });
    this.pump();
  }
  end() {
    this.ended = true;
    this.pump();
  }
  pump() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.held()) return;
    const t = Date.now();
    while (this.queue.length && this.queue[0].due <= t) {
      this.dest.write(this.queue.shift().chunk);
    }
    if (this.queue.length) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, this.queue[0].due - Date.now()));
    } else if (this.ended) {
      this.dest.end();
    }
  }
}

class DelayProxy {
  // `port` is the upstream's port, or a function giving it for each new connection
  // (a load balancer); a connection it gives no port is refused.
  constructor(host, port, delayMs = 0, backDelayMs = delayMs) {
    this.host = host;
    this.port = typeof port === "function" ? port : () => port;
    this.delayMs = delayMs; // towards the upstream (node -> broker, client -> node)
    this.backDelayMs = backDelayMs; // back from the upstream
    this.heldTo = false;
    this.heldFrom = false;
    this.pipes = new Set();
    this.server = net.createServer((down) => this.accept(down));
  }
  listen(port = 0) {
    return new Promise((resolve) => {
      this.server.listen(port, "127.0.0.1", () => resolve(this.server.address().port));
    });
  }
  accept(down) {
    down.setNoDelay(true);
    const port = this.port();
    if (!port) {
      down.destroy();
      return;
    }
    const up = net.connect(port, this.host);
    up.setNoDelay(true);
    const toUp = new Pipe(up, this.delayMs, () => this.heldTo);
    const toDown = new Pipe(down, this.backDelayMs, () => this.heldFrom);
    this.pipes.add(toUp);
    this.pipes.add(toDown);
    down.on("data", (c) => toUp.push(c));
    up.on("data", (c) => toDown.push(c));
    down.on("end", () => toUp.end());
    up.on("end", () => toDown.end());
    const drop = () => {
      this.pipes.delete(toUp);
      this.pipes.delete(toDown);
    };
    down.on("error", () => up.destroy());
    up.on("error", () => down.destroy());
    down.on("close", () => {
      up.destroy();
      drop();
    });
    up.on("close", () => {
      // what was already on its way back still arrives, then the connection ends
      toDown.end();
      drop();
    });
  }
  hold(direction) {
    if (direction === "both" || direction === "to-broker") this.heldTo = true;
    if (direction === "both" || direction === "from-broker") this.heldFrom = true;
  }
  close() {
    this.server.close();
  }
  release() {
    this.heldTo = false;
    this.heldFrom = false;
    for (const pipe of this.pipes) pipe.pump();
  }
}

module.exports = { DelayProxy };
