/**
 * An HTTP JSON-RPC relay in front of a NEAR RPC node that lets the first transaction through to the node and
 * then holds the node's answer: the transaction is on the chain, and its sender never learns it. A test
 * kills the sender in that moment, or lets the answer through when it waits for a later transaction. While
 * an answer is held, every other request, transactions included, passes through unchanged,
 * and every transaction the node accepted is recorded as the node answered it.
 *
 * It can also stand for an RPC having an outage: for a while it answers every request with HTTP 503, as a
 * load balancer with no healthy node behind it does; or for an RPC that hangs: for a while it accepts every
 * request and answers none (the held requests are answered once the hang ends). And it can stand for an
 * endpoint of another chain: `status` answers carry another chain_id.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** nearcore's methods that submit a signed transaction. */
const SUBMIT_METHODS = new Set(['send_tx', 'broadcast_tx_commit', 'broadcast_tx_async']);

export interface LandedTransaction {
  method: string;
  hash: string;
  signerId: string;
  receiverId: string;
  /** The function calls, or the other action kinds, of the transaction, as the node reported them. */
  actions: string[];
}

export interface TxHoldProxy {
  url: string;
  /** The transaction whose answer is held, once the node has answered it (it landed). */
  readonly heldTransaction: LandedTransaction | undefined;
  /** Sends the held transaction's answer on to its sender; the next transaction that lands is held again. */
  releaseHeld(): void;
  /** Every transaction the node accepted through this relay, the held one included. */
  readonly landed: LandedTransaction[];
  /** Answers 503 to every request from now for `ms` (the outage's start and end, as the relay saw them). */
  outage(ms: number): Promise<{ from: number; to: number; refused: number }>;
  /** Accepts every request from now for `ms` and answers none of them until then. */
  hang(ms: number): Promise<{ from: number; to: number; held: number }>;
  close(): Promise<void>;
}

export interface TxHoldOptions {
  /** Hold the first transaction that lands (default); false relays every answer at once. */
  holdFirstTransaction?: boolean;
  /** Hold only a transaction that lands while this says so (default: always). */
  armed?: () => boolean;
  /** Answer `status` with this chain_id (an RPC of another chain). */
  chainId?: string;
}

export async function startTxHoldProxy(upstreamUrl: string, options: TxHoldOptions = {}): Promise<TxHoldProxy> {
  const landed: LandedTransaction[] = [];
  const heldResponses: ServerResponse[] = [];
  let heldTransaction: LandedTransaction | undefined;
  let heldAnswer: { res: ServerResponse; status: number; answer: string } | undefined;
  let down = false;
  let refused = 0;
  let hangOver: Promise<void> | undefined;
  let hung = 0;

  const relay = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    if (hangOver) {
      hung++;
      await hangOver;
    }
    if (down) {
      refused++;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('503 Service Unavailable: no healthy upstream');
      return;
    }
    const upstream = await fetch(upstreamUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const method = methodOf(body);
    const answer = withChainId(await upstream.text(), method === 'status' ? options.chainId : undefined);
    const tx = method && SUBMIT_METHODS.has(method) ? landedTransaction(method, answer) : undefined;
    if (tx) landed.push(tx);
    if (tx && !heldTransaction && (options.holdFirstTransaction ?? true) && (options.armed?.() ?? true)) {
      heldTransaction = tx;
      heldAnswer = { res, status: upstream.status, answer };
      heldResponses.push(res);
      return;
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(answer);
  };

  const server = createServer((req, res) => {
    relay(req, res).catch((err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('unexpected server address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get heldTransaction() {
      return heldTransaction;
    },
    landed,
    releaseHeld: () => {
      if (!heldAnswer) return;
      const { res, status, answer } = heldAnswer;
      heldResponses.splice(heldResponses.indexOf(res), 1);
      heldAnswer = undefined;
      heldTransaction = undefined;
      res.writeHead(status, { 'content-type': 'application/json' }).end(answer);
    },
    outage: async (ms) => {
      const from = Date.now();
      const refusedBefore = refused;
      down = true;
      await new Promise((resolve) => setTimeout(resolve, ms));
      down = false;
      return { from, to: Date.now(), refused: refused - refusedBefore };
    },
    hang: async (ms) => {
      const from = Date.now();
      const hungBefore = hung;
      hangOver = new Promise((resolve) => setTimeout(resolve, ms));
      await hangOver;
      hangOver = undefined;
      return { from, to: Date.now(), held: hung - hungBefore };
    },
    close: async () => {
      for (const res of heldResponses) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function withChainId(answer: string, chainId: string | undefined): string {
  if (chainId === undefined) return answer;
  const parsed = JSON.parse(answer) as { result?: { chain_id?: string } };
  if (parsed.result) parsed.result.chain_id = chainId;
  return JSON.stringify(parsed);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function methodOf(body: string): string | undefined {
  try {
    const method = (JSON.parse(body) as { method?: unknown }).method;
    return typeof method === 'string' ? method : undefined;
  } catch {
    return undefined;
  }
}

/** The transaction the node's answer describes, when the node accepted it (an error answer landed nothing). */
function landedTransaction(method: string, answer: string): LandedTransaction | undefined {
  interface Answer {
    result?: {
      transaction?: {
        hash: string;
        signer_id: string;
        receiver_id: string;
        actions: (string | Record<string, { method_name?: string }>)[];
      };
    };
  }
  let parsed: Answer;
  try {
    parsed = JSON.parse(answer) as Answer;
  } catch {
    return undefined;
  }
  const tx = parsed.result?.transaction;
  if (!tx) return undefined;
  return {
    method,
    hash: tx.hash,
    signerId: tx.signer_id,
    receiverId: tx.receiver_id,
    actions: tx.actions.map((a) =>
      typeof a === 'string' ? a : Object.entries(a).map(([kind, v]) => v.method_name ?? kind)[0]!,
    ),
  };
}
