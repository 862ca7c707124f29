import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RequestStore, StoredRequest } from './requests_table.js';
import { validateIngestRow } from './ingest_rows.js';

/** What the next request gets instead of a normal answer. */
export type CollectorFault =
  | { kind: 'status'; status: 413 | 429 | 500 | 502 | 503 | 504; retryAfter?: string }
  /** The connection is cut; with `afterStoring`, once the rows are stored (the answer is lost). */
  | { kind: 'drop_connection'; afterStoring: boolean };

export interface VoiceGatewayCollectorOptions {
  /** Virtual keys that may ingest, each bound to the tenant stamped on its rows. */
  keys: Readonly<Record<string, string>>;
  /** Keys that exist but may not ingest (answered 403). */
  readOnlyKeys?: Readonly<Record<string, string>>;
  store: RequestStore;
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Rows per request before 413. Default 1 000, as voicegateway. */
  maxRows?: number;
}

/** One request as the collector saw it (no key: only the tenant it was bound to). */
export interface IngestRequestRecord {
  status: number | 'dropped';
  tenant: string | undefined;
  rows: number;
  ids: string[];
  /** Epoch ms when the request arrived. */
  at: number;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const BEARER = /^Bearer (vk_[A-Za-z2-7]{32})$/;

/**
 * A local voicegateway collector that answers the way voicegateway's ingest API does:
 * 401/403 for a bad key or scope, 413 over 1 000 rows, 422 for invalid rows (the whole
 * request is refused), 200 `{accepted, duplicates}` otherwise, with `tenant_id` taken from
 * the key and rows keyed by id. Faults (429 with Retry-After, 5xx, a cut connection) can
 * be queued for the next requests, or made permanent with `setDown`.
 */
export class VoiceGatewayCollector {
  /** Every request, in arrival order. */
  readonly requests: IngestRequestRecord[] = [];
  private readonly faults: CollectorFault[] = [];
  private down: CollectorFault | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: VoiceGatewayCollectorOptions,
    readonly url: string,
  ) {}

  static async start(options: VoiceGatewayCollectorOptions): Promise<VoiceGatewayCollector> {
    const handler: { collector?: VoiceGatewayCollector } = {};
    const server = createServer((req, res) => void handler.collector!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    const collector = new VoiceGatewayCollector(server, options, `http://${address.address}:${address.port}`);
    handler.collector = collector;
    server.on('connection', (socket) => {
      collector.sockets.add(socket);
      socket.on('close', () => collector.sockets.delete(socket));
    });
    return collector;
  }

  /** The next requests get these faults, one each, in order. */
  failNext(...faults: CollectorFault[]): void {
    this.faults.push(...faults);
  }

  /** Every request gets this fault until `setDown(undefined)`. */
  setDown(fault: CollectorFault | undefined): void {
    this.down = fault;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const log: IngestRequestRecord = { status: 0, tenant: undefined, rows: 0, ids: [], at: Date.now() };
    this.requests.push(log);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    try {
      if (req.method !== 'POST' || req.url !== '/v1/ingest') return answer(404, { detail: 'not found' });
      const body = await readBody(req);
      if (body === undefined) return answer(413, { detail: `body over ${MAX_BODY_BYTES} bytes` });
      const parsed = parseJson(body);
      if (Array.isArray(parsed)) {
        log.rows = parsed.length;
        log.ids = parsed.map((row) => (typeof row === 'object' && row !== null && typeof (row as { id?: unknown }).id === 'string' ? (row as { id: string }).id : ''));
      }
      const fault = this.faults.shift() ?? this.down;
      if (fault?.kind === 'status') {
        return answer(fault.status, { detail: 'injected fault' }, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter });
      }
      if (fault?.kind === 'drop_connection' && !fault.afterStoring) return this.cut(req, log);

      const key = BEARER.exec(req.headers.authorization ?? '')?.[1];
      const readOnly = key === undefined ? undefined : this.options.readOnlyKeys?.[key];
      const tenant = key === undefined ? undefined : this.options.keys[key];
      if (readOnly !== undefined) return answer(403, { detail: 'this key may not ingest' });
      if (tenant === undefined) return answer(401, { detail: 'unknown or malformed key' });
      log.tenant = tenant;

      if (!Array.isArray(parsed)) return answer(422, { detail: [{ index: null, problem: 'body must be a JSON array of records' }] });
      if (parsed.length > (this.options.maxRows ?? 1_000)) return answer(413, { detail: `at most ${this.options.maxRows ?? 1_000} records per request` });
      const rows: StoredRequest[] = [];
      const problems: { index: number; problem: string }[] = [];
      parsed.forEach((raw, index) => {
        const checked = validateIngestRow(raw, tenant);
        if (typeof checked === 'string') problems.push({ index, problem: checked });
        else rows.push(checked);
      });
      if (problems.length > 0) return answer(422, { detail: problems });
      const result = await this.options.store.insert(rows);
      if (fault?.kind === 'drop_connection') return this.cut(req, log);
      return answer(200, result);
    } catch (error: unknown) {
      return answer(500, { detail: error instanceof Error ? error.message : 'internal error' });
    }
  }

  private cut(req: IncomingMessage, log: IngestRequestRecord): void {
    log.status = 'dropped';
    req.socket.destroy();
  }
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
