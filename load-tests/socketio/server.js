// The Socket.IO peer of the Luukku benchmarks: a 1:1 chat with acks, as a competent team
// would write it. One process, the default in-memory adapter, WebSocket transport only.
//
//   join  room            -> ack {ok: true}          (a client joins one room, a professional K)
//   msg   {room, id, body} -> ack {seq}; the other member(s) get
//                            msg {room, seq, at, id, body}
//
// No storage: messages are relayed and forgotten; the only state is a sequence counter per
// room, dropped when the room empties. Luukku persists every message; this peer does not.
//
// PORT (default 3000, 0 picks a free one) and HOST (default 127.0.0.1) from the environment.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";
const MAX_BODY = 4096;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${process.env.PORT}`);
  process.exit(2);
}

const httpServer = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
const io = new Server(httpServer, { transports: ["websocket"], serveClient: false });

const seqs = new Map(); // room -> last sequence number
io.of("/").adapter.on("delete-room", (room) => seqs.delete(room));

const isRoom = (room) => typeof room === "string" && room.length > 0 && room.length <= 128;

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

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
