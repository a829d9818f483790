/**
 * The codec server (`vup codec-server`): the Temporal codec-server protocol for the Temporal UI and
 * `temporal --codec-endpoint`. POST …/encode and …/decode take and answer `{"payloads": [...]}` in proto3
 * JSON (metadata values and data in base64); the path may carry a prefix such as the namespace
 * (`/default/decode`), as the CLI's `{namespace}` template makes it. Every POST needs
 * `Authorization: Bearer <token>` (401 without, 403 with another token); the UI's origins get CORS answers,
 * preflights included. Decrypted payloads leave only to a caller holding the token; neither the token nor a
 * payload is logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer token callers must send. */
  token: string;
  /** Origins whose pages may call (the Temporal UI's, such as http://localhost:8233). */
  allowedOrigins: readonly string[];
  /** Serve HTTPS with this certificate and key (PEM); the UI passes a token only to an https endpoint. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** One line per refused or failed request (never a payload, never a token). */
  log?: (line: string) => void;
}

export interface RunningCodecServer {
  url: string;
  server: Server;
  close: () => Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ALLOWED_HEADERS = 'Authorization, Authorization-Extras, Content-Type, X-Namespace';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const requestBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
});

const toPayload = (p: z.output<typeof requestBody>['payloads'][number]): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const fromPayload = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const digest = (text: string) => createHash('sha256').update(text).digest();

class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createCodecServer(options: CodecServerOptions): Server {
  if (!options.token) throw new Error('the codec server needs a token');
  const expected = digest(options.token);
  const log = options.log ?? (() => {});

  const authorize = (req: IncomingMessage) => {
    const header = req.headers.authorization;
    if (!header) throw new HttpRefusal(401, 'no Authorization header: send "Authorization: Bearer <token>"');
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), expected)) {
      throw new HttpRefusal(403, 'the bearer token is not the codec server’s');
    }
  };

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new HttpRefusal(413, `the body is over ${MAX_BODY_BYTES} bytes`);
      chunks.push(chunk);
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpRefusal(400, 'the body is not JSON');
    }
    const parsed = requestBody.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${z.core.toDotPath(i.path) || '(body)'}: ${i.message}`);
      throw new HttpRefusal(400, `the body is not {"payloads": [...]}: ${problems.join('; ')}`);
    }
    return parsed.data.payloads.map(toPayload);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    const allowedOrigin = origin !== undefined && options.allowedOrigins.includes(origin) ? origin : undefined;
    if (allowedOrigin) {
      res.setHeader('Access-Control-Allow-Origin', allowedOrigin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Vary', 'Origin');
    // Not new URL(): the CLI's `{namespace}` template left empty makes `//decode`, a protocol-relative URL.
    const route = /\/(encode|decode)\/?$/.exec((req.url ?? '/').split('?')[0]!)?.[1];
    if (!route) throw new HttpRefusal(404, 'the codec server answers POST …/encode and …/decode');
    if (req.method === 'OPTIONS') {
      if (origin !== undefined && !allowedOrigin) throw new HttpRefusal(403, `origin ${origin} is not allowed`);
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') throw new HttpRefusal(405, `${route} takes POST`);
    authorize(req);
    const payloads = await readBody(req);
    const answered = route === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ payloads: answered.map(fromPayload) }));
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpRefusal ? err.status : 422;
      const message = err instanceof Error ? err.message : String(err);
      log(`codec server: ${req.method} ${req.url ?? ''} from ${req.socket.remoteAddress ?? '?'}: ${status} ${message}`);
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${message}\n`);
    });
  };
  return options.tls ? createHttpsServer({ ...options.tls }, listener) : createHttpServer(listener);
}

/** Starts the codec server on host:port (port 0: a free one) and answers where it listens. */
export async function startCodecServer(
  options: CodecServerOptions & { host: string; port: number },
): Promise<RunningCodecServer> {
  const server = createCodecServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
