#!/usr/bin/env node
// The upstream of the stream section (bench/streams.mjs): one TCP port and one UDP port on 127.0.0.1.
// TCP: a connection that starts with "PING\n" gets "PONG\n" and is ended (connection setup rate);
// any other is read to its end and discarded, then answered "ok <bytes>\n" (throughput: the client
// sends, half-closes, and waits for the count). UDP: every datagram is echoed to its sender.
// Usage: node bench/stream-backend.mjs TCP_PORT UDP_PORT   (prints "ready" once both listen)
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const [tcpPort, udpPort] = process.argv.slice(2).map(Number);
const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  let bytes = 0;
  let first = true;
  socket.on('data', (chunk) => {
    if (first && chunk.length >= 5 && chunk.toString('latin1', 0, 5) === 'PING\n') {
      socket.end('PONG\n');
      return;
    }
    first = false;
    bytes += chunk.length;
  });
  socket.on('end', () => {
    if (!socket.writableEnded) socket.end(`ok ${bytes}\n`);
  });
  socket.on('error', () => socket.destroy());
});
server.listen(tcpPort, '127.0.0.1', () => {
  const udp = createSocket('udp4');
  udp.on('message', (message, from) => udp.send(message, from.port, from.address));
  udp.bind(udpPort, '127.0.0.1', () => console.log('ready'));
});
