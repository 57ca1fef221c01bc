// The FTP stream's connection handler: one FtpSession per control connection, sharing the stream's
// data-port pool and TLS context. What a session does is described in ftp-session.ts; this file
// owns what outlives a session (the pool, the certificate's context) and cuts everything on close().
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { SecureContexts } from '../../proxy/tls-policy.js';
import type { ConnectionHandler, StreamClient, StreamRuntime } from '../stream-types.js';
import { DataPortPool } from './data-ports.js';
import { FtpSession } from './ftp-session.js';

export function createFtpHandler(runtime: StreamRuntime): ConnectionHandler {
  const ftp = runtime.stream.ftp;
  if (!ftp) throw new Error(`stream "${runtime.stream.title}" is not an FTP stream (it has no FTP options)`);
  const pool = new DataPortPool(ftp.passivePortFrom, ftp.passivePortTo);
  const contexts = new SecureContexts();
  const sessions = new Set<FtpSession>();
  let closed = false;

  // Asked per AUTH TLS, so a renewed certificate is served from the next session on.
  const secureContext = (): SecureContext => {
    const certificate = (ftp.certificateRouteId !== null ? runtime.certificateForRoute(ftp.certificateRouteId) : null) ?? runtime.fallbackCertificate();
    return contexts.contextFor(certificate);
  };

  return {
    handle(socket: Socket, client: StreamClient): void {
      if (closed) {
        socket.destroy();
        return;
      }
      const session = new FtpSession(runtime, ftp, pool, secureContext, socket, client, () => sessions.delete(session));
      sessions.add(session);
      session.start();
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...sessions].map((session) => session.cut()));
      await pool.close();
    },
  };
}
