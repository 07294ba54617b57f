// The Socket.IO peer of the Luukku benchmarks: a 1:1 chat with acks, as a competent team
// would write it. WebSocket transport only. One process with the default in-memory adapter,
// or one of several processes sharing a Redis through `@socket.io/redis-adapter` (the usual
// way to run Socket.IO on more than one node).
//
//   join  room            -> ack {ok: true}          (a client joins one room, a professional K)
//   msg   {room, id, body} -> ack {seq}; the other member(s) get
//                            msg {room, seq, at, id, body}
//
// No storage: messages are relayed and forgotten; the only state is a sequence counter per
// room, dropped when the room empties. Luukku persists every message; this peer does not.
// With the Redis adapter every process keeps its own counters: `seq` then numbers the
// messages sent through this process, not the conversation (nothing is shared but the
// broadcasts), and a broadcast reaches the other processes through Redis pub/sub (each one
// PSUBSCRIBEs to the namespace's channels and keeps what its own sockets' rooms need).
//
// Environment:
//   PORT           default 3000, 0 picks a free one
//   HOST           default 127.0.0.1
//   SIO_REDIS_URL  redis://… : run as one of N processes sharing this Redis (the adapter)
//   SIO_REDIS_KEY  prefix of the adapter's channels (default "socket.io"), so that several
//                  runs can share one Redis
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";
const redisUrl = process.env.SIO_REDIS_URL || "";
const redisKey = process.env.SIO_REDIS_KEY || "socket.io";
const MAX_BODY = 4096;
// A Redis that does not answer at start-up is a configuration error, not something to wait
// for forever.
const REDIS_CONNECT_TIMEOUT_MS = 10_000;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${process.env.PORT}`);
  process.exit(2);
}
if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
  console.error(`SIO_REDIS_URL must be a redis:// URL, got ${redisUrl}`);
  process.exit(2);
}

const httpServer = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
const io = new Server(httpServer, { transports: ["websocket"], serveClient: false });
const redisClients = [];

const seqs = new Map(); // room -> last sequence number (of this process)

const isRoom = (room) => typeof room === "string" && room.length > 0 && room.length <= 128;

function serve() {
  io.of("/").adapter.on("delete-room", (room) => seqs.delete(room));
  io.on("connection", (socket) => {
    socket.on("join", (room, ack) => {
      if (typeof ack !== "function") return;
      if (!isRoom(room)) return ack({ error: "bad_room" });
      socket.join(room);
      ack({ ok: true });
    });

    socket.on("msg", (msg, ack) => {
      if (typeof ack !== "function") return;
      const { room, id, body } = msg ?? {};
      if (!isRoom(room) || !socket.rooms.has(room)) return ack({ error: "not_joined" });
      if (typeof body !== "string" || body.length === 0 || body.length > MAX_BODY) {
        return ack({ error: "bad_body" });
      }
      const seq = (seqs.get(room) ?? 0) + 1;
      seqs.set(room, seq);
      socket.to(room).emit("msg", { room, seq, at: new Date().toISOString(), id, body });
      ack({ seq });
    });
  });

  httpServer.listen(port, host, () => {
    const { port: bound } = httpServer.address();
    console.log(`socketio listens on http://${host}:${bound}/`);
  });
}

// Two connections, as the adapter requires: one publishes, one is in subscribed state.
async function useRedisAdapter() {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate();
  for (const [name, client] of [
    ["publisher", pubClient],
    ["subscriber", subClient],
  ]) {
    // The client retries on its own; say each distinct error once, not at every retry.
    let last = "";
    client.on("error", (err) => {
      if (err.message !== last) console.error(`socketio: redis ${name}: ${err.message}`);
      last = err.message;
    });
    client.on("ready", () => {
      last = "";
    });
    redisClients.push(client);
  }
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${REDIS_CONNECT_TIMEOUT_MS} ms`)),
      REDIS_CONNECT_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([Promise.all([pubClient.connect(), subClient.connect()]), timeout]);
  } finally {
    clearTimeout(timer);
  }
  io.adapter(createAdapter(pubClient, subClient, { key: redisKey }));
  console.error(`socketio: redis adapter on ${redisUrl} (channels ${redisKey}#/#…)`);
}

async function stop() {
  io.close();
  await Promise.allSettled(redisClients.map((c) => c.quit()));
  process.exit(0);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stop();
  });
}

if (redisUrl) {
  useRedisAdapter().then(serve, (err) => {
    console.error(`socketio: cannot use the Redis at ${redisUrl}: ${err.message}`);
    process.exit(2);
  });
} else {
  serve();
}
